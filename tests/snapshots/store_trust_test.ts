/**
 * The snapshot store in places stapfr did not make, through the CLI on the simulator: a directory named as the
 * store keeps its mode (`--store /tmp` must not lock anyone out of /tmp), the data goes into a private
 * directory stapfr creates, a store that others could write or own is refused with the reason, and links in
 * the store are never followed; no error quotes a file's contents (docs/snapshots.md "The store").
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICK = 'probe timer.ms(5) { printf("tick %d\\n", gettimeofday_ms()) }';

interface Taken {
  id: string;
  path: string;
  files: { name: string }[];
}

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o7777;
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A file recorder `r1` that has written something: its snapshots are cut without draining anything. */
async function fileRecorder(world: SimWorld): Promise<void> {
  await world.ok(["start", "r1", "-e", TICK, "--output", `${world.root}/out`]);
  await until("output", async () => ((await world.json(["status", "r1"])).bytes as number) > 200);
}

Deno.test("an existing directory named as the store keeps its mode; the data goes into a 0700 directory stapfr creates", async () => {
  await SimWorld.with(async (world) => {
    await fileRecorder(world);
    // Shared and sticky, as /tmp is.
    const shared = `${world.root}/shared`;
    Deno.mkdirSync(shared);
    Deno.chmodSync(shared, 0o1777);
    const inShared = await world.json<Taken>(["snapshot", "r1", "--store", shared]);
    assertEquals(mode(shared), 0o1777, "the shared directory was re-moded");
    assertEquals(inShared.path, `${shared}/r1/${inShared.id}`);
    assertEquals(mode(`${shared}/r1`), 0o700);
    for (const f of inShared.files) assertEquals(mode(`${inShared.path}/${f.name}`), 0o600, f.name);

    // Someone's home (also as $HOME), under a umask that would leave new directories open.
    const home = `${world.root}/home`;
    Deno.mkdirSync(home);
    Deno.chmodSync(home, 0o755);
    const r = await new Deno.Command("sh", {
      args: [
        "-c",
        'umask 000; exec "$@"',
        "sh",
        ...world.argv(["--json", "snapshot", "r1", "--store", home]),
      ],
      env: { ...world.env, HOME: home },
    }).output();
    assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    assertEquals(mode(home), 0o755, "the home directory was re-moded");
    assertEquals(mode(`${home}/r1`), 0o700);

    // A new store is stapfr's own, private from the start whatever the umask.
    const fresh = `${world.root}/fresh/store`;
    const made = await new Deno.Command("sh", {
      args: ["-c", 'umask 000; exec "$@"', "sh", ...world.argv(["snapshot", "r1", "--store", fresh])],
      env: world.env,
    }).output();
    assertEquals(made.code, 0, new TextDecoder().decode(made.stderr));
    assertEquals([mode(`${world.root}/fresh`), mode(fresh), mode(`${fresh}/r1`)], [0o700, 0o700, 0o700]);
  });
});

Deno.test("a store others could write, or a recorder directory stapfr did not make private, is refused with the reason and left as it was", async () => {
  await SimWorld.with(async (world) => {
    await fileRecorder(world);
    // World-writable without the sticky bit: anyone could swap the recorder's directory for a link.
    const open = `${world.root}/open`;
    Deno.mkdirSync(open);
    Deno.chmodSync(open, 0o777);
    for (const args of [["snapshot", "r1"], ["snapshots"], ["snapshots", "prune", "--max-age", "1d"]]) {
      const r = await world.run([...args, "--store", open]);
      assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assertMatch(r.stderr, /^stapfr: .*"[^"]*\/open".*writable by others/m, args.join(" "));
    }
    assertEquals(mode(open), 0o777);
    assertEquals(entries(open), []);

    // A recorder directory that is there already and readable by others: not stapfr's to re-mode.
    const store = `${world.root}/store`;
    Deno.mkdirSync(`${store}/r1`, { recursive: true });
    Deno.chmodSync(`${store}/r1`, 0o755);
    const r = await world.run(["snapshot", "r1", "--store", store]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /^stapfr: .*"[^"]*\/store\/r1".*0755/m);
    assertEquals(mode(`${store}/r1`), 0o755);
    assertEquals(entries(`${store}/r1`), []);
  });
});

