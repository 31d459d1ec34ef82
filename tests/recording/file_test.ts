/**
 * End to end on the simulator, file mode: a rotating recorder (bulk per CPU on 4.x, merged by sequence
 * number), dump, tail, tail -f across rotations, stop with the end-probe output; a plain single-file recorder.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readAll, readUntil, SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

// About 7.5 KB per hit (the print buffer holds 8K) on every CPU: a 1M file fills in well under a second.
const CHUNK = "0123456789".repeat(50);
const SCRIPT = `global n, s
probe begin { s = "${CHUNK}" }
probe timer.profile { n++; printf("%08d %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s\\n", n, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s) }
probe end { printf("END %d\\n", n) }
`;

function numbers(text: string): number[] {
  return [...text.matchAll(/^(\d{8}) /gm)].map((m) => Number(m[1]));
}

function increasing(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x > xs[i - 1]);
}

Deno.test("file recorder with rotation: bulk per CPU, dump merged in order, tail, tail -f across rotations, stop", async () => {
  const world = await SimWorld.create();
  try {
    const out = `${world.root}/out`;
    const started = await world.json(["start", "rot", "-e", SCRIPT, "--output", out, "--rotate", "1M,2"]);
    assertEquals([started.mode, started.state, started.bulk], ["file", "recording", true]);
    assertMatch((started.notes as string[])[0], /applies per CPU/);
    assert(typeof started.pid === "number");
    const runDir = started.run_dir as string;
    assert(runDir.startsWith(`${out}/rot-`), runDir);
    assertEquals((await Deno.stat(runDir)).mode! & 0o777, 0o700);

    // Wait until stapio has rotated and deleted (k-N) on some CPU.
    await until("a rotation with deletion", async () => {
      const names = (await Array.fromAsync(Deno.readDir(runDir))).map((e) => e.name);
      return names.some((n) => /_cpu\d\.2$/.test(n));
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const row = (await world.json<{ recorders: Record<string, unknown>[] }>(["list"])).recorders[0];
    assertEquals([row.state, row.pid], ["recording", started.pid]);
    assert((row.bytes as number) > 1024 * 1024);

    const dump = numbers(await world.ok(["dump", "rot"]));
    assert(dump.length > 300, `${dump.length} lines`);
    assert(increasing(dump), "merged by sequence number");
    assert(dump[0] > 1, "the oldest files were deleted by rotation");

    const tail = numbers(await world.ok(["tail", "rot", "-n", "5"]));
    assertEquals(tail.length, 5);
    assert(increasing(tail) && tail[0] > dump[dump.length - 10]);

    // tail -f: keeps printing across at least one more rotation.
    const files = () => [...Deno.readDirSync(runDir)].map((e) => e.name).sort().join(",");
    const before = files();
    const follow = world.spawn(["tail", "rot", "-n", "1", "-f"]);
    let seen = "";
    const { reader } = await readUntil(follow.stdout, (t) => {
      seen = t;
      return files() !== before && numbers(t).length > 400;
    });
    Deno.kill(-follow.pid, "SIGINT");
    await reader.cancel();
    const [status] = await Promise.all([follow.status, readAll(follow.stderr)]);
    assertEquals(status.code, 0);
    const followed = numbers(seen);
    assert(increasing(followed), "followed output in order");

    const stop = await world.run(["stop", "rot"]);
    assertEquals(stop.code, 0, stop.stderr);
    assertMatch(stop.stdout, /^END \d+$/m);
    assertMatch(stop.stderr, new RegExp(`files stay in "${runDir}"`));
    assertEquals((await world.modules())["stap_fr_rot"], undefined);
    assert([...Deno.readDirSync(runDir)].length > 0, "the files are kept");
  } finally {
    await world.cleanup();
  }
});

Deno.test("file recorder without rotation: one file, dump equals it, a restart gets a new run directory", async () => {
  const world = await SimWorld.create();
  try {
    const out = `${world.root}/out`;
    const script =
      'global n\nprobe timer.ms(5) { n++; printf("%08d line\\n", n) }\nprobe end { printf("END\\n") }\n';
    // A script file given by a relative path (stap itself runs in another directory).
    await Deno.writeTextFile(`${world.root}/one.stp`, script);
    const started = await world.run(["--json", "start", "one", "one.stp", "--output", "out"], {}, world.root);
    assertEquals(started.code, 0, started.stderr);
    const first = JSON.parse(started.stdout);
    assertEquals(first.script_file, `${world.root}/one.stp`);
    assertEquals(first.run_dir.startsWith(`${out}/one-`), true);
    assertEquals(first.bulk, false);
    const file = `${first.run_dir}/one.out`;
    await until(
      "a few lines in the file",
      async () => numbers(await Deno.readTextFile(file).catch(() => "")).length > 5,
    );
    const dumped = await world.ok(["dump", "one"]);
    assert(increasing(numbers(dumped)) && numbers(dumped).length > 5);
    assert((await Deno.readTextFile(file)).startsWith(dumped.slice(0, 100)));
    await world.ok(["stop", "one"]);
    const second = await world.json(["start", "one", "-e", script, "--output", out]);
    assert(second.run_dir !== first.run_dir);
    assert((await Deno.readTextFile(file)).endsWith("END\n"), "the first run's file is untouched");
    await world.ok(["stop", "one"]);
  } finally {
    await world.cleanup();
  }
});
