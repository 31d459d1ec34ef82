/**
 * End to end on the simulator: the watcher and the service under hostile input and faults (docs/watch.md,
 * docs/service.md). A health check's command ends where the line ends and an option after it is refused; a
 * pattern cannot blind the watcher (RE2); the log trigger follows no planted link, opens no FIFO and keeps only
 * what matched; a hung or leaky health check dies with its process group and never holds the stop; durations
 * and counts are bounded; a service stop waits (bounded) for another reader and fails loudly when it cannot
 * stop; `unit` refuses what `start` would; a watcher whose recorder was stopped says so; a `.watch` record
 * without a start time is not trusted.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { killAndWait } from "../support/processes.ts";
import { output } from "../support/readers.ts";

const TICKS = 'probe timer.ms(20) { printf("tick %d\\n", gettimeofday_ms()) }';

/** A running `stapfr watch` (its own process group), its log lines collected as they come. */
class Watcher {
  readonly child: Deno.ChildProcess;
  stderr = "";
  stdout = "";
  readonly #pumps: Promise<void>[];
  constructor(world: SimWorld, args: string[]) {
    this.child = world.spawn(["watch", ...args]);
    const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
      const d = new TextDecoder();
      for await (const c of s) add(d.decode(c, { stream: true }));
    };
    this.#pumps = [
      pump(this.child.stderr, (t) => (this.stderr += t)),
      pump(this.child.stdout, (t) => (this.stdout += t)),
    ];
  }
  async saw(re: RegExp): Promise<string> {
    try {
      return await until(`log line ${re}`, () => re.exec(this.stderr)?.[0]);
    } catch (err) {
      throw new Error(`${(err as Error).message} in:\n${this.stderr}`);
    }
  }
  /** Sends `signal` and waits for the exit, at most `ms` (then SIGKILLs it and fails). */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 30_000): Promise<{ code: number; ms: number }> {
    const t0 = Date.now();
    try {
      Deno.kill(this.child.pid, signal);
    } catch { /* gone */ }
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      try {
        Deno.kill(-this.child.pid, "SIGKILL");
      } catch { /* gone */ }
    }, ms);
    const status = await this.child.status;
    clearTimeout(timer);
    await Promise.all(this.#pumps);
    assert(!late, `the watcher did not exit within ${ms} ms of ${signal}:\n${this.stderr}`);
    return { code: status.code, ms: Date.now() - t0 };
  }
}

/** Runs `stapfr --sim ARGS…`, at most `ms` (a command that should have been refused would run on). */
async function runBounded(world: SimWorld, args: string[], ms = 10_000) {
  const child = world.command(["--sim", ...args], { detached: true }).spawn();
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

async function snapshots(world: SimWorld, name = "r") {
  return (await world.json<{ snapshots: { id: string; reason: string | null; trigger: string }[] }>(
    ["snapshots", name],
  )).snapshots;
}

/** The pids of processes whose command line is exactly `args` (a marker no other process has). */
async function pidsOf(args: string): Promise<number[]> {
  return (await output(["ps", "-e", "-o", "pid=,args="])).split("\n")
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[2].trim() === args)
    .map((m) => Number(m[1]));
}

async function withRecorder(fn: (world: SimWorld) => Promise<void>, env: Record<string, string> = {}) {
  const world = await SimWorld.create(env);
  try {
    await world.ok(["start", "r", "-e", TICKS]);
    await fn(world);
  } finally {
    await world.cleanup();
  }
}

