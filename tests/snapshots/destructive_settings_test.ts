/**
 * Settings whose only effect is to destroy data are refused before anything happens, through the CLI on the
 * simulator: retention that deletes every snapshot as soon as it is taken, and `tail -n 0` of a memory
 * recorder (which would drain its ring and print nothing). Retention applied after a snapshot never deletes
 * that snapshot (docs/snapshots.md "Retention").
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICKS = `global n
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
`;

Deno.test("retention bounds of zero are refused by start and watch; prune takes them, as asked", async () => {
  await SimWorld.with(async (world) => {
    for (
      const flags of [
        ["--keep-snapshots", "0"],
        ["--snapshot-max-age", "0"],
        ["--snapshot-max-age", "0s"],
        ["--snapshot-max-size", "0"],
      ]
    ) {
      const r = await world.run(["start", "r1", "-e", TICKS, ...flags]);
      assertEquals(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, new RegExp(`^stapfr: .*"${flags[0]}".*would delete every snapshot`, "m"));
    }
    assertEquals((await world.json<{ recorders: unknown[] }>(["list"])).recorders, []);
    // A unit would run that start at every boot, and fail there.
    const unit = await world.run(["unit", "r1", "-e", TICKS, "--keep-snapshots", "0"]);
    assertEquals(unit.code, 2, unit.stderr);
    assertEquals(unit.stdout, "");
    for (const flags of [["--keep", "0"], ["--max-age", "0ms"], ["--max-size", "0K"]]) {
      const r = await world.run(["watch", "r1", "--on", "signal", ...flags]);
      assertEquals(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
    }
    // prune is itself the explicit request: --keep 0 deletes every snapshot there is, and says so.
    assertMatch(await world.ok(["snapshots", "prune", "--keep", "0"]), /Nothing to prune/);
  });
});

Deno.test("retention after a snapshot never deletes the snapshot just taken", async () => {
  await SimWorld.with(async (world) => {
    await world.ok([
      "start",
      "r1",
      "-e",
      TICKS,
      "--output",
      `${world.root}/out`,
      "--snapshot-max-size",
      "1K",
    ]);
    await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 2048);
    const first = await world.json<{ id: string; bytes: number }>(["snapshot", "r1"]);
    assert(first.bytes > 1024, `${first.bytes}`);
    const second = await world.json<{ id: string; pruned: string[] }>(["snapshot", "r1"]);
    assertEquals(second.pruned, [first.id]);
    const left = await world.json<{ snapshots: { id: string }[] }>(["snapshots"]);
    assertEquals(left.snapshots.map((s) => s.id), [second.id]);
  });
});

Deno.test("tail -n 0 of a memory recorder is refused and drains nothing; of a file recorder it is fine", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "mem", "-e", TICKS, "--buffer", "1M"]);
    await until("output", async () => (await world.json(["status", "mem"])).state === "recording");
    for (const args of [["tail", "mem", "-n", "0"], ["tail", "mem", "-n", "0", "-f"]]) {
      const r = await world.run(args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, /^stapfr: .*"-n 0".*drain/m);
    }
    // Nothing was drained: the first tick is still in the ring.
    const dumped = await world.ok(["dump", "mem"]);
    assertMatch(dumped, /^tick 1$/m);

    await world.ok(["start", "file", "-e", TICKS, "--output", `${world.root}/out`]);
    assertEquals(await world.ok(["tail", "file", "-n", "0"]), "");
  });
});
