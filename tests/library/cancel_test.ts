/**
 * The one cancellation rule (README "Cancellation"), from a library program: for each long operation, a
 * `signal` aborted before the call and one aborted while it runs both reject with `signal.reason` itself, and
 * afterwards the recorder is recording and detached (nothing half made: an interrupted start leaves nothing
 * loaded or registered, an interrupted snapshot nothing in the store, an interrupted stop a recorder still
 * registered); `until`, before or during, resolves with `outcome: "stopped"`.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { runProgram } from "../support/library_program.ts";

const TICKS = 'probe timer.ms(10) { printf("tick %d\\\\n", gettimeofday_ms()) }';

const PROGRAM = `
const recorders = new stapfr.Recorders({ sim: true });
const script = { text: '${TICKS}' };
await recorders.start({ name: "m", script });
await recorders.start({ name: "f", script, output: \`\${Deno.cwd()}/out\` });
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
/** Resolves once \\\`cond\\\` holds (polled), to abort an operation while it runs. */
const when = async (cond: () => Promise<boolean>) => {
  for (let i = 0; i < 3000 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
};
const partial = async () => {
  try {
    for await (const e of Deno.readDir(\`\${recorders.storeDir}/m\`)) if (e.name.startsWith(".partial-")) return true;
  } catch { /* not yet */ }
  return false;
};
/** How the recorder stands afterwards (null: not registered). */
const standing = async (name: string) => {
  const s = await recorders.status(name).catch(() => null);
  return s && { state: s.state, refcount: s.refcount };
};

/**
 * Runs \\\`op\\\` with a signal aborted before the call or by \\\`during\\\` while it runs; reports how it settled.
 */
const check = async (
  op: string,
  run: (signal: AbortSignal, abort: () => void) => Promise<unknown>,
  name = "m",
) => {
  for (const when of ["before", "during"] as const) {
    const controller = new AbortController();
    const reason = new Error(\`\${op} \${when}\`);
    if (when === "before") controller.abort(reason);
    let settled: Record<string, unknown>;
    try {
      await run(controller.signal, () => controller.abort(reason));
      settled = { settled: "resolved", aborted: controller.signal.aborted };
    } catch (err) {
      settled = { settled: "rejected", same: err === reason, ...codeOf(err) };
    }
    report({ op, when, ...settled, after: await standing(name) });
  }
};
/** A sink that aborts on its first chunk: the read is under way. */
const abortOnData = (abort: () => void) => () => abort();

await check("start", async (signal, abort) => {
  const going = recorders.start({ name: "s", script, signal });
  if (!signal.aborted) {
    await when(() => exists(\`\${recorders.stateDir}/build/s\`));
    abort();
  }
  await going;
}, "s");
report({ op: "start", loaded: (await recorders.list()).recorders.map((r) => r.name).sort() });
await check("dump memory", (signal, abort) => recorders.dump("m", abortOnData(abort), { signal }));
await check("dump file", (signal, abort) => recorders.dump("f", abortOnData(abort), { signal }), "f");
await check("attach", (signal, abort) => recorders.attach("m", abortOnData(abort), { signal }));
await check("tail -f", (signal, abort) => recorders.tail("m", abortOnData(abort), { lines: 3, follow: true, signal }));
await check("dumpStream", async (signal, abort) => {
  const read = recorders.dumpStream("m", { signal });
  const reader = read.readable.getReader();
  if (!signal.aborted) {
    await reader.read();
    abort();
  }
  try {
    while (!(await reader.read()).done);
  } catch (err) {
    report({ op: "dumpStream", streamError: err === signal.reason });
  }
  await read.result;
});
await check("stop", (signal, abort) => recorders.stop("m", abortOnData(abort), { signal }));
await check("snapshot", async (signal, abort) => {
  const going = recorders.snapshot("m", { signal });
  if (!signal.aborted) {
    await when(partial);
    abort();
  }
  await going;
});
report({ op: "snapshot", stored: (await recorders.snapshots("m")).snapshots.length });
const taken = await recorders.snapshot("m");
await check("snapshotData", (signal, abort) => recorders.snapshotData(taken.manifest.id, abortOnData(abort), { signal }));
await check("trigger", async (signal, abort) => {
  const going = recorders.trigger("m", { signal });
  if (!signal.aborted) {
    await when(partial);
    abort();
  }
  await going;
});
await check("plan", async (signal, abort) => {
  const going = recorders.plan({ script, windowMs: 60_000, measureMs: 5000, signal });
  setTimeout(abort, 2000);
  await going;
});
await check("build", async (signal, abort) => {
  const going = recorders.build({ name: "b", script, outDir: Deno.cwd(), signal });
  if (!signal.aborted) {
    // While stap compiles: a child of this program runs "sim stap".
    await when(async () => {
      const ps = await new Deno.Command("ps", { args: ["-o", "args=", "--ppid", String(Deno.pid)] }).output();
      return new TextDecoder().decode(ps.stdout).includes(" sim stap ");
    });
    abort();
  }
  await going;
});
report({ op: "build", built: await exists("stap_fr_b.ko") });
await check("watch", async (signal, abort) => {
  const going = recorders.watch({
    name: "m",
    triggers: [{ kind: "signal" }],
    service: true, // a cancelled watcher never stops its recorder, even as a service
    signal,
    onEvent: (e) => e.type === "started" && abort(),
  });
  await going;
});
// Before only: these end within a moment of their call.
for (const [op, run] of [
  ["verifySnapshots", (signal: AbortSignal) => recorders.verifySnapshots([], { signal })],
  ["check", (signal: AbortSignal) => recorders.check(script, { signal })],
] as const) {
  const controller = new AbortController();
  const reason = new Error(op);
  controller.abort(reason);
  const err = await run(controller.signal).then(() => null, (e) => e);
  report({ op, when: "before", settled: err ? "rejected" : "resolved", same: err === reason, after: await standing("m") });
}

// until: resolves with what was read, "stopped", before or during.
for (const [op, read] of [
  ["dump", (until: AbortSignal, sink: () => void) => recorders.dump("m", sink, { until })],
  ["attach", (until: AbortSignal, sink: () => void) => recorders.attach("m", sink, { until })],
  ["tail -f", (until: AbortSignal, sink: () => void) => recorders.tail("m", sink, { lines: 3, follow: true, until })],
] as const) {
  for (const when of ["before", "during"]) {
    const controller = new AbortController();
    if (when === "before") controller.abort();
    const r = await read(controller.signal, () => controller.abort());
    report({ until: op, when, outcome: r.outcome, bytes: r.bytes > 0, after: await standing("m") });
  }
}
`;

Deno.test("signal rejects with its reason before and during every long operation; the recorder is left recording and detached", async () => {
  await SimWorld.with(async (world) => {
    const r = await runProgram(world, "cancel", PROGRAM);
    assertEquals(r.code, 0, r.stderr);
    const checked = r.reports.filter((x) => x.when && x.op);
    const ops = [...new Set(checked.map((x) => x.op))];
    assertEquals(ops, [
      "start",
      "dump memory",
      "dump file",
      "attach",
      "tail -f",
      "dumpStream",
      "stop",
      "snapshot",
      "snapshotData",
      "trigger",
      "plan",
      "build",
      "watch",
      "verifySnapshots",
      "check",
    ]);
    for (const x of checked) {
      const what = `${x.op} (${x.when}): ${JSON.stringify(x)}`;
      assertEquals([x.settled, x.same], ["rejected", true], what);
      const expected = x.op === "start" ? null : x.op === "dump file"
        ? { state: "recording", refcount: 1 } // its stapio daemon holds it
        : { state: "recording", refcount: 0 };
      assertEquals(x.after, expected, what);
    }
    const note = (op: string, key: string) => r.reports.find((x) => x.op === op && key in x)?.[key];
    assertEquals(
      note("start", "loaded"),
      ["f", "m"],
      "an interrupted start left nothing loaded or registered",
    );
    assertEquals(note("snapshot", "stored"), 0, "an interrupted snapshot left nothing in the store");
    assertEquals(note("build", "built"), false, "an interrupted build wrote no module");
    assertEquals(note("dumpStream", "streamError"), true, "the stream errors with the reason too");
    const stopped = r.reports.filter((x) => x.until);
    assertEquals(stopped.length, 6);
    for (const x of stopped) {
      assertEquals([x.outcome, x.after], ["stopped", { state: "recording", refcount: 0 }], JSON.stringify(x));
      assert(x.when === "before" ? !x.bytes : true, JSON.stringify(x));
    }
  });
});
