/**
 * The simulator's memory mode through the processes: `sim stap -F`, `sim staprun -A`, detach, unload
 * (docs/systemtap-4.8.md sections 2.1, 2.3–2.5, 2.8, 5.3).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { reconnectName, SimWorld, STANDIN_KNOBS } from "../support/sim_world.ts";
import { sleep, until } from "../support/poll.ts";

const SEED_SCRIPT =
  'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) } probe end { printf("exited\\n") }';
const COUNTER_SCRIPT = 'global n probe vfs.* { n++; printf("%d\\n", n) } probe end { printf("exited\\n") }';

/** A world with the stand-in knobs, cleaned up after `fn`. */
function withWorld(fn: (w: SimWorld) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  return SimWorld.with(fn, { ...STANDIN_KNOBS, ...env });
}

function disconnect(name: string): string {
  return `\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A ${name}"\n`;
}

/** Attaches, waits for `lines` lines of output, detaches with SIGQUIT. */
async function attachFor(world: SimWorld, name: string, lines: number) {
  const run = world.running(["staprun", "-A", name]);
  try {
    await until(`${lines} lines from staprun -A`, () => run.stdout.split("\n").length > lines);
    run.kill("SIGQUIT");
    return await run.done();
  } finally {
    await run.stop();
  }
}

Deno.test("seed example (a), docs/systemtap-4.8.md 2.1/2.3/2.4: memory-mode start, attach shows seed lines, SIGQUIT detaches", async () => {
  await withWorld(async (world) => {
    const start = await world.sim(["stap", "-F", "-e", SEED_SCRIPT]);
    const name = reconnectName(start.stderr);
    assertEquals([start.code, start.stdout, start.stderr], [0, "", disconnect(name)]);
    assertMatch(name, /^stap_[0-9a-f]+_\d+$/);
    assertEquals((await world.modules())[name], 0);

    const attach = await attachFor(world, name, 20);
    assertEquals([attach.code, attach.stderr], [0, disconnect(name)]);
    const lines = attach.stdout.split("\n").filter(Boolean);
    for (const line of lines.slice(0, 20)) assertMatch(line, /^vfs\.[a-z_.]+\*\*.*\*\*\d+$/);
    // Detached: the module is still loaded, nobody attached, and nothing of the end probe ran.
    assertEquals((await world.modules())[name], 0);
    assert(!attach.stdout.includes("exited"));
  });
});

Deno.test("5.3 two consecutive attaches never repeat data", async () => {
  await withWorld(async (world) => {
    const start = await world.sim(["stap", "-F", "-m", "stap_fr_counter", "-e", COUNTER_SCRIPT]);
    assertEquals(start.stderr, disconnect("stap_fr_counter"));
    const first = (await attachFor(world, "stap_fr_counter", 50)).stdout.split("\n").filter(Boolean).map(
      Number,
    );
    const second = (await attachFor(world, "stap_fr_counter", 50)).stdout.split("\n").filter(Boolean).map(
      Number,
    );
    assert(first.length >= 50 && second.length >= 50);
    const seen = new Set(first);
    assertEquals(second.filter((n) => seen.has(n)), []);
    assert(Math.min(...second) > Math.max(...first));
  });
});

Deno.test("2.5 SIGINT under -A runs the end probes and unloads the module", async () => {
  await withWorld(async (world) => {
    await world.sim(["stap", "-F", "-m", "stap_fr_int", "-e", SEED_SCRIPT]);
    const run = world.running(["staprun", "-A", "stap_fr_int"]);
    try {
      await until("output", () => run.stdout.length > 0);
      run.kill("SIGINT");
      const out = await run.done();
      assertEquals([out.code, out.stderr], [0, ""]);
      assertEquals(out.stdout.trimEnd().split("\n").at(-1), "exited");
      assertEquals("stap_fr_int" in await world.modules(), false);
    } finally {
      await run.stop();
    }
  });
});

Deno.test("2.5 STAPFR_SIM_LOSE_SIGNALS=1: the first SIGTERM under -A is lost, the second unloads", async () => {
  await withWorld(async (world) => {
    await world.sim(["stap", "-F", "-m", "stap_fr_lose", "-e", SEED_SCRIPT]);
    const run = world.running(["staprun", "-A", "stap_fr_lose"], { STAPFR_SIM_LOSE_SIGNALS: "1" });
    try {
      await until("output", () => run.stdout.length > 0);
      run.kill("SIGTERM");
      // About time: a lost signal is one that changes nothing for a while.
      await sleep(300);
      assertEquals((await world.modules())["stap_fr_lose"], 1); // still loaded and attached
      run.kill("SIGTERM");
      const out = await run.done();
      assertEquals(out.code, 0);
      assertEquals(out.stdout.trimEnd().split("\n").at(-1), "exited");
      assertEquals("stap_fr_lose" in await world.modules(), false);
    } finally {
      await run.stop();
    }
  });
});

