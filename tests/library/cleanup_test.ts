/**
 * Cleanup and concurrency in library programs (README "Cancellation", "Library"): `await using` detaches a read
 * (and stops a recorder started with `stopOnDispose`) on an exception path, so that the program dies with
 * nothing attached; Ctrl-C wired to an `AbortController` as the README shows detaches before the program ends,
 * where an unwired program leaves a stray reader behind; two reads of one recorder in one program take turns;
 * a recorder being started is no orphan in a listing.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { RunningProgram, runProgram } from "../support/library_program.ts";

const TICKS = 'probe timer.ms(10) { printf("tick %d\\\\n", gettimeofday_ms()) }';

/** The recorders as `stapfr list --json` shows them (from outside the program). */
async function listed(world: SimWorld): Promise<{ name: string; state: string; reader?: unknown }[]> {
  return (await world.json<{ recorders: { name: string; state: string; reader?: unknown }[] }>(["list"]))
    .recorders;
}

Deno.test("await using on an exception path: the read detaches and the recorder stops before the program dies", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "kept", "-e", TICKS.replaceAll("\\\\", "\\")]);
    const r = await runProgram(
      world,
      "throws",
      `
const recorders = new stapfr.Recorders({ sim: true });
await using temporary = await recorders.start({ name: "temp", script: { text: '${TICKS}' }, stopOnDispose: true });
await using live = recorders.attachStream("kept");
const reader = live.readable.getReader();
await reader.read();
report({ attached: (await recorders.status("kept")).state, temporary: temporary.state });
throw new Error("boom");
`,
    );
    assertEquals(r.code, 1, "the program died of its exception");
    assertMatch(r.stderr, /boom/);
    assertEquals(r.reports[0], { attached: "attached", temporary: "recording" });
    // Nothing attached, no stray, and the temporary recorder is gone: from outside, after the program.
    assertEquals((await listed(world)).map((x) => [x.name, x.state]), [["kept", "recording"]]);
    assertEquals((await world.modules())["stap_fr_kept"], 0);
    assertEquals((await world.modules())["stap_fr_temp"], undefined);
  });
});

Deno.test("Ctrl-C wired to an AbortController (README) detaches first; unwired, it leaves a stray reader", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "r", "-e", TICKS.replaceAll("\\\\", "\\")]);
    for (const wired of [true, false]) {
      const program = await RunningProgram.start(
        world,
        wired ? "wired" : "unwired",
        `
const recorders = new stapfr.Recorders({ sim: true });
const controller = new AbortController();
${wired ? 'Deno.addSignalListener("SIGINT", () => controller.abort(new stapfr.Interrupted("SIGINT")));' : ""}
try {
  await recorders.attach("r", (chunk) => void (chunk.length && report({ reading: true })), { signal: controller.signal });
} catch (err) {
  report({ ended: codeOf(err).code });
}
`,
        { detached: true },
      );
      try {
        await until("the program to read", () => program.reports.some((x) => x.reading));
        // What a terminal's Ctrl-C does: SIGINT to the foreground process group (stapio has its own).
        Deno.kill(-program.child.pid, "SIGINT");
        const end = await program.done();
        const after = await listed(world);
        if (wired) {
          assertEquals(end.code, 0, end.stderr);
          assert(
            end.reports.some((x) => x.ended === "interrupted"),
            "the attach rejected with the interrupt",
          );
          assertEquals(after.map((x) => x.state), ["recording"]);
          assertEquals((await world.modules())["stap_fr_r"], 0, "detached");
        } else {
          assertEquals(end.signal, "SIGINT", "killed by the signal it did not handle");
          assertEquals(after.map((x) => x.state), ["stray"], "its reader was left behind");
          await world.ok(["gc"]); // which ends the stray
          assertEquals((await listed(world)).map((x) => x.state), ["recording"]);
        }
      } finally {
        await program.stop();
      }
    }
  });
});

Deno.test("two reads of one recorder in one program take turns; a recorder being started is not an orphan", async () => {
  await SimWorld.with(async (world) => {
    const r = await runProgram(
      world,
      "concurrent",
      `
const recorders = new stapfr.Recorders({ sim: true });
const script = { text: '${TICKS}' };
const starting = recorders.start({ name: "new", script });
const seen = new Set<string>();
let done = false;
starting.finally(() => (done = true));
while (!done) {
  for (const r of (await recorders.list()).recorders) seen.add(\`\${r.name}:\${r.state}\`);
}
await starting;
await new Promise((r) => setTimeout(r, 500));
const dumps = await Promise.allSettled([recorders.dump("new", () => {}), recorders.dump("new", () => {}), recorders.snapshot("new")]);
report({ seen: [...seen], dumps: dumps.map((d) => d.status === "fulfilled" ? "ok" : codeOf(d.reason).message) });
`,
    );
    assertEquals(r.code, 0, r.stderr);
    const { seen, dumps } = r.reports[0] as { seen: string[]; dumps: string[] };
    assert(!seen.some((s) => s.endsWith(":orphan")), `listed while starting: ${seen}`);
    assertEquals(dumps, ["ok", "ok", "ok"]);
  });
});