Deno.test({
  name: "a store or recorder directory owned by another user is refused (as root)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await SimWorld.with(async (world) => {
      await fileRecorder(world);
      const theirs = `${world.root}/theirs`;
      Deno.mkdirSync(theirs);
      Deno.chmodSync(theirs, 0o755);
      Deno.chownSync(theirs, 65534, 65534);
      const r = await world.run(["snapshot", "r1", "--store", theirs]);
      assertEquals(r.code, 1, r.stderr);
      assertMatch(r.stderr, /^stapfr: .*"[^"]*\/theirs".*owned by uid 65534/m);
      assertEquals(entries(theirs), []);

      // Someone else took the recorder's name first in a shared directory.
      const shared = `${world.root}/shared`;
      Deno.mkdirSync(`${shared}/r1`, { recursive: true });
      Deno.chmodSync(shared, 0o1777);
      Deno.chmodSync(`${shared}/r1`, 0o700);
      Deno.chownSync(`${shared}/r1`, 65534, 65534);
      const squatted = await world.run(["snapshot", "r1", "--store", shared]);
      assertEquals(squatted.code, 1, squatted.stderr);
      assertMatch(squatted.stderr, /^stapfr: .*"[^"]*\/shared\/r1".*owned by uid 65534/m);
      assertEquals(entries(`${shared}/r1`), []);
    });
  },
});

Deno.test("a recorder directory in the store that is a symbolic link is never followed: not listed, not pruned, not written", async () => {
  await SimWorld.with(async (world) => {
    await fileRecorder(world);
    // A real snapshot, then a copy of its recorder directory elsewhere, linked into another store as r1.
    const real = await world.json<Taken>(["snapshot", "r1", "--store", `${world.root}/a`]);
    const victim = `${world.root}/victim`;
    const cp = await new Deno.Command("cp", { args: ["-a", `${world.root}/a/r1`, victim] }).output();
    assert(cp.success);
    Deno.chmodSync(victim, 0o755);
    const store = `${world.root}/s`;
    Deno.mkdirSync(store, { mode: 0o700 });
    Deno.symlinkSync(victim, `${store}/r1`);
    const before = entries(victim);

    for (const args of [["snapshots"], ["snapshots", "r1"]]) {
      const r = await world.run(["--json", ...args, "--store", store]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout).snapshots, [], args.join(" "));
      assertMatch(r.stderr, /"[^"]*\/s\/r1": .*symbolic link/, args.join(" "));
    }
    const show = await world.run(["snapshots", "show", real.id, "--store", store]);
    assertEquals(show.code, 1, show.stdout);
    assertEquals(show.stdout, "");
    const prune = await world.run(["snapshots", "prune", "r1", "--max-age", "0s", "--store", store]);
    assertMatch(prune.stderr, /symbolic link/);
    assertEquals(entries(victim), before, "prune deleted through the link");
    const snap = await world.run(["snapshot", "r1", "--store", store]);
    assertEquals(snap.code, 1, snap.stdout);
    assertMatch(snap.stderr, /^stapfr: .*"[^"]*\/s\/r1".*symbolic link/m);
    assertEquals(entries(victim), before, "snapshot wrote through the link");
    assertEquals(mode(victim), 0o755, "snapshot re-moded the link's target");
  });
});

Deno.test("a manifest or data file that is a symbolic link is not read, and no error quotes a file's contents", async () => {
  await SimWorld.with(async (world) => {
    await fileRecorder(world);
    const store = `${world.root}/a`;
    const one = await world.json<Taken>(["snapshot", "r1", "--store", store]);
    const two = await world.json<Taken>(["snapshot", "r1", "--store", store]);
    const three = await world.json<Taken>(["snapshot", "r1", "--store", store]);
    const secret = `${world.root}/secret`;
    Deno.writeTextFileSync(secret, "secret-token-4711\n", { mode: 0o600 });

    Deno.removeSync(`${one.path}/manifest.json`);
    Deno.symlinkSync(secret, `${one.path}/manifest.json`);
    // Not JSON at all: the parser's message would quote the first bytes.
    Deno.writeTextFileSync(`${two.path}/manifest.json`, "secret-token-4711\n");
    const data = `${three.path}/${three.files[0].name}`;
    Deno.removeSync(data);
    Deno.symlinkSync(secret, data);

    const list = await world.run(["--json", "snapshots", "--store", store]);
    assertEquals(list.code, 0, list.stderr);
    assert(!/secret-tok/.test(list.stdout + list.stderr), list.stdout + list.stderr);
    const broken = JSON.parse(list.stdout).broken as { path: string; reason: string }[];
    assertEquals(broken.map((b) => b.path).sort(), [one.path, two.path].sort());
    assertMatch(broken.find((b) => b.path === one.path)!.reason, /symbolic link/);
    for (const ref of [one.id, two.id]) {
      const r = await world.run(["snapshots", "show", ref, "--store", store]);
      assertEquals(r.code, 1, r.stdout);
      assert(!/secret-tok/.test(r.stdout + r.stderr), r.stdout + r.stderr);
    }
    const served = await world.run(["snapshots", "show", three.id, "--data", "--store", store]);
    assertEquals(served.code, 1, served.stderr);
    assertEquals(served.stdout, "", "the link's target was served");
    assertMatch(served.stderr, new RegExp(`^stapfr: .*"${three.files[0].name}".*symbolic link`, "m"));
  });
});
