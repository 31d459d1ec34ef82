/**
 * End to end on the simulator: `stapfr watch` with every trigger and every policy, `stapfr trigger` with and
 * without a watcher, SIGTERM during a snapshot, and service mode (docs/watch.md).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICKS = `global n
probe timer.ms(20) { n++; printf("tick %d %d\\n", n, gettimeofday_ms()); if (n % 25 == 0) printf("MARK %d\\n", n) }
`;

interface Snap {
  id: string;
  reason: string | null;
  trigger: string;
  path: string;
}

/** A running `stapfr watch` whose log lines are collected as they come. */
class Watcher {
  readonly child: Deno.ChildProcess;
  lines: string[] = [];
  #pump: Promise<void>;
  constructor(world: SimWorld, args: string[]) {
    const child = world.spawn(["watch", ...args]);
    this.child = child;
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of child.stderr) {
        const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = parts.pop()!;
        this.lines.push(...parts);
      }
    })();
  }
  /** Waits for the n-th log line matching `re`. */
  async saw(re: RegExp, n = 1): Promise<string> {
    try {
      return await until(`log line ${re} #${n}`, () => {
        const hits = this.lines.filter((l) => re.test(l));
        return hits.length >= n ? hits[n - 1] : undefined;
      });
    } catch (err) {
      throw new Error(`${(err as Error).message} in:\n${this.lines.join("\n")}`);
    }
  }
  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
  }
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    const status = await this.child.status;
    await this.#pump;
    await this.child.stdout.cancel();
    return status;
  }
}

async function snapshots(world: SimWorld, name: string): Promise<Snap[]> {
  return (await world.json<{ snapshots: Snap[] }>(["snapshots", name])).snapshots;
}

async function withRecorder(
  fn: (world: SimWorld) => Promise<void>,
  start: string[] = ["start", "r", "-e", TICKS],
  env: Record<string, string> = {},
): Promise<void> {
  const world = await SimWorld.create(env);
  try {
    await world.ok(start);
    await fn(world);
  } finally {
    await world.cleanup();
  }
}

Deno.test("trigger without a watcher takes a plain snapshot; with one, the signal trigger and cooldown decide", async () => {
  await withRecorder(async (world) => {
    assertMatch(await world.ok(["trigger", "r", "--reason", "by hand"]), /^\d{8}T\d{6}Z-\d{3} /);
    assertEquals((await snapshots(world, "r")).map((s) => [s.reason, s.trigger]), [["by hand", "user"]]);

    const w = new Watcher(world, ["r", "--on", "signal", "--cooldown", "4s"]);
    try {
      await w.saw(/ watch started /);
      assertMatch(await world.ok(["trigger", "r", "--reason", "first"]), /Sent to the watcher .*: fired/);
      const fired = await w.saw(/ signal snapshot \d{8}T/);
      assertMatch(fired, /first/);
      const t0 = Date.now();
      assertMatch(await world.ok(["trigger", "r"]), /: suppressed by cooldown until /);
      await w.saw(/ signal suppressed by cooldown until /);
      // SIGUSR1 is blocked in the watcher: it neither triggers nor ends it (nor opens a debugger port).
      w.child.kill("SIGUSR1");
      await world.ok(["trigger", "r"]);
      await w.saw(/ signal suppressed by cooldown/, 2);
      // The cooldown over, the next trigger is allowed.
      await new Promise((r) => setTimeout(r, Math.max(0, 4200 - (Date.now() - t0))));
      await world.ok(["trigger", "r", "--reason", "after"]);
      await w.saw(/ signal snapshot \d{8}T.*after/);
      const status = await world.json<{ watcher: { suppressed: Record<string, number>; snapshots: number } }>(
        [
          "status",
          "r",
        ],
      );
      assertEquals([status.watcher.snapshots, status.watcher.suppressed.cooldown], [2, 2]);
      const list = await snapshots(world, "r");
      assertEquals(list.map((s) => s.trigger), ["user", "signal", "signal"]);
    } finally {
      assertEquals((await w.stop()).code, 0);
    }
    assert(w.lines.some((l) => / watch exited /.test(l)));
    // The watcher never unloads the recorder.
    assertEquals((await world.json(["status", "r"])).state, "recording");
  });
});

Deno.test("max-per-day caps; delay puts the aftermath in the snapshot", async () => {
  await withRecorder(async (world) => {
    const w = new Watcher(world, ["r", "--on", "signal", "--max-per-day", "1", "--delay", "2s"]);
    try {
      await w.saw(/ watch started /);
      const sentAt = Date.now();
      await world.ok(["trigger", "r"]);
      await w.saw(/ signal fired: snapshot in 2s/);
      await world.ok(["trigger", "r"]);
      await w.saw(/ signal suppressed by pending/);
      const line = await w.saw(/ signal snapshot \d{8}T/);
      const id = /snapshot (\S+)/.exec(line)![1];
      const data = await world.ok(["snapshots", "show", `r/${id}`, "--data"]);
      const times = [...data.matchAll(/^tick \d+ (\d+)$/gm)].map((m) => Number(m[1]));
      assert(times.at(-1)! >= sentAt + 1500, "output from after the trigger is in the snapshot");
      await world.ok(["trigger", "r"]);
      await w.saw(/ signal suppressed by max-per-day until /);
    } finally {
      assertEquals((await w.stop()).code, 0);
    }
  });
});

