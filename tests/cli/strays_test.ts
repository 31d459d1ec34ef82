/**
 * End to end on the simulator: no stapfr leaves a `staprun -A` behind (docs/strays.md). A failed output, SIGHUP,
 * two quick Ctrl-Cs all detach; a reader whose stapfr was killed is a stray that list names and dump, stop and
 * gc end with SIGQUIT; a reader someone started by hand is reported and left alone; a failed detach after
 * Ctrl-C says what failed. (SIGUSR1 and the debugger port: tests/cli/inspector_test.ts.)
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readAll, readUntil, SimWorld } from "../support/sim_world.ts";
import {
  childrenOf,
  exitWithin,
  noReaderLeft,
  output,
  running,
  spawnWithStdout,
  until,
} from "../support/readers.ts";

const SCRIPT = 'probe timer.ms(10) { printf("x\\n") }';
const MODULE = "stap_fr_r1";
// A dump counts its idle time from the moment it spawns staprun: on a loaded machine the simulated staprun takes
// longer than the worlds' usual 800 ms to start, and a dump would detach it before it attached.
const SLOW_START = { STAPFR_IDLE_MS: "2500" };

type Info = {
  name: string;
  state: string;
  reader?: { pid: number | null; stapfr_pid: number | null; stray: boolean; by_stapfr: boolean } | null;
};

async function stateOf(world: SimWorld, name = "r1"): Promise<Info> {
  return await world.json<Info>(["status", name]);
}

/** Starts `attach r1` and waits for its first line of data; returns it with its stdout still open. */
async function attached(world: SimWorld, env: Record<string, string> = {}) {
  const argv = world.argv(["attach", "r1"]);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: { ...world.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const { reader } = await readUntil(child.stdout, (t) => t.includes("x\n"));
  return { child, reader };
}

async function readerOf(stapfrPid: number): Promise<number> {
  let pid = 0;
  await until("the staprun -A child", async () => {
    pid = (await childrenOf(stapfrPid)).find((c) => / sim staprun -A /.test(c.args))?.pid ?? 0;
    return pid > 0;
  });
  return pid;
}

/** The signals pending for a process (ShdPnd of /proc/PID/status), as a bit set (bit N-1 for signal N). */
async function pendingSignals(pid: number): Promise<bigint> {
  const m = /^ShdPnd:\s*([0-9a-f]+)$/m.exec(await output(["cat", `/proc/${pid}/status`]));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

function noStackTrace(stderr: string): void {
  assert(!/Uncaught|^\s+at /m.test(stderr), `a stack trace:\n${stderr}`);
}

Deno.test("a failed stdout write (/dev/full) detaches: dump, attach and stop say why and leave r1 recording", async () => {
  const world = await SimWorld.create(SLOW_START);
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    for (const args of [["dump", "r1"], ["attach", "r1"], ["stop", "r1"]]) {
      const r = await exitWithin(spawnWithStdout(world, args, "/dev/full"));
      assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      noStackTrace(r.stderr);
      assertMatch(r.stderr, /^stapfr: Cannot write the output of \w+: No space left on device/m, r.stderr);
      await noReaderLeft(world, MODULE);
      assertEquals((await stateOf(world)).state, "recording", args.join(" "));
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test({
  name: "dump -o onto a full file system fails with one line, leaves no temporary file and r1 recording",
  ignore: Deno.uid() !== 0,
  async fn() {
    const world = await SimWorld.create(SLOW_START);
    const mnt = await Deno.makeTempDir({ prefix: "stapfr-full-" });
    const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt] })
      .output();
    if (mount.code !== 0) {
      await Deno.remove(mnt);
      await world.cleanup();
      console.log("skipped: cannot mount a tmpfs here");
      return;
    }
    try {
      // Fill it, so the dump's first write fails.
      const filler = await Deno.open(`${mnt}/filler`, { write: true, create: true });
      try {
        while (true) await filler.write(new Uint8Array(4096));
      } catch {
        // Full.
      } finally {
        filler.close();
      }
      await world.ok(["start", "r1", "-e", SCRIPT]);
      const r = await world.run(["dump", "r1", "-o", `${mnt}/out`]);
      assertEquals(r.code, 1, r.stderr);
      noStackTrace(r.stderr);
      assertMatch(r.stderr, /^stapfr: Cannot write the output of dump: No space left on device/m);
      assertEquals((await Array.fromAsync(Deno.readDir(mnt))).map((e) => e.name), ["filler"]);
      await noReaderLeft(world, MODULE);
      assertEquals((await stateOf(world)).state, "recording");
    } finally {
      await new Deno.Command("umount", { args: [mnt] }).output();
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
      await world.cleanup();
    }
  },
});

Deno.test("SIGHUP to attach (a dropped SSH connection) detaches, every time", async () => {
  const world = await SimWorld.create(SLOW_START);
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    for (let i = 0; i < 3; i++) {
      const { child, reader } = await attached(world);
      Deno.kill(-child.pid, "SIGHUP");
      await reader.cancel();
      const r = await exitWithin(child);
      noStackTrace(r.stderr);
      await noReaderLeft(world, MODULE);
      assertEquals((await stateOf(world)).state, "recording", `round ${i}`);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("two SIGINTs 20 ms apart early in attach never leave r1 attached", async () => {
  const world = await SimWorld.create(SLOW_START);
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    for (let i = 0; i < 8; i++) {
      const child = world.spawn(["attach", "r1"]);
      const stdout = readAll(child.stdout);
      // Early: as soon as its staprun -A exists (even rounds), or a little later (odd rounds).
      await readerOf(child.pid);
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, 30 * i));
      Deno.kill(-child.pid, "SIGINT");
      await new Promise((r) => setTimeout(r, 20));
      try {
        Deno.kill(-child.pid, "SIGINT");
      } catch {
        // Already gone.
      }
      const r = await exitWithin(child);
      await stdout;
      noStackTrace(r.stderr);
      await noReaderLeft(world, MODULE);
      assertEquals((await stateOf(world)).state, "recording", `round ${i}: ${r.stderr}`);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("a second Ctrl-C while stapio has not detached resends SIGQUIT and waits; a third exits, leaving a stray", async () => {
  const world = await SimWorld.create(SLOW_START);
  let stapio = 0;
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    for (const third of [false, true]) {
      const { child, reader } = await attached(world, { STAPFR_SIGNAL_WAIT_MS: "5000" });
      stapio = await readerOf(child.pid);
      // Stopped, stapio cannot detach yet: the SIGQUITs wait for it.
      Deno.kill(stapio, "SIGSTOP");
      Deno.kill(-child.pid, "SIGINT");
      // Two signals close together may reach stapfr as one: send the second once the first was acted on (the
      // detaching SIGQUIT waits, pending, on the stopped stapio).
      await until("the first SIGQUIT", async () => (await pendingSignals(stapio) & (1n << 2n)) !== 0n);
      Deno.kill(-child.pid, "SIGINT");
      const { text, reader: errReader } = await readUntil(
        child.stderr,
        (t) => t.includes("Detaching stapio"),
      );
      assertMatch(text, new RegExp(`stapfr: Detaching stapio \\(pid ${stapio}\\)`));
      assert(await running(child.pid), "stapfr waits for the detach");
      if (third) {
        Deno.kill(-child.pid, "SIGINT");
        assertEquals((await child.status).code, 130);
        // Its stapfr is gone and stapio still holds the module: a stray.
        assertEquals((await stateOf(world)).state, "stray");
      }
      Deno.kill(stapio, "SIGCONT");
      stapio = 0;
      await reader.cancel();
      await errReader.cancel();
      await child.status;
      await noReaderLeft(world, MODULE);
      assertEquals((await stateOf(world)).state, "recording");
    }
  } finally {
    if (stapio) Deno.kill(stapio, "SIGCONT");
    await world.cleanup();
  }
});

Deno.test("a stapfr killed (attach, dump, stop) leaves a stray: list names it; dump, stop and gc end it with SIGQUIT", async () => {
  const world = await SimWorld.create(SLOW_START);
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);

    // attach killed: list and status say so, dump ends the stray and proceeds.
    const { child, reader } = await attached(world);
    let stray = await readerOf(child.pid);
    Deno.kill(child.pid, "SIGKILL");
    await reader.cancel();
    await exitWithin(child);
    const info = await stateOf(world);
    assertEquals(info.state, "stray");
    assertEquals(info.reader?.pid, stray);
    assertEquals(info.reader?.stapfr_pid, child.pid);
    assertEquals(info.reader?.stray, true);
    const list = await world.run(["list"]);
    assertMatch(list.stdout, /^r1\s+memory\s+stray\s/m);
    assertMatch(
      list.stderr,
      new RegExp(`r1: stray reader pid ${stray}, its stapfr \\(pid ${child.pid}\\) is gone`),
    );
    const dump = await world.run(["dump", "r1"]);
    assertEquals(dump.code, 0, dump.stderr);
    assertMatch(dump.stderr, new RegExp(`Detached stray reader pid ${stray}`));
    assert(dump.stdout.includes("x\n"));
    assert(!(await running(stray)));
    await noReaderLeft(world, MODULE);

    // dump killed: gc ends the stray.
    const slow = world.spawn(["dump", "r1"]);
    const slowOut = readAll(slow.stdout);
    stray = await readerOf(slow.pid);
    await until("the dump to attach", async () => (await world.modules())[MODULE] === 1);
    Deno.kill(slow.pid, "SIGKILL");
    await exitWithin(slow);
    await slowOut;
    const gc = await world.json<{ actions: { name: string; action: string; detail: string }[] }>(["gc"]);
    assertEquals(gc.actions.map((a) => [a.name, a.action]), [["r1", "detached"]]);
    assertMatch(gc.actions[0].detail, new RegExp(`stray reader pid ${stray}`));
    await noReaderLeft(world, MODULE);
    assertEquals((await stateOf(world)).state, "recording");

    // stop killed while draining: the next stop ends the stray, then stops.
    const killed = world.spawn(["stop", "r1"]);
    const killedOut = readAll(killed.stdout);
    stray = await readerOf(killed.pid);
    await until("the stop to attach", async () => (await world.modules())[MODULE] === 1);
    Deno.kill(killed.pid, "SIGKILL");
    await exitWithin(killed);
    await killedOut;
    assertEquals((await stateOf(world)).state, "stray");
    const stop = await world.run(["stop", "r1"]);
    assertEquals(stop.code, 0, stop.stderr);
    assertMatch(stop.stderr, new RegExp(`Detached stray reader pid ${stray}`));
    assert(!(await running(stray)));
    assertEquals(Object.keys(await world.modules()).includes(MODULE), false);
    // Nothing left over in the state directory.
    assertEquals(
      (await Array.fromAsync(Deno.readDir(world.stateDir))).filter((e) => e.isFile).map((e) => e.name),
      [],
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("a reader stapfr did not start is reported by pid and never ended unasked", async () => {
  const world = await SimWorld.create(SLOW_START);
  let manual: Deno.ChildProcess | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    // By hand, as an operator would: a bulk module's stapio writes each CPU's records to FILE_N.
    manual = world.spawn(["sim", "staprun", "-A", "-o", `${world.work}/by-hand`, MODULE]);
    reader = manual.stdout.getReader();
    await until("the hand-started reader to attach", async () => (await world.modules())[MODULE] === 1);
    const info = await stateOf(world);
    assertEquals(info.state, "attached");
    assertEquals(info.reader, { pid: manual.pid, stapfr_pid: null, stray: false, by_stapfr: false });
    const gc = await world.json<{ actions: { name: string; action: string; detail: string }[] }>(["gc"]);
    assertEquals(gc.actions.map((a) => [a.name, a.action]), [["r1", "kept"]]);
    assertMatch(gc.actions[0].detail, new RegExp(`pid ${manual.pid}.*not started by stapfr`));
    const dump = await world.run(["dump", "r1"]);
    assertEquals(dump.code, 1);
    assertMatch(
      dump.stderr,
      new RegExp(`already attached by another reader \\(pid ${manual.pid}, not started by stapfr\\)`),
    );
    assert(await running(manual.pid));
    assertEquals((await world.modules())[MODULE], 1);
  } finally {
    if (manual) {
      try {
        Deno.kill(manual.pid, "SIGQUIT");
      } catch {
        // Gone.
      }
      await reader?.cancel();
      await exitWithin(manual);
    }
    await world.cleanup();
  }
});

Deno.test("after Ctrl-C, a stapio that cannot detach is killed (a detach, not an unload), and stapfr says so", async () => {
  const world = await SimWorld.create(SLOW_START);
  let stapio = 0;
  try {
    await world.ok(["start", "r1", "-e", SCRIPT]);
    const { child, reader } = await attached(world, { STAPFR_SIGNAL_WAIT_MS: "200" });
    stapio = await readerOf(child.pid);
    // A stopped stapio cannot react to SIGQUIT: every detach attempt is lost, as at a high rate on 4.8.
    Deno.kill(stapio, "SIGSTOP");
    Deno.kill(-child.pid, "SIGINT");
    await reader.cancel();
    const r = await exitWithin(child);
    assertMatch(
      r.stderr,
      new RegExp(
        `stapfr: stapio \\(pid ${stapio}\\) ignored 3 SIGQUIT signals .* it was killed, which detaches`,
      ),
    );
    // No reader is left, and the recorder records on (nothing unloaded it).
    await noReaderLeft(world, MODULE);
    assertEquals((await world.json(["status", "r1"])).state, "recording");
  } finally {
    try {
      if (stapio) Deno.kill(stapio, "SIGCONT");
    } catch {
      // Killed by stapfr, as it should be.
    }
    await world.cleanup();
  }
});
