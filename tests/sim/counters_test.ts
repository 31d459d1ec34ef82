/**
 * stapfr's counters file on the simulator's stand-ins (sim/stapio/README.md "stapfr's counters tapset"): `stap
 * -I DIR -E PROBE` builds stapfr's tapset and probe into a module, the module host serves
 * `ROOT/proc/systemtap/MODULE/stapfr_counters` with the runtime's counts, a `-p4` module keeps them for
 * `staprun -L`, and `stapfr build` modules serve the file when started prebuilt.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { parseCounters } from "../../lib/driver/counters.ts";
import { writeCountersTapset } from "../../lib/driver/counters_tapset.ts";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

/** The counter: 40-byte records, which meet page tails on the 4.8 ring. */
const COUNTER = 'global n probe timer.ms(1) { n++; printf("%d abcdefghijklmnopqrstuvwxyz\\n", n) }';

async function counters(world: SimWorld, module: string) {
  const text = await Deno.readTextFile(`${world.root}/proc/systemtap/${module}/stapfr_counters`);
  return { text, counters: parseCounters(text) };
}

Deno.test("stap -I -E: the counters file has the runtime's counts, in the tapset's words", async () => {
  await SimWorld.with(async (world) => {
    const args = await writeCountersTapset(world.work);
    const r = await world.sim(["stap", "-F", "-m", "stap_cnt", ...args, "-s", "64K", "-e", COUNTER]);
    assertEquals(r.code, 0, r.stderr);
    const path = `${world.root}/proc/systemtap/stap_cnt/stapfr_counters`;
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o400);
    // About time: the ring (4.8's) wraps, and records meet page tails: failures, with the sequence behind.
    await until(
      "transport failures",
      async () => ((await counters(world, "stap_cnt")).counters?.transport_failures ?? 0) > 0,
    );
    const { text, counters: c } = await counters(world, "stap_cnt");
    assertMatch(text, /^transport_failures \d+\nsequence \d+\n$/);
    assert(c!.sequence > 0);
    // A plain read never waits, also once the host is gone: the file stays with its last counts.
    const pid = Number((await Deno.readTextFile(`${world.root}/proc/systemtap/stap_cnt/host.pid`)).trim());
    Deno.kill(pid, "SIGKILL");
    await until("the host gone", () => {
      try {
        Deno.kill(pid, "SIGCONT");
        return Promise.resolve(false);
      } catch {
        return Promise.resolve(true);
      }
    });
    assertMatch(await Deno.readTextFile(path), /^transport_failures \d+\nsequence \d+\n$/);
  });
});

Deno.test("stap without the tapset: stapfr's functions are unknown, as on a real stap", async () => {
  await SimWorld.with(async (world) => {
    const r = await world.sim([
      "stap",
      "-p2",
      "-e",
      'probe procfs("x").read { $value = stapfr_counters() }',
    ]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /stapfr_counters/);
  });
});

Deno.test("stap -p4 with the tapset, then staprun -L: the module serves the counters file", async () => {
  await SimWorld.with(async (world) => {
    const args = await writeCountersTapset(world.work);
    // -p4 writes the module in the working directory (the world's scratch directory).
    const build = await world.sim(["stap", "-p4", "-m", "stap_pre", ...args, "-e", COUNTER]);
    assertEquals(build.code, 0, build.stderr);
    // The tapset directory may be gone by the time the module is loaded: the module carries what it needs.
    await Deno.remove(`${world.work}/stapfr_tapset`, { recursive: true });
    const load = await world.sim(["staprun", "-L", `${world.work}/stap_pre.ko`]);
    assertEquals(load.code, 0, load.stderr);
    await until(
      "the counters file",
      async () => (await counters(world, "stap_pre").catch(() => undefined)) !== undefined,
    );
    assert((await counters(world, "stap_pre")).counters !== undefined);
  });
});

Deno.test("stapfr build, then start --module: a prebuilt module's reads have their counts", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["build", "pre", "-e", COUNTER, "--out-dir", world.work]);
    await world.ok(["start", "pre", "--module", `${world.work}/stap_fr_pre.ko`, "--buffer", "64K"]);
    await new Promise((r) => setTimeout(r, 1000));
    const dump = await world.json<{ loss: { missing: { unreserved: number | null } } }>(
      ["dump", "pre", "-o", `${world.work}/pre.txt`],
    );
    assertEquals(typeof dump.loss.missing.unreserved, "number");
  });
});
