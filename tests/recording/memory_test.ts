/**
 * End to end on the simulator, memory mode: start, list, status, dump (twice, never repeating data; into a
 * closed pipe; into a file), attach with Ctrl-C, tail, stop with the end-probe output.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readAll, readUntil, SimWorld } from "../support/sim_world.ts";
import { sleep, until } from "../support/poll.ts";

// Each line is unique and numbered, so repeats and gaps are visible.
const SCRIPT = `global n
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
probe end { printf("end after %d\\n", n) }
`;

// The same with 20 ticks printed at once by the begin probe, so the ring holds lines from the start.
const PRIMED = `global n
probe begin { while (n < 20) { n++; printf("tick %d\\n", n) } }
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
`;

/** Reads what is left of a stream, as a terminal would. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  while (!(await reader.read()).done);
}

function ticks(text: string): number[] {
  return [...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
}

Deno.test("memory recorder: start, list, status, dump twice, dump to a file, stop", async () => {
  const world = await SimWorld.create();
  try {
    const started = await world.json(["start", "mem", "-e", SCRIPT, "--buffer", "1M"]);
    assertEquals([started.name, started.mode, started.state, started.module], [
      "mem",
      "memory",
      "recording",
      "stap_fr_mem",
    ]);
    assertEquals(started.buffer_per_cpu, 1024 * 1024);

    const list = await world.json<{ recorders: Record<string, unknown>[] }>(["list"]);
    assertEquals(list.recorders.length, 1);
    const row = list.recorders[0];
    for (const key of ["name", "mode", "state", "module", "pid", "started_at", "bytes"]) {
      assert(key in row, key);
    }
    assertEquals([row.state, row.pid, row.bytes], ["recording", null, null]);
    assertMatch(
      await world.ok(["list"]),
      /^NAME\s+MODE\s+STATE\s+MODULE\s+PID\s+AGE\s+BYTES\nmem\s+memory\s+recording\s+stap_fr_mem\s+-/,
    );

    const status = await world.json(["status", "mem"]);
    assertEquals([status.cpus, status.capacity, status.refcount], [2, 2 * 1024 * 1024, 0]);

    const first = ticks(await world.ok(["dump", "mem"]));
    const second = ticks(await world.ok(["dump", "mem"]));
    assert(first.length > 0 && second.length > 0, `dumps: ${first.length}, ${second.length}`);
    // Two dumps never repeat data: the second starts after the first ended.
    assert(second[0] > first[first.length - 1], `${first.at(-1)} then ${second[0]}`);
    assertEquals(new Set([...first, ...second]).size, first.length + second.length);
    assertEquals((await world.modules())["stap_fr_mem"], 0, "detached after each dump");

    const file = `${world.root}/dump.txt`;
    assertMatch(await world.ok(["dump", "mem", "-o", file]), /Wrote \d+ bytes/);
    assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
    const third = ticks(await Deno.readTextFile(file));
    assert(third[0] > second[second.length - 1]);
    const again = await world.run(["dump", "mem", "-o", file]);
    assertEquals(again.code, 1);
    assertMatch(again.stderr, /already exists/);

    const stop = await world.run(["stop", "mem"]);
    assertEquals(stop.code, 0, stop.stderr);
    assertMatch(stop.stdout, /^end after \d+$/m);
    assertMatch(stop.stderr, /Recorder "mem" stopped/);
    assertEquals((await world.modules())["stap_fr_mem"], undefined);
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, []);
  } finally {
    await world.cleanup();
  }
});

Deno.test("memory recorder: a closed pipe and Ctrl-C during attach detach, never unload", async () => {
  const world = await SimWorld.create();
  try {
    // The begin probe alone buffers 164 KB, more than a pipe holds (64 KB), so the dump below is still
    // writing when its reader goes away.
    await world.ok([
      "start",
      "pipe",
      "-e",
      'probe begin { for (i = 0; i < 4000; i++) printf("%06d x0123456789abcdef0123456789abcdef\\n", i) }\n' +
      'probe timer.ms(1) { printf("%s\\n", "x0123456789abcdef0123456789abcdef") }',
    ]);

    await (async () => {
      // dump | head -1: read one chunk, close our end.
      const child = world.spawn(["dump", "pipe"]);
      const { reader } = await readUntil(child.stdout, (t) => t.length > 0);
      await reader.cancel();
      const stderr = await readAll(child.stderr);
      const status = await child.status;
      assertEquals(status.code, 0, stderr);
      assertEquals(stderr, "");
    })();
    assertEquals((await world.json(["status", "pipe"])).state, "recording");

    const attach = world.spawn(["attach", "pipe"]);
    const { reader } = await readUntil(attach.stdout, (t) => t.split("\n").length > 3);
    // Read on, as a terminal does: what the begin probe buffered is more than the pipe holds.
    const rest = drain(reader);
    assertEquals((await world.modules())["stap_fr_pipe"], 1, "attached");
    // What a terminal's Ctrl-C does: SIGINT to the foreground process group (stapfr's; stapio has its own).
    Deno.kill(-attach.pid, "SIGINT");
    const [status, stderr] = await Promise.all([attach.status, readAll(attach.stderr), rest]);
    assertEquals(status.code, 0, stderr);
    assertMatch(stderr, /Detached from "pipe"; it keeps recording/);
    const after = await world.json(["status", "pipe"]);
    assertEquals([after.state, after.refcount], ["recording", 0]);

    // A second Ctrl-C makes stapfr exit at once (130); stapio must still be detached, not left hanging.
    const impatient = world.spawn(["attach", "pipe"]);
    const second = await readUntil(impatient.stdout, (t) => t.length > 0);
    const secondRest = drain(second.reader);
    Deno.kill(-impatient.pid, "SIGINT");
    // Two Ctrl-Cs 5 ms apart: the test is about the second one coming while the first is being handled.
    await sleep(5);
    Deno.kill(-impatient.pid, "SIGINT");
    const [code] = await Promise.all([
      impatient.status.then((s) => s.code),
      readAll(impatient.stderr),
      secondRest,
    ]);
    assert(code === 0 || code === 130, `exit ${code}`);
    await until("the reader to detach", async () => (await world.modules())["stap_fr_pipe"] === 0);
    assertEquals((await world.json(["status", "pipe"])).state, "recording");
  } finally {
    await world.cleanup();
  }
});

Deno.test("memory recorder: tail -n prints the last lines of the drained ring", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "tl", "-e", PRIMED]);
    const out = await world.ok(["tail", "tl", "-n", "3"]);
    const lines = ticks(out);
    assertEquals(lines.length, 3);
    assertEquals(lines[2] - lines[0], 2);
    const json = await world.json<{ lines: string[] }>(["tail", "tl", "-n", "2"]);
    assertEquals(json.lines.length, 2);
    assertMatch(json.lines[1], /^tick \d+$/);
  } finally {
    await world.cleanup();
  }
});
