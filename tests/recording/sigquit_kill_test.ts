/**
 * A stapio that ignores every SIGQUIT (SystemTap 4.8 loses them while its readers are busy, as the kernel lab
 * saw at a high rate: docs/kernel-lab.md "What the lab found"): stapfr kills it, which detaches without
 * unloading, says so, and leaves no reader attached.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const TICKS = 'global n probe timer.ms(20) { n++; printf("tick %d\\n", n) }';

Deno.test("every SIGQUIT lost: dump kills its stapio, the recorder keeps recording, the next dump works", async () => {
  // Three lost signals: as many as stapfr sends before its last resort.
  const world = await SimWorld.create({ STAPFR_SIM_LOSE_SIGNALS: "3", STAPFR_SIGNAL_WAIT_MS: "800" });
  try {
    await world.ok(["start", "r1", "-e", TICKS]);
    const dump = await world.run(["dump", "r1"]);
    assertEquals(dump.code, 0, dump.stderr);
    assertMatch(dump.stdout, /^tick \d+$/m);
    assertMatch(dump.stderr, /ignored 3 SIGQUIT signals .* it was killed, which detaches without unloading/);
    const status = await world.json(["status", "r1"]);
    assertEquals([status.state, status.refcount], ["recording", 0]);
    // No reader is left attached: the next reader gets the ring (its stapio loses signals too, and ends alike).
    const again = await world.run(["dump", "r1"]);
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stdout, /^tick \d+$/m);
  } finally {
    await world.cleanup();
  }
});
