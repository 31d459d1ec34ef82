/**
 * Snapshot data checked against its manifest, through the CLI on the simulator: `snapshots show --data`
 * checks size and SHA-256 as it serves and names the damaged file, the listing marks a snapshot whose files
 * have the wrong size, and `snapshots verify` hashes the whole store or the snapshots given
 * (docs/snapshots.md "Checking").
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICK = 'probe timer.ms(5) { printf("tick %d\\n", gettimeofday_ms()) }';

interface Taken {
  id: string;
  path: string;
  files: { name: string; bytes: number }[];
}

/** Replaces a data file with `change(data)`, as a new file (a hard link into the run must not change too). */
function rewrite(path: string, change: (data: Uint8Array) => Uint8Array): void {
  const data = change(Deno.readFileSync(path));
  Deno.removeSync(path);
  Deno.writeFileSync(path, data, { mode: 0o600 });
}

Deno.test("damaged snapshot data: show --data says which file and fails, the listing marks it, verify finds it", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "r1", "-e", TICK, "--output", `${world.root}/out`]);
    await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 2000);
    const flipped = await world.json<Taken>(["snapshot", "r1"]);
    const truncated = await world.json<Taken>(["snapshot", "r1"]);
    const intact = await world.json<Taken>(["snapshot", "r1"]);
    const name = flipped.files[0].name;
    assertEquals(flipped.files.length, 1);
    rewrite(`${flipped.path}/${name}`, (d) => {
      d[d.length >> 1] ^= 0x20;
      return d;
    });
    rewrite(`${truncated.path}/${name}`, (d) => d.subarray(0, 100));

    // A flipped byte is found at the end of the file, after it was served: exit 1, the output is untrusted.
    const bad = await world.run(["snapshots", "show", flipped.id, "--data"]);
    assertEquals(bad.code, 1, bad.stderr);
    assertMatch(bad.stderr, new RegExp(`^stapfr: .*${flipped.id}.*"${name}".*SHA-256`, "m"));
    assertMatch(bad.stderr, /unverified/);
    // A wrong size is found before anything is served.
    const short = await world.run(["snapshots", "show", truncated.id, "--data"]);
    assertEquals(short.code, 1, short.stderr);
    assertEquals(short.stdout, "");
    assertMatch(short.stderr, new RegExp(`^stapfr: .*${truncated.id}.*"${name}".*100 bytes`, "m"));
    const good = await world.run(["snapshots", "show", intact.id, "--data"]);
    assertEquals(good.code, 0, good.stderr);
    assertEquals(good.stdout, Deno.readTextFileSync(`${intact.path}/${name}`));

    // -o: no file takes the name of a damaged snapshot's data.
    const out = `${world.root}/flipped.txt`;
    const toFile = await world.run(["snapshots", "show", flipped.id, "--data", "-o", out]);
    assertEquals(toFile.code, 1, toFile.stderr);
    assert(!(await Deno.stat(out).then(() => true, () => false)), `"${out}" was written as if whole`);

    // The listing's size check marks the truncated one (the flipped byte needs the full hash of verify).
    const listed = await world.json<{ snapshots: { id: string; damaged: string | null }[] }>(["snapshots"]);
    assertEquals(listed.snapshots.map((s) => [s.id, s.damaged !== null]), [
      [flipped.id, false],
      [truncated.id, true],
      [intact.id, false],
    ]);
    const table = await world.ok(["snapshots"]);
    assertMatch(table, new RegExp(`^${truncated.id} .* \\S*D\\S* `, "m"));
    assert(!new RegExp(`^${intact.id} .* \\S*D\\S* `, "m").test(table), table);

    const all = await world.run(["snapshots", "verify"]);
    assertEquals(all.code, 1, all.stderr);
    assertMatch(all.stdout + all.stderr, new RegExp(`r1/${flipped.id}.*"${name}".*SHA-256`));
    assertMatch(all.stdout + all.stderr, new RegExp(`r1/${truncated.id}.*"${name}".*100 bytes`));
    assertMatch(all.stdout, new RegExp(`^ok +r1/${intact.id}`, "m"));
    const one = await world.run(["snapshots", "verify", intact.id]);
    assertEquals(one.code, 0, one.stderr);
    const some = await world.run(["--json", "snapshots", "verify", `r1/${flipped.id}`, intact.id]);
    assertEquals(some.code, 1, some.stderr);
    const report = JSON.parse(some.stdout) as { snapshots: { id: string; ok: boolean }[] };
    assertEquals(report.snapshots.map((s) => [s.id, s.ok]), [[flipped.id, false], [intact.id, true]]);
  });
});
