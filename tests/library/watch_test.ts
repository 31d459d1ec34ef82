/**
 * The watcher in a library program (README "Library"): every decision, snapshot, problem and end comes as a
 * structured event (`onEvent`), and each log line (`log`) is the line `eventLine` makes of one of them, as
 * `stapfr watch` prints it; a log trigger takes its pattern as RE2 text.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { runProgram } from "../support/library_program.ts";

Deno.test("watch reports structured events, and its log lines are made from them", async () => {
  await SimWorld.with(async (world) => {
    const r = await runProgram(
      world,
      "events",
      `
const recorders = new stapfr.Recorders({ sim: true });
await recorders.start({ name: "w", script: { text: 'probe timer.ms(10) { printf("tick\\\\n") }' } });
const log = \`\${Deno.cwd()}/app.log\`;
await Deno.writeTextFile(log, "");
const events: stapfr.WatchEvent[] = [];
const lines: string[] = [];
const stop = new AbortController();
const snapshot = Promise.withResolvers<void>();
const started = Promise.withResolvers<void>();
const watching = recorders.watch({
  name: "w",
  triggers: [{ kind: "signal" }, { kind: "log", file: log, pattern: "ERROR (\\\\w+)" }],
  policies: { cooldownMs: 3_600_000 },
  until: stop.signal,
  pollMs: 100,
  onEvent: (e) => {
    events.push(e);
    if (e.type === "started") started.resolve();
    if (e.type === "snapshot") snapshot.resolve();
  },
  log: (line) => lines.push(line),
});
await started.promise;
await Deno.writeTextFile(log, "12:00 ERROR disk\\n", { append: true });
await snapshot.promise;
await recorders.trigger("w", { reason: "by hand" });
stop.abort();
const result = await watching;
// A snapshot that fails (a store others could write) is an event too, with its code.
await Deno.mkdir("open", { mode: 0o777 });
await Deno.chmod("open", 0o777);
const failing: stapfr.WatchEvent[] = [];
const failed = Promise.withResolvers<void>();
const unsafe = new stapfr.Recorders({ sim: true, store: \`\${Deno.cwd()}/open\` });
const stop2 = new AbortController();
const watching2 = unsafe.watch({
  name: "w",
  triggers: [{ kind: "signal" }],
  until: stop2.signal,
  onEvent: (e) => {
    failing.push(e);
    if (e.type === "snapshot_failed") failed.resolve();
  },
});
while (!failing.some((e) => e.type === "started")) await new Promise((r) => setTimeout(r, 20));
await unsafe.trigger("w");
await failed.promise;
stop2.abort();
await watching2;
report({ events, lines, made: events.map((e) => stapfr.eventLine(e)).filter((l) => l !== undefined), result, failing });
`,
    );
    assertEquals(r.code, 0, r.stderr);
    const { events, lines, made, result } = r.reports[0] as {
      events: Record<string, unknown>[];
      lines: string[];
      made: string[];
      result: { snapshots: string[]; suppressed: Record<string, number> };
    };
    assertEquals(lines, made, "each log line is an event's line");
    const types = events.map((e) => e.type);
    assertEquals(types[0], "started");
    assertEquals(types.at(-1), "exited");
    const fired = events.find((e) => e.type === "fired")!;
    assertEquals([fired.trigger, fired.detail], [
      `log ${world.work}/app.log ERROR (\\w+)`,
      "match: ERROR disk",
    ]);
    const taken = events.find((e) => e.type === "snapshot")!;
    assertEquals(taken.id, result.snapshots[0]);
    assert(String(taken.path).endsWith(`/w/${taken.id}`));
    const suppressed = events.find((e) => e.type === "suppressed")!;
    assertEquals([suppressed.trigger, suppressed.by, suppressed.detail], ["signal", "cooldown", "by hand"]);
    assert(!Number.isNaN(Date.parse(suppressed.until as string)), "until is a time");
    assertEquals(result.suppressed.cooldown, 1);
    const failure = (r.reports[0].failing as Record<string, unknown>[]).find((e) =>
      e.type === "snapshot_failed"
    )!;
    assertEquals([failure.trigger, failure.code], ["signal", "unsafe_path"]);
    for (const e of events) assert(!Number.isNaN(Date.parse(e.at as string)), `${e.type} has its time`);
  });
});
