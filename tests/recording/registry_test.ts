/**
 * The registry as a user meets it through the CLI: files that are not what stapfr wrote (a symlink, wrong field
 * types, an unknown mode) are reported once and never make a live recorder look like an orphan, and `gc
 * --unload-orphans` asks before unloading stapfr recorders that this state directory does not know.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const TICK = 'probe timer.ms(10) { printf("x\\n") }';

/** How many times `re` matches in `text`. */
function count(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, "g"))].length;
}

Deno.test("a symlinked registry file: reported, not followed, and its live recorder is never unloaded", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", TICK]);
    const file = `${world.stateDir}/r1.json`;
    const elsewhere = `${world.root}/elsewhere.json`;
    await Deno.rename(file, elsewhere);
    await Deno.symlink(elsewhere, file);

    const list = await world.run(["list"]);
    assertEquals(list.code, 0, list.stderr);
    assertEquals(count(list.stderr, /r1\.json/), 1, list.stderr);
    assertMatch(list.stderr, /symbolic link/);
    assert(!/orphan/.test(list.stdout), list.stdout);
    const status = await world.run(["status", "r1"]);
    assertEquals(status.code, 1);
    assertMatch(status.stderr, /^stapfr: .*symbolic link/m);

    const gc = await world.run(["gc", "--unload-orphans", "--yes"]);
    assertEquals(gc.code, 0, gc.stderr);
    assertEquals(Object.keys(await world.modules()), ["stap_fr_r1"]);

    await Deno.remove(file);
    await Deno.rename(elsewhere, file);
  } finally {
    await world.cleanup();
  }
});

Deno.test("registry records with wrong field types: one clear report, no JavaScript error, no unload", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", TICK]);
    const file = `${world.stateDir}/r1.json`;
    const good = JSON.parse(await Deno.readTextFile(file));
    const variants: [string, Record<string, unknown>][] = [
      ["mode", { mode: "bogus" }],
      ["output", { mode: "file", output: null }],
      ["stapArgs", { stapArgs: "-v" }],
      ["module", { module: "ext4" }],
      ["pid", { pid: "12" }],
    ];
    for (const [field, change] of variants) {
      await Deno.writeTextFile(file, JSON.stringify({ ...good, ...change }));
      const list = await world.run(["list"]);
      assertEquals(list.code, 0, list.stderr);
      assertEquals(count(list.stderr, /Corrupt registry file/), 1, `${field}: ${list.stderr}`);
      assertMatch(list.stderr, new RegExp(`"${field}"`), field);
      assert(!/orphan/.test(list.stdout), `${field}: ${list.stdout}`);
      for (const args of [["status", "r1"], ["dump", "r1"], ["stop", "r1"]]) {
        const r = await world.run(args);
        assertEquals(r.code, 1, `${field} ${args[0]}: ${r.stderr}`);
        assertMatch(r.stderr, /^stapfr: Corrupt registry file/m, `${field} ${args[0]}`);
        assert(!/TypeError|Cannot read properties|is not a function/.test(r.stderr), r.stderr);
      }
      const gc = await world.run(["gc", "--unload-orphans", "--yes"]);
      assertEquals(gc.code, 0, gc.stderr);
      assertEquals(Object.keys(await world.modules()), ["stap_fr_r1"], field);
      assertEquals(JSON.parse(await Deno.readTextFile(file)), { ...good, ...change }, "left alone");
    }
    await Deno.writeTextFile(file, JSON.stringify(good));
  } finally {
    await world.cleanup();
  }
});

Deno.test("gc --unload-orphans from an empty state directory lists another directory's recorders and asks for --yes", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", TICK]);
    const empty = `${world.root}/typo-state`;
    const gc = await world.run(["gc", "--unload-orphans"], { STAPFR_STATE_DIR: empty });
    assertEquals(gc.code, 1, gc.stdout + gc.stderr);
    assertMatch(gc.stdout + gc.stderr, /stap_fr_r1/);
    assertMatch(gc.stderr, /--yes/);
    assertEquals(Object.keys(await world.modules()), ["stap_fr_r1"]);
    assertEquals(
      (await world.json<{ recorders: { state: string }[] }>(["list"])).recorders[0].state,
      "recording",
    );

    // Plain gc (no unloading asked for) still only reports it.
    const plain = await world.run(["gc"], { STAPFR_STATE_DIR: empty });
    assertEquals(plain.code, 0, plain.stderr);
    assertMatch(plain.stdout, /kept +stap_fr_r1: orphan/);

    const yes = await world.run(["gc", "--unload-orphans", "--yes"], { STAPFR_STATE_DIR: empty });
    assertEquals(yes.code, 0, yes.stderr);
    assertMatch(yes.stdout, /unloaded stap_fr_r1/);
    assertEquals(await world.modules(), {});
  } finally {
    await world.cleanup();
  }
});

Deno.test("gc removes the temporary file of a write whose stapfr died, and leaves a live writer's", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "r1", "-e", TICK]);
    const dir = world.stateDir;
    // What lib/atomic_write.ts leaves when its process dies between the write and the rename.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const uuid = crypto.randomUUID();
    const orphaned = `${dir}/.r1.json.${dead.pid}.${uuid}.tmp`;
    const live = `${dir}/.r1.json.${Deno.pid}.${uuid}.tmp`;
    for (const path of [orphaned, live]) await Deno.writeTextFile(path, "{", { mode: 0o600 });
    assertEquals((await world.run(["gc"])).code, 0);
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert(!names.includes(orphaned.slice(dir.length + 1)), names.join(" "));
    assert(names.includes(live.slice(dir.length + 1)), names.join(" "));
    assertEquals(
      (await world.json<{ recorders: { name: string }[] }>(["list"])).recorders.map((r) => r.name),
      ["r1"],
    );
  } finally {
    await world.cleanup();
  }
});
