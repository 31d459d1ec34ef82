/**
 * Data as web streams (README "Library"), from library programs: a dump, an attach, a tail and a snapshot's
 * data as `ReadableStream<Uint8Array>` (`pipeThrough(new TextDecoderStream())`, `pipeTo`, `for await`), a
 * `WritableStream` as a sink (closed at the end), chunks that stay the caller's own, a consumer that leaves
 * early detaching the reader, and backpressure: a slow consumer slows the read, and the program's memory stays
 * bounded while the recorder offers far more than it takes.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { LIBRARY_PERMISSIONS, runProgram } from "../support/library_program.ts";

const TICKS = 'probe timer.ms(10) { printf("tick %d\\\\n", gettimeofday_ms()) }';

Deno.test("dump, attach, tail and a snapshot's data as web streams; a WritableStream sink; chunks are the caller's", async () => {
  await SimWorld.with(async (world) => {
    const r = await runProgram(
      world,
      "streams",
      `
const recorders = new stapfr.Recorders({ sim: true });
await recorders.start({ name: "s", script: { text: '${TICKS}' } });
await new Promise((r) => setTimeout(r, 1500));

// A dump's stream, decoded as text.
const dump = recorders.dumpStream("s");
let text = "";
for await (const part of dump.readable.pipeThrough(new TextDecoderStream())) text += part;
const dumped = await dump.result;
report({ step: "dumpStream", lines: text.split("\\n").filter((l) => /^tick \\d+$/.test(l)).length, bytes: dumped.bytes, length: new TextEncoder().encode(text).length, outcome: dumped.outcome });

// A WritableStream as the sink: closed at the end; the chunks it got are its own to keep.
await new Promise((r) => setTimeout(r, 500));
const kept: Uint8Array[] = [];
const sums: number[] = [];
let closed = false;
const sum = (c: Uint8Array) => c.reduce((a, b) => (a * 31 + b) >>> 0, 7);
const written = await recorders.dump("s", new WritableStream({
  write(chunk) { kept.push(chunk); sums.push(sum(chunk)); },
  close() { closed = true; },
}));
await new Promise((r) => setTimeout(r, 500)); // the engine goes on reading other data meanwhile
await recorders.dump("s", () => {});
report({ step: "writable", closed, bytes: written.bytes, kept: kept.reduce((n, c) => n + c.length, 0), unchanged: kept.every((c, i) => sum(c) === sums[i]) });

// tail's stream: the last 5 lines.
await new Promise((r) => setTimeout(r, 500));
const tail = recorders.tailStream("s", { lines: 5 });
const tailText = await new Response(tail.readable).text();
report({ step: "tailStream", lines: tailText.split("\\n").filter(Boolean).length, outcome: (await tail.result).outcome });

// attach's stream: leaving the loop cancels it, the reader detaches, the result says closed.
const live = recorders.attachStream("s");
let seen = 0;
for await (const part of live.readable.pipeThrough(new TextDecoderStream())) {
  seen += part.split("\\n").length - 1;
  if (seen >= 20) break;
}
const attached = await live.result;
const after = await recorders.status("s");
report({ step: "attachStream", seen: seen >= 20, closed: attached.closed, outcome: attached.outcome, state: after.state, refcount: after.refcount });

// A snapshot's data, through pipeTo, equals what the function sink gets.
const snap = await recorders.snapshot("s", { reason: "streams" });
const parts: Uint8Array[] = [];
await recorders.snapshotDataStream(snap.manifest.id).readable.pipeTo(new WritableStream({ write(c) { parts.push(c); } }));
const direct: Uint8Array[] = [];
await recorders.snapshotData(snap.manifest.id, (c) => void direct.push(c));
const join = (cs: Uint8Array[]) => new TextDecoder().decode(new Uint8Array(cs.flatMap((c) => [...c])));
report({ step: "snapshotDataStream", same: join(parts) === join(direct), bytes: snap.manifest.bytes, got: join(parts).length });
`,
    );
    assertEquals(r.code, 0, r.stderr);
    const step = (name: string) => r.reports.find((x) => x.step === name)!;
    const d = step("dumpStream");
    assert((d.lines as number) > 50, JSON.stringify(d));
    assertEquals([d.bytes, d.outcome], [d.length, "idle"]);
    const w = step("writable");
    assertEquals([w.closed, w.unchanged, w.kept], [true, true, w.bytes]);
    assertEquals(step("tailStream"), { step: "tailStream", lines: 5, outcome: "idle" });
    assertEquals(step("attachStream"), {
      step: "attachStream",
      seen: true,
      closed: true,
      outcome: "closed",
      state: "recording",
      refcount: 0,
    });
    const s = step("snapshotDataStream");
    assertEquals([s.same, s.got], [true, s.bytes]);
  });
});

Deno.test("a slow consumer slows the read: the program's memory stays bounded while the recorder offers far more", async () => {
  await SimWorld.with(async (world) => {
    // A file recorder whose run holds 48 MiB: a dump offers all of it at once (a file read never waits).
    const out = `${world.work}/out`;
    await world.ok(["start", "big", "-e", 'probe timer.s(3600) { printf("x\\n") }', "--output", out]);
    const runDir = (await world.json<{ run_dir: string }>(["status", "big"])).run_dir;
    const line = "0123456789abcdef".repeat(7) + "\n";
    const block = new TextEncoder().encode(line.repeat(Math.floor((1 << 20) / line.length)));
    using file = await Deno.open(`${runDir}/big.out`, { append: true });
    for (let i = 0; i < 48; i++) await file.write(block);
    const r = await runProgram(
      world,
      "slow",
      `
const recorders = new stapfr.Recorders({ sim: true });
// What the program holds: the V8 heap and the array buffers, after a collection.
const live = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
// Takes about \`rate\` bytes a second.
const slow = (rate: number) => (chunk: Uint8Array) =>
  new Promise<void>((r) => setTimeout(r, (chunk.length / rate) * 1000));
const measure = async (read: () => Promise<{ bytes: number; outcome: string }>) => {
  // Settled first: what the previous read let go of is freed (array buffers go a moment after their objects).
  live();
  await new Promise((r) => setTimeout(r, 200));
  const baseline = live();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, live())), 25);
  try {
    const result = await read();
    return { baseline, peak, bytes: result.bytes, outcome: result.outcome };
  } finally {
    clearInterval(sampler);
  }
};
// Warm up: the code a read loads is loaded before anything is measured.
await recorders.dump("big", new WritableStream({ write: slow(4 << 20) }), { until: AbortSignal.timeout(500) });
const warm = recorders.dumpStream("big", { until: AbortSignal.timeout(500) });
await warm.readable.pipeTo(new WritableStream({ write: slow(4 << 20) }));
// What the recorder offers: everything, to a consumer that takes it at once.
report({ step: "fast", bytes: (await recorders.dump("big", () => {})).bytes });
// A WritableStream that takes 4 MiB a second, for 3 seconds.
report({ step: "writable", ...(await measure(() => recorders.dump("big", new WritableStream({ write: slow(4 << 20) }), { until: AbortSignal.timeout(3000) }))) });
// The same consumer on the read's stream.
report({ step: "stream", ...(await measure(async () => {
  const read = recorders.dumpStream("big", { until: AbortSignal.timeout(3000) });
  await read.readable.pipeTo(new WritableStream({ write: slow(4 << 20) }));
  return await read.result;
})) });
`,
      { permissions: ["--v8-flags=--expose-gc", ...LIBRARY_PERMISSIONS] },
    );
    assertEquals(r.code, 0, r.stderr);
    const offered = r.reports.find((x) => x.step === "fast")!.bytes as number;
    assert(offered >= 45 << 20, `the run holds ${offered} bytes`);
    for (const x of r.reports.filter((x) => x.step !== "fast")) {
      const grew = (x.peak as number) - (x.baseline as number);
      const taken = x.bytes as number;
      // 3 s at 4 MiB/s: a quarter of what was there for the taking.
      assert(
        taken > 0 && taken < offered / 2,
        `${x.step}: the slow consumer took ${taken} of ${offered} bytes`,
      );
      // A few blocks of 1 MiB in flight (the file read, the copy, the queue, the one being consumed): not the run.
      assert(grew < 16 << 20, `${x.step}: the program grew by ${grew} bytes while ${offered} were on offer`);
      assertEquals(x.outcome, "stopped", x.step as string);
    }
  });
});