Deno.test("pressure with hold ignores a blip and fires on a sustained condition", async () => {
  await withRecorder(async (world) => {
    const psi = `${world.root}/proc/pressure/memory`;
    await Deno.mkdir(`${world.root}/proc/pressure`, { recursive: true });
    const write = (avg10: number) =>
      Deno.writeTextFile(
        psi,
        `some avg10=${
          avg10.toFixed(2)
        } avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`,
      );
    await write(0);
    const w = new Watcher(world, [
      "r",
      "--on",
      "pressure",
      "memory",
      "some",
      "avg10>40",
      "--hold",
      "2s",
      "--interval",
      "200ms",
    ]);
    try {
      await w.saw(/ watch started /);
      await write(55);
      await w.saw(/ pressure memory some avg10>40 holding /);
      await write(0); // a blip shorter than the hold
      await new Promise((r) => setTimeout(r, 2500));
      assertEquals(w.count(/ snapshot \d{8}T/), 0);
      await write(60);
      const line = await w.saw(/ pressure memory some avg10>40 snapshot \d{8}T/);
      assertMatch(line, /avg10=60/);
      assertEquals((await snapshots(world, "r")).map((s) => s.trigger), ["pressure"]);
    } finally {
      assertEquals((await w.stop()).code, 0);
    }
  });
});

Deno.test("log follows its file across rename-and-create and copytruncate; exit-status and process fire", async () => {
  await withRecorder(async (world) => {
    const log = `${world.root}/app.log`;
    const flag = `${world.root}/unhealthy`;
    await Deno.writeTextFile(log, "ERROR old news, before the watcher\n");
    const sleeper = new Deno.Command("sleep", { args: ["120"] }).spawn();
    const w = new Watcher(world, [
      "r",
      "--on",
      "log",
      log,
      "ERROR (\\w+)",
      "--on",
      "process",
      String(sleeper.pid),
      "--on",
      "exit-status",
      "--interval",
      "300ms",
      "--",
      "test",
      "!",
      "-e",
      flag,
    ]);
    try {
      await w.saw(/ watch started /);
      await Deno.writeTextFile(log, "INFO fine\nERROR one\n", { append: true });
      await w.saw(/ log .* snapshot \d{8}T.*ERROR one/);
      // logrotate: rename, then a new file at the path.
      await Deno.rename(log, `${log}.1`);
      await Deno.writeTextFile(log, `ERROR two\nINFO ${"x".repeat(200)}\n`);
      await w.saw(/ log .* snapshot \d{8}T.*ERROR two/);
      // copytruncate: emptied in place, then written again (less than was read, so the follower sees it shrank
      // whenever it looks, as tail -F would).
      await Deno.truncate(log, 0);
      await Deno.writeTextFile(log, "ERROR three\n", { append: true });
      await w.saw(/ log .* snapshot \d{8}T.*ERROR three/);
      assertEquals(w.count(/old news/), 0, "lines from before the watcher are not events");

      await Deno.writeTextFile(flag, "");
      await w.saw(/ exit-status .* snapshot \d{8}T.*exited with status 1/);
      sleeper.kill("SIGKILL");
      await sleeper.status;
      await w.saw(new RegExp(` process ${sleeper.pid} snapshot \\d{8}T.*is gone`));
      const kinds = (await snapshots(world, "r")).map((s) => s.trigger).sort();
      assertEquals(kinds, ["exit-status", "log", "log", "log", "process"]);
    } finally {
      try {
        sleeper.kill("SIGKILL");
      } catch { /* gone */ }
      await sleeper.status;
      assertEquals((await w.stop()).code, 0);
    }
  });
});

Deno.test("marker fires on a file recorder's output and is refused for a memory recorder", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "mem", "-e", TICKS]);
    const refused = await world.run(["watch", "mem", "--on", "marker", "MARK"]);
    assertEquals(refused.code, 2);
    assertMatch(refused.stderr, /needs a file recorder: reading a memory recorder's ring would drain it/);
    await world.ok(["start", "files", "-e", TICKS, "--output", `${world.root}/out`]);
    const w = new Watcher(world, ["files", "--on", "marker", "MARK (\\d+)", "--switch-every", "1s"]);
    try {
      const line = await w.saw(/ marker MARK .* snapshot \d{8}T/);
      assertMatch(line, /output: MARK \d+/);
      await until("--switch-every to switch files", async () => {
        const status = await world.json<{ files: { name: string }[] }>(["status", "files"]);
        return status.files.some((f) => f.name.endsWith(".out.2"));
      });
    } finally {
      assertEquals((await w.stop()).code, 0);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("SIGTERM during a snapshot finishes it; service mode takes a final snapshot and stops the recorder", async () => {
  await withRecorder(
    async (world) => {
      const w = new Watcher(world, ["r", "--on", "signal"]);
      await w.saw(/ watch started /);
      await world.ok(["trigger", "r"]);
      // The capture is under way (a memory drain waits STAPFR_IDLE_MS for quiet).
      await until("the capture to begin", async () => {
        try {
          for await (const e of Deno.readDir(`${world.stateDir}/snapshots/r`)) {
            if (e.name.startsWith(".partial-")) return true;
          }
        } catch { /* not yet */ }
        return false;
      });
      assertEquals((await w.stop("SIGTERM")).code, 0);
      assertEquals((await snapshots(world, "r")).length, 1, "the snapshot in progress was finished");
      assertEquals((await world.json(["status", "r"])).state, "recording");

      const s = new Watcher(world, ["r", "--service"]);
      await s.saw(/ watch started /);
      assertEquals((await s.stop("SIGTERM")).code, 0);
      await s.saw(/ service snapshot \d{8}T/);
      const list = await snapshots(world, "r");
      assertEquals([list.length, list.at(-1)!.reason, list.at(-1)!.trigger], [2, "service stop", "service"]);
      assertEquals(
        (await world.json<{ recorders: unknown[] }>(["list"])).recorders,
        [],
        "the recorder is stopped",
      );
    },
    undefined,
    { STAPFR_IDLE_MS: "2500" },
  );
});
