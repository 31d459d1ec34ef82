/**
 * Snapshot references and concurrent deletion, through the CLI on the simulator: a reference is `ID` or
 * `NAME/ID` and nothing else (a longer one is refused, not cut), and two prunes at once both succeed, since
 * what one finds gone the other removed (docs/snapshots.md "The store").
 * @module
 */
import { assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";
import { formatId, idStamp } from "../../lib/snapshots/id.ts";

const TICK = 'probe timer.ms(5) { printf("tick %d\\n", gettimeofday_ms()) }';

Deno.test("a malformed snapshot reference is refused, not cut short", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "r1", "-e", TICK, "--output", `${world.root}/out`]);
    await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 100);
    const { id } = await world.json<{ id: string }>(["snapshot", "r1"]);
    assertEquals((await world.run(["snapshots", "show", `r1/${id}`])).code, 0);
    for (
      const ref of [
        `r1/${id}/../../etc`,
        `r1/${id}/`,
        `${id}/x`,
        `R1/${id}`,
        `r1//${id}`,
        "/etc",
        `../${id}`,
        "",
      ]
    ) {
      for (const args of [["snapshots", "show", ref], ["snapshots", "show", ref, "--data"]]) {
        const r = await world.run(args);
        assertEquals(r.code, 2, `${JSON.stringify(ref)}: ${r.stdout}`);
        assertEquals(r.stdout, "");
        assertMatch(r.stderr, /^stapfr: Invalid snapshot reference .*expected ID or NAME\/ID/m, ref);
      }
    }
  });
});

Deno.test("two prunes at once: both succeed and every snapshot goes once", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "r1", "-e", TICK, "--output", `${world.root}/out`]);
    await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 100);
    const real = await world.json<{ id: string; path: string }>(["snapshot", "r1"]);
    // Many snapshots, so that the two prunes overlap: copies of a real one under IDs of their own.
    const manifest = JSON.parse(Deno.readTextFileSync(`${real.path}/manifest.json`));
    const dir = `${world.stateDir}/snapshots/r1`;
    const ids: string[] = [real.id];
    for (let i = 1; i <= 300; i++) {
      const id = formatId(idStamp(Date.UTC(2026, 0, 1) + i * 1000), 1);
      Deno.mkdirSync(`${dir}/${id}`, { mode: 0o700 });
      for (const f of manifest.files) Deno.copyFileSync(`${real.path}/${f.name}`, `${dir}/${id}/${f.name}`);
      Deno.writeTextFileSync(`${dir}/${id}/manifest.json`, JSON.stringify({ ...manifest, id }), {
        mode: 0o600,
      });
      ids.push(id);
    }
    const both = await Promise.all(
      [0, 1].map(() => world.run(["--json", "snapshots", "prune", "--keep", "0"])),
    );
    for (const r of both) assertEquals(r.code, 0, r.stderr);
    const removed = both.flatMap((r) => (JSON.parse(r.stdout).removed as { id: string }[]).map((s) => s.id));
    assertEquals(removed.sort(), ids.sort(), "each snapshot removed by exactly one of them");
    assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots"])).snapshots, []);
  });
});
