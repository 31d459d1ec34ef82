/**
 * End to end on the simulator: `plan` measures a script and recommends a ring that, started with it, does hold
 * the window; a ring much smaller than recommended does not (so the recommendation is not merely huge). Each
 * line carries the time it was written, so what a dump holds is measured in seconds of output, whatever the
 * latency of starting and attaching on a loaded machine.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const NUMBERED = `global n
probe timer.ms(2) { n++; printf("%d %d %050d\\n", n, gettimeofday_ms(), 0) }
`;

interface PlanJson {
  rates: Record<string, number>;
  max_rate: number;
  buffer: { bytes: number; flag: string };
  rotate: { size: number; count: number; flag: string };
  arithmetic: string[];
}

/** Starts a memory recorder with `buffer`, runs it well past `ms`, dumps it: how many ms of output it held. */
async function heldMs(world: SimWorld, name: string, buffer: string, ms: number): Promise<number> {
  await world.ok(["start", name, "-e", NUMBERED, "--buffer", buffer]);
  // This test is about time itself: the ring must have been filling for longer than the window.
  await new Promise((r) => setTimeout(r, ms + 1000));
  const times = [...(await world.ok(["dump", name])).matchAll(/^\d+ (\d+) /gm)].map((m) => Number(m[1]));
  await world.ok(["stop", "--discard", name]);
  assert(times.length > 0, "the dump held lines");
  return times.at(-1)! - times[0];
}

Deno.test("plan: the recommended buffer holds the window; a sixth of it does not", async () => {
  const world = await SimWorld.create();
  try {
    const plan = await world.json<PlanJson>(["plan", "-e", NUMBERED, "--window", "3s", "--measure", "2s"]);
    assert(plan.max_rate > 0, "measured a rate");
    assertEquals(plan.buffer.bytes % 4096, 0, "the simulator's 4K steps");
    assertMatch(plan.rotate.flag, /^\d+[KM],\d+$/);
    assert(plan.arithmetic.some((l) => l.includes("headroom")));
    // Nothing of the measuring run is left: no recorder, no module.
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, []);
    assertEquals(Object.keys(await world.modules()).filter((m) => m.startsWith("stap_fr_plan")), []);

    const fits = await heldMs(world, "fits", plan.buffer.flag, 3000);
    assert(fits >= 3000, `--buffer ${plan.buffer.flag} held only ${fits} ms`);
    const small = Math.max(4096, Math.floor(plan.buffer.bytes / 6 / 4096) * 4096);
    const held = await heldMs(world, "small", `${small / 1024}K`, 3000);
    assert(held < 3000, `--buffer ${small / 1024}K held ${held} ms`);

    const human = await world.ok(["plan", "-e", NUMBERED, "--window", "1m", "--measure", "1s"]);
    assertMatch(
      human,
      /Memory recorder: --buffer \d+[KM]\nFile recorder: +--output DIR --rotate \d+[KM],\d+\n/,
    );
    const bad = await world.run(["plan", "-e", NUMBERED]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /Missing "--window DURATION"/);
  } finally {
    await world.cleanup();
  }
});
