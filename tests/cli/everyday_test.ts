/**
 * End to end on the simulator: everyday input. Global options after the command (`stapfr list --json`, and its
 * errors as JSON too); words after `--` refused by every command that takes no command or stap arguments, with
 * nothing changed; `plan` checks its durations where they come in and never recommends what `start` refuses.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const SCRIPT = 'probe timer.ms(50) { printf("x\\n") }';
const BUSY = 'probe timer.ms(1) { printf("%0200d\\n", 0) }';

/** `stapfr ARGS…` (no `--sim` added), at most `ms`: a command that should have been refused may run on. */
async function bounded(world: SimWorld, args: string[], ms = 15_000) {
  const child = world.command(args, { detached: true }).spawn();
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* gone */ }
  }, ms);
  const out = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return { code: late ? -1 : out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("global options after the command, as people type them; an error is JSON then too", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    const list = await bounded(world, ["list", "--json", "--sim"]);
    assertEquals(list.code, 0, list.stderr);
    assertEquals(JSON.parse(list.stdout).recorders.map((r: { name: string }) => r.name), ["r1"]);
    const status = await bounded(world, ["--sim", "status", "r1", "--json"]);
    assertEquals(status.code, 0, status.stderr);
    assertEquals(JSON.parse(status.stdout).state, "recording");
    // Another state directory, given after the command: r1's module is nobody's there (an orphan).
    const other = await bounded(world, ["--sim", "list", "--state-dir", `${world.root}/other`, "--json"]);
    assertEquals(JSON.parse(other.stdout).recorders.map((r: { state: string }) => r.state), ["orphan"]);
    const bad = await bounded(world, ["--sim", "list", "--json", "--bogus"]);
    assertEquals(bad.code, 2);
    assertEquals(JSON.parse(bad.stdout).error.message, 'Unknown option "--bogus"');
    assertMatch(bad.stderr, /^stapfr: Unknown option "--bogus"$/m);
    // A flag's value is the command's, even when it is spelled like a global option.
    const reason = await bounded(world, ["--sim", "snapshot", "r1", "--reason=--json"]);
    assertEquals(reason.code, 0, reason.stderr);
    assertEquals(
      (await world.json<{ snapshots: { reason: string }[] }>(["snapshots"])).snapshots[0].reason,
      "--json",
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("words after -- are refused by every command that takes no command, and nothing changes", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    const commands = [
      ["list"],
      ["status", "r1"],
      ["dump", "r1"],
      ["attach", "r1"],
      ["tail", "r1"],
      ["stop", "r1"],
      ["gc"],
      ["snapshot", "r1"],
      ["snapshots"],
      ["trigger", "r1"],
      ["check", "-e", SCRIPT],
      ["completions", "bash"],
    ];
    for (const args of commands) {
      const r = await bounded(world, ["--sim", ...args, "--", "extra"]);
      assertEquals(r.code, 2, `${args.join(" ")} -- extra: ${r.stderr}`);
      assertMatch(r.stderr, /^stapfr: Unexpected argument "extra" after "--"/m);
      assertEquals(r.stdout, "", args.join(" "));
    }
    assertEquals((await world.json<{ state: string }>(["status", "r1"])).state, "recording");
    assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots"])).snapshots, []);
  } finally {
    await world.cleanup();
  }
});

Deno.test("plan checks --window and --measure where they come in, and recommends only what start takes", async () => {
  const world = await SimWorld.create();
  try {
    for (
      const [flags, message] of [
        [["--window", "100000d"], /Invalid "--window" "100000d": expected more than 0 and at most 365d/],
        [["--window", "0"], /Invalid "--window" "0"/],
        [["--window", "1m", "--measure", "2h"], /Invalid "--measure" "2h": expected 500ms to 1h/],
      ] as [string[], RegExp][]
    ) {
      const r = await bounded(world, ["--sim", "plan", "-e", SCRIPT, ...flags]);
      assertEquals(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, message);
    }
    // A year of a busy script: no ring start takes holds it, so none is recommended.
    const plan = await world.json<
      { buffer: { bytes: number } | null; rotate: { size: number; count: number } | null }
    >(
      ["plan", "-e", BUSY, "--window", "365d", "--measure", "1s"],
    );
    assertEquals(plan.buffer, null, "a ring larger than 4095M per CPU");
    if (plan.rotate) assert(plan.rotate.size <= 4095 * 1024 * 1024 && plan.rotate.count <= 100_000);
    const human = await world.ok(["plan", "-e", BUSY, "--window", "365d", "--measure", "1s"]);
    assertMatch(human, /^Memory recorder: no ring is big enough for this window; use a file recorder$/m);
  } finally {
    await world.cleanup();
  }
});