Deno.test("a health check's command ends the line: the README's old form is refused, the policies apply", async () => {
  await withRecorder(async (world) => {
    // The form the README once showed: the policies after "--" went to the check, and did nothing.
    const old = await runBounded(world, [
      "watch",
      "r",
      "--on",
      "signal",
      "--on",
      "exit-status",
      "--interval",
      "1s",
      "--",
      "false",
      "--cooldown",
      "10m",
      "--max-per-day",
      "12",
      "--delay",
      "2s",
    ]);
    assertEquals(old.code, 2, old.stderr);
    assertMatch(old.stderr, /^stapfr: "--cooldown" after "--" is one of watch's options/m);
    assertEquals(await snapshots(world), [], "nothing ran");
    const w = new Watcher(world, [
      "r",
      "--on",
      "signal",
      "--on",
      "exit-status",
      "--interval",
      "1s",
      "--cooldown",
      "10m",
      "--max-per-day",
      "12",
      "--delay",
      "2s",
      "--",
      "false",
    ]);
    try {
      await w.saw(/ exit-status -- false fired: snapshot in 2s /);
      await w.saw(/ exit-status -- false snapshot \d{8}T/);
      assertMatch(await world.ok(["trigger", "r"]), /suppressed by cooldown until /);
    } finally {
      assertEquals((await w.stop()).code, 0);
    }
  });
});

Deno.test("a pattern cannot blind the watcher: RE2 matches in linear time, SIGTERM is heard", async () => {
  await withRecorder(async (world) => {
    const log = `${world.root}/app.log`;
    await Deno.writeTextFile(log, "");
    const w = new Watcher(world, ["r", "--on", "log", log, "(a+)+$", "--on", "signal"]);
    try {
      await w.saw(/ watch started /);
      // 2^41 ways to fail for a backtracking engine; then a line that matches.
      await Deno.writeTextFile(log, `${"a".repeat(41)}!\n${"a".repeat(5000)}!\naaaa\n`, { append: true });
      await w.saw(/ log .* snapshot \d{8}T\S+ \(match: aaaa\)/);
      assertMatch(await world.ok(["trigger", "r"]), /: fired: snapshot now/);
    } finally {
      const { code, ms } = await w.stop("SIGTERM", 15_000);
      assertEquals(code, 0, w.stderr);
      assert(ms < 10_000, `took ${ms} ms to stop`);
    }
    // A pattern RE2 cannot take is refused with its reason (JavaScript's lookaround, backreferences).
    const bad = await runBounded(world, ["watch", "r", "--on", "log", log, "(a)\\1"]);
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(bad.stderr, /Invalid regular expression "\(a\)\\1" for "--on log": .*RE2 syntax/);
  });
});

Deno.test("the log trigger follows no planted link, opens no FIFO, keeps only what matched", async () => {
  await withRecorder(async (world) => {
    const dir = `${world.root}/logs`;
    const log = `${dir}/app.log`;
    const secret = `${world.root}/secret`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(secret, "ERROR root-only secret-token\n", { mode: 0o600 });
    await Deno.writeTextFile(log, "");
    const w = new Watcher(world, ["r", "--on", "log", log, "ERROR \\w+"]);
    try {
      await w.saw(/ watch started /);
      await Deno.writeTextFile(log, "ERROR disk full; password=hunter2\n", { append: true });
      await w.saw(/ log .* snapshot \d{8}T\S+ \(match: ERROR disk\)/);
      // The application's user replaces its log with a link to a file only root may read.
      await Deno.remove(log);
      await Deno.symlink(secret, log);
      await w.saw(/ log .* problem \(cannot read ".*app\.log" is a symbolic link, which is not followed/);
      // And with a FIFO, whose open would block.
      await Deno.remove(log);
      const mk = await new Deno.Command("mkfifo", { args: [log] }).output();
      assertEquals(mk.code, 0);
      await w.saw(/ log .* problem \(cannot read ".*app\.log" is not a regular file/);
    } finally {
      const { code, ms } = await w.stop("SIGTERM", 15_000);
      assertEquals(code, 0, w.stderr);
      assert(ms < 10_000, `took ${ms} ms to stop`);
    }
    assert(!w.stderr.includes("secret-token") && !w.stderr.includes("hunter2"), w.stderr);
    const listing = await world.ok(["snapshots", "r"]);
    assert(!listing.includes("secret-token") && !listing.includes("hunter2"), listing);
    assertEquals((await snapshots(world)).map((s) => s.reason), ["log: match: ERROR disk"]);

    // A FIFO already there when the watcher starts: refused, and SIGTERM is not held by it.
    const fifo = new Watcher(world, ["r", "--on", "log", log, "ERROR"]);
    await fifo.saw(/ watch started /);
    const { code, ms } = await fifo.stop("SIGTERM", 15_000);
    assertEquals(code, 0, fifo.stderr);
    assert(ms < 10_000, `took ${ms} ms to stop`);
  });
});

Deno.test("a hung or leaky health check dies with its process group and never holds the stop", async () => {
  await withRecorder(async (world) => {
    // Markers no other process has: each sleep's argument.
    const hung = "sleep 1001.25";
    const leaked = "sleep 1002.25";
    try {
      const w = new Watcher(world, [
        "r",
        "--on",
        "exit-status",
        "--interval",
        "500ms",
        "--",
        "sh",
        "-c",
        `${leaked} & exit 0`,
      ]);
      try {
        await w.saw(/ watch started /);
        // About time itself: several intervals, each leaving a child behind unless its group is killed.
        await new Promise((r) => setTimeout(r, 3000));
        assertEquals(await pidsOf(leaked), [], "children of finished checks were left running");
      } finally {
        assertEquals((await w.stop()).code, 0, w.stderr);
      }
      const slow = new Watcher(world, [
        "r",
        "--service",
        "--on",
        "exit-status",
        "--interval",
        "60s",
        "--",
        "sh",
        "-c",
        `${hung} & ${hung}`,
      ]);
      await slow.saw(/ watch started /);
      await until("the check to run", async () => (await pidsOf(hung)).length === 2);
      const { code, ms } = await slow.stop("SIGTERM", 40_000);
      assertEquals(code, 0, slow.stderr);
      assert(ms < 20_000, `a hung check held the service stop for ${ms} ms`);
      assertMatch(slow.stderr, / service snapshot \d{8}T/);
      assertMatch(slow.stderr, / watch stopped the recorder /);
      assertEquals(await pidsOf(hung), [], "the hung check and its child were killed");
    } finally {
      await killAndWait([...await pidsOf(hung), ...await pidsOf(leaked)]);
    }
  });
});

Deno.test("every duration and count is bounded: what a timer cannot hold, and --max-per-day 0, are refused", async () => {
  await withRecorder(async (world) => {
    const cases: [string[], RegExp][] = [
      [["--switch-every", "25d"], /Invalid "--switch-every" "25d": expected 1s to 24d/],
      [["--interval", "25d", "--on", "signal"], /Invalid "--interval" "25d"/],
      [["--on", "signal", "--delay", "25d"], /Invalid "--delay" "25d"/],
      [["--on", "signal", "--hold", "25d"], /Invalid "--hold" "25d"/],
      [["--on", "signal", "--cooldown", "400d"], /Invalid "--cooldown" "400d": expected 0ms to 365d/],
      [["--on", "signal", "--max-per-day", "0"], /Invalid "--max-per-day" "0": .*leave it out for no limit/],
      [["--on", "exit-status", "--interval", "25d", "--", "true"], /Invalid "--on exit-status --interval"/],
      [["--on", "process", "0"], /Invalid process "0" for "--on process"/],
      [["--on", "process", "-1"], /Invalid process "-1" for "--on process"/],
      [["--on", "process", "a_command_name_too_long"], /at most 15 characters/],
    ];
    for (const [args, message] of cases) {
      const r = await runBounded(world, ["watch", "r", ...args]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, message);
      assertEquals(r.stderr.split("\n").filter((l) => l.startsWith("stapfr:")).length, 1, r.stderr);
    }
    assertEquals(await snapshots(world), [], "nothing fired");
    // The durations of the snapshot window and the file switch are as the README says: all fine at 24d.
    const ok = new Watcher(world, ["r", "--on", "signal", "--delay", "24d", "--cooldown", "365d"]);
    await ok.saw(/ watch started /);
    assertMatch(await world.ok(["trigger", "r"]), /fired: snapshot in 2073600s/);
    assertEquals((await ok.stop()).code, 0);
    assertEquals(await snapshots(world), [], "the delayed snapshot was dropped, not taken at once");
  });
});

Deno.test("a service stop waits for another reader, and exits 1 when it cannot stop the recorder", async () => {
  await withRecorder(async (world) => {
    // A dump holds the reader slot for a few seconds when SIGTERM comes.
    const w = new Watcher(world, ["r", "--service"]);
    await w.saw(/ watch started /);
    const dump = world.command(["--sim", "dump", "r"], { env: { STAPFR_IDLE_MS: "4000" } }).spawn();
    await until("the dump to attach", async () => (await world.modules()).stap_fr_r === 1);
    const stopped = await w.stop("SIGTERM", 60_000);
    const dumped = await dump.output();
    assertEquals(dumped.code, 0, new TextDecoder().decode(dumped.stderr));
    assertEquals(stopped.code, 0, w.stderr);
    assertMatch(w.stderr, / service snapshot \d{8}T/);
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, [], "stopped");

    // A reader stapfr did not start never lets go: the stop fails, says so, and exits 1.
    await world.ok(["start", "r", "-e", TICKS]);
    const s = new Watcher(world, ["r", "--service"]);
    await s.saw(/ watch started /);
    const manual = world.running(["staprun", "-A", "stap_fr_r"]);
    try {
      await until("the manual reader", async () => (await world.modules()).stap_fr_r === 1);
      const failed = await s.stop("SIGTERM", 90_000);
      assertEquals(failed.code, 1, s.stderr);
      assertMatch(s.stderr, /^stapfr: The service stop of "r" failed: .*recorder "r" is still recording/m);
      assertEquals((await world.json<{ state: string }>(["status", "r"])).state, "attached");
    } finally {
      manual.kill("SIGQUIT");
      await manual.done();
    }
  });
});

Deno.test("unit refuses the start line start would refuse, and an option after the health check's --", async () => {
  const world = await SimWorld.create();
  try {
    for (
      const [args, message] of [
        [["-e", ""], /Missing value for "--script"/],
        [["-e", "-x"], /Missing value for "--script" \("-x" is an option/],
        [["-e", TICKS, "--keep-snapshots", "x"], /Invalid "--keep-snapshots"/],
        [
          ["-e", TICKS, "--on", "exit-status", "--", "curl", "http://127.0.0.1/", "--cooldown", "10m"],
          /"--cooldown" after "--" is one of watch's options/,
        ],
        [["-e", TICKS, "--on", "exit-status", "--", "curl", "--buffer", "4M"], /"--buffer" after "--"/],
      ] as [string[], RegExp][]
    ) {
      const r = await world.run(["unit", "r", ...args]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertMatch(r.stderr, message);
      assertEquals(r.stdout, "", "no unit printed");
    }
    // A prebuilt module gets start's checks: one built for another kernel would fail at every boot.
    await world.ok(["build", "r", "-e", TICKS, "--kernel", "6.12.9-other", "--out-dir", world.root]);
    const other = await world.run(["unit", "r", "--module", `${world.root}/stap_fr_r.ko`]);
    assertEquals(other.code, 1, other.stderr);
    assertMatch(other.stderr, /was built for kernel "6\.12\.9-other", but this machine runs/);
    assertEquals(other.stdout, "", "no unit printed");
  } finally {
    await world.cleanup();
  }
});

Deno.test("a watcher whose recorder was stopped says so and exits 1", async () => {
  await withRecorder(async (world) => {
    const w = new Watcher(world, ["r", "--on", "signal"]);
    await w.saw(/ watch started /);
    await world.ok(["stop", "r"]);
    const status = await w.child.status;
    await w.stop();
    assertEquals(status.code, 1, w.stderr);
    assertMatch(w.stderr, / watch recorder ended \(recorder "r" was stopped\)/);
    assertMatch(w.stderr, /^stapfr: The watcher of "r" stopped: recorder "r" was stopped$/m);
    assert(!w.stderr.includes("No recorder named"), w.stderr);
  });
});

Deno.test("a .watch record without a start time is not trusted: trigger snapshots, a watcher may start", async () => {
  await withRecorder(async (world) => {
    const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      await Deno.writeTextFile(
        `${world.stateDir}/r.watch`,
        JSON.stringify({
          pid: sleeper.pid,
          started_at: new Date().toISOString(),
          triggers: ["signal"],
          fired: 0,
          snapshots: 0,
          failed: 0,
          suppressed: {},
          last: null,
        }),
        { mode: 0o600 },
      );
      const t = await world.run(["trigger", "r", "--reason", "by hand"]);
      assertEquals(t.code, 0, t.stderr);
      assertMatch(t.stdout, /^\d{8}T\d{6}Z-\d{3} /);
      assertEquals((await snapshots(world)).map((s) => s.trigger), ["user"]);
      assertEquals((await world.json<{ watcher: unknown }>(["status", "r"])).watcher, null);
      const w = new Watcher(world, ["r", "--on", "signal"]);
      await w.saw(/ watch started /);
      assertStringIncludes(await world.ok(["trigger", "r"]), `(pid ${w.child.pid})`);
      assertEquals((await w.stop()).code, 0);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
    }
  });
});