Deno.test("2.8 attach/unload errors: absent module, already attached, unload while attached", async () => {
  await withWorld(async (world) => {
    const absent = await world.sim(["staprun", "-A", "stap_nosuch"]);
    assertEquals(
      [absent.code, absent.stdout, absent.stderr],
      [1, "", "ERROR: Cannot attach to module stap_nosuch control channel; not running?\n"],
    );
    const del = await world.sim(["staprun", "-d", "stap_nosuch"]);
    assertEquals([del.code, del.stderr], [
      234,
      "ERROR: Cannot attach to module stap_nosuch control channel; not running?\n" +
      "ERROR: 'stap_nosuch' is not a zombie systemtap module.\n",
    ]);

    await world.sim(["stap", "-F", "-m", "stap_fr_busy", "-e", SEED_SCRIPT]);
    const holder = world.running(["staprun", "-A", "stap_fr_busy"]);
    try {
      await until("attached", async () => (await world.modules())["stap_fr_busy"] === 1);
      const busy = await world.sim(["staprun", "-A", "stap_fr_busy"]);
      assertEquals(
        [busy.code, busy.stderr],
        [1, "ERROR: Cannot attach to module stap_fr_busy control channel; not running?\n"],
      );
      const delAttached = await world.sim(["staprun", "-d", "stap_fr_busy"]);
      assertEquals(delAttached.code, 234);
      holder.kill("SIGQUIT");
      assertEquals((await holder.done()).code, 0);
    } finally {
      await holder.stop();
    }
    // Detached, it can be unloaded: no output, rc 0.
    await until("detached", async () => (await world.modules())["stap_fr_busy"] === 0);
    assertEquals(await world.sim(["staprun", "-d", "stap_fr_busy"]), { code: 0, stdout: "", stderr: "" });
    assertEquals(Object.keys(await world.modules()).length, 0);
  });
});

Deno.test("2.3 exit() while detached: the next attach gets REQUEST_EXIT, prints the rest and unloads", async () => {
  await withWorld(async (world) => {
    const script =
      'probe begin { printf("begin\\n") } probe timer.ms(100) { exit() } probe end { printf("bye\\n") }';
    for (let i = 0; i < 3; i++) {
      const name = `stap_fr_quit${i}`;
      await world.sim(["stap", "-F", "-m", name, "-e", script]);
      // About time: the script reaches exit() 100 ms in, while detached, where nothing shows it until an
      // attach (what this test is about).
      await sleep(300);
      assertEquals((await world.modules())[name], 0); // probes stopped, module still loaded
      const out = await world.sim(["staprun", "-A", name]);
      assertEquals(out, { code: 0, stdout: "begin\nbye\n", stderr: "" });
      assertEquals(name in await world.modules(), false);
    }
  });
});

Deno.test("2.3/2.7 warnings queued while detached arrive at the next attach, once each; -w drops them", async () => {
  await withWorld(async (world) => {
    const script = 'probe timer.ms(20) { warn("disk slow") } probe vfs.read { printf("r\\n") }';
    await world.sim(["stap", "-F", "-m", "stap_fr_warn", "-e", script]);
    // About time: let the script warn while nobody is attached (the warnings queue, unseen until an attach).
    await sleep(200);
    const run = world.running(["staprun", "-A", "stap_fr_warn"]);
    try {
      await until("the queued warnings", () => run.stderr.includes("WARNING: disk slow\n"));
      // About time: more warnings come every 20 ms, and each must NOT be printed again.
      await sleep(200);
      run.kill("SIGQUIT");
      const out = await run.done();
      assertEquals(out.stderr, "WARNING: disk slow\n" + disconnect("stap_fr_warn"));
    } finally {
      await run.stop();
    }
    await until("the first reader to detach", async () => (await world.modules())["stap_fr_warn"] === 0);
    const quiet = world.running(["staprun", "-w", "-A", "stap_fr_warn"]);
    try {
      await until("attached", async () => (await world.modules())["stap_fr_warn"] === 1);
      // About time: with -w, the warnings that keep coming must NOT be printed.
      await sleep(300);
      quiet.kill("SIGQUIT");
      assertEquals((await quiet.done()).stderr, disconnect("stap_fr_warn"));
    } finally {
      await quiet.stop();
    }
  });
});
