/**
 * File recorders that went wrong, as a user meets them through the CLI on the simulator: a run directory that
 * was deleted, and a daemon that stopped because its disk filled. stapfr says what happened and where to look,
 * and `dump`/`tail` fail instead of printing nothing.
 * @module
 */
import { assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const FAST = `probe timer.ms(1) { printf("%s\\n", "${"0123456789".repeat(50)}") }`;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Row {
  name: string;
  state: string;
  problem?: string | null;
}

Deno.test("a file recorder whose run directory was deleted: list, status, dump and tail say so", async () => {
  const world = await SimWorld.create();
  try {
    const started = await world.json(["start", "f1", "-e", FAST, "--output", `${world.root}/out`]);
    const runDir = started.run_dir as string;
    await Deno.remove(runDir, { recursive: true });

    const list = await world.run(["list"]);
    assertEquals(list.code, 0, list.stderr);
    assertMatch(list.stderr, /f1.*run directory .* is gone/);
    const row = (await world.json<{ recorders: Row[] }>(["list"])).recorders[0];
    assertMatch(row.problem ?? "", /run directory .* is gone/);
    const status = await world.ok(["status", "f1"]);
    assertMatch(status, /problem +.*run directory .* is gone/);
    for (const args of [["dump", "f1"], ["tail", "f1"]]) {
      const r = await world.run(args);
      assertEquals(r.code, 1, `${args[0]}: ${r.stdout}`);
      assertMatch(r.stderr, /^stapfr: .*run directory ".*" is gone/m, args[0]);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("a file recorder whose disk filled: exited, and status shows why and where stapio said it", async () => {
  // The simulated disk is full after 200K of output (a simulator fault knob): the next write fails with
  // ENOSPC's "No space left on device", as on a full file system.
  const world = await SimWorld.create({ STAPFR_SIM_DISK_BYTES: String(200 * 1024) });
  try {
    await world.ok(["start", "f2", "-e", FAST, "--output", `${world.root}/out`, "--rotate", "64K,3"]);
    await waitFor("the daemon to stop", async () => {
      const rows = (await world.json<{ recorders: Row[] }>(["list"])).recorders;
      return rows.length === 1 && rows[0].state !== "recording";
    });
    const row = (await world.json<{ recorders: Row[] }>(["list"])).recorders[0];
    assertEquals(row.state, "exited");
    assertMatch(row.problem ?? "", /No space left on device/);
    const list = await world.run(["list"]);
    assertMatch(list.stderr, /Recorder "f2": its stapio daemon stopped: .*No space left on device/);
    const status = await world.ok(["status", "f2"]);
    assertMatch(
      status,
      /problem +its stapio daemon stopped: ERROR: Couldn't write to output .*No space left on device/,
    );
    assertMatch(status, /daemon log +.*var\/log\/stapio\.log/);
  } finally {
    await world.cleanup();
  }
});
