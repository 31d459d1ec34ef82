/**
 * Starting recorders as a user meets it through the CLI on the simulator: sizes below 1 MiB reach the stapio
 * daemon faithfully, a failed start leaves nothing loaded or registered, file-mode output is 0600 in a 0700 run
 * directory whatever the umask, the state directory is tightened to 0700, and a file recorder whose script ends
 * at once is not announced as recording.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { stapfrArgv } from "../support/stapfr.ts";
import { SimWorld } from "../support/sim_world.ts";

// About 500 bytes a millisecond: a 64K file fills in well under a second.
const FAST = `probe timer.ms(1) { printf("%s\\n", "${"0123456789".repeat(50)}") }`;

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("--rotate 64K,3 on the simulator: the daemon starts and switches files at 64K", async () => {
  const world = await SimWorld.create();
  try {
    const out = `${world.root}/out`;
    const start = await world.run([
      "--json",
      "start",
      "r2",
      "-e",
      FAST,
      "--output",
      out,
      "--rotate",
      "64K,3",
    ]);
    if (start.code !== 0) {
      // What a failed start must leave: nothing loaded, nothing registered.
      assertEquals(await world.modules(), {}, `a failed start left its module loaded: ${start.stderr}`);
    }
    assertEquals(start.code, 0, start.stderr);
    const runDir = JSON.parse(start.stdout).run_dir as string;
    const numbered = async () =>
      (await names(runDir)).map((n) => /^r2\.out_cpu(\d+)\.(\d+)$/.exec(n)).filter((m) => m !== null)
        .map((m) => ({ name: m[0], cpu: Number(m[1]), n: Number(m[2]) }));
    await waitFor("a switch to a fourth file", async () => (await numbered()).some((f) => f.n >= 3));
    const files = await numbered();
    // Kept: 3 files per CPU at most (a switch deletes k-N).
    for (const cpu of new Set(files.map((f) => f.cpu))) {
      assert(files.filter((f) => f.cpu === cpu).length <= 3, JSON.stringify(files));
    }
    for (const f of files) {
      if (files.some((g) => g.cpu === f.cpu && g.n > f.n)) {
        // A full file: at most 64K of payload, plus 4.8's bulk record headers (8 bytes a record).
        const size = (await Deno.stat(`${runDir}/${f.name}`)).size;
        assert(size > 32 * 1024 && size < 64 * 1024 + 4096, `${f.name}: ${size} bytes`);
      }
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("file-mode output under umask 0: a 0700 run directory of 0600 files; the state directory tightened to 0700", async () => {
  const world = await SimWorld.create();
  try {
    await Deno.mkdir(world.stateDir, { mode: 0o755 });
    await Deno.chmod(world.stateDir, 0o755);
    const argv = [
      ...stapfrArgv(),
      "--sim",
      "--json",
      "start",
      "f1",
      "-e",
      FAST,
      "--output",
      `${world.root}/out`,
      "--bulk",
    ];
    // A shell only to set the umask; everything else is passed as arguments, never as shell text.
    const out = await new Deno.Command("sh", {
      args: ["-c", 'umask 0; exec "$@"', "sh", ...argv],
      env: world.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const runDir = JSON.parse(new TextDecoder().decode(out.stdout)).run_dir as string;
    await waitFor("a file per CPU", async () => (await names(runDir)).length >= 2);
    assertEquals((await Deno.stat(runDir)).mode! & 0o777, 0o700);
    for (const name of await names(runDir)) {
      assertEquals(((await Deno.stat(`${runDir}/${name}`)).mode! & 0o777).toString(8), "600", name);
    }
    assertEquals(((await Deno.stat(world.stateDir)).mode! & 0o777).toString(8), "700");
  } finally {
    await world.cleanup();
  }
});

Deno.test("a file recorder whose script exits at once: start says it ended, as list does", async () => {
  const world = await SimWorld.create();
  try {
    const start = await world.run([
      "start",
      "once",
      "-e",
      'probe begin { printf("hello\\n"); exit() }',
      "--output",
      `${world.root}/out`,
    ]);
    assertEquals(start.code, 0, start.stderr);
    const row = (await world.json<{ recorders: { state: string }[] }>(["list"])).recorders[0];
    assertEquals(row.state, "exited");
    assert(!/is recording/.test(start.stdout), start.stdout);
    assertMatch(start.stdout, /has already ended/);
    assertEquals(await world.ok(["dump", "once"]), "hello\n");
  } finally {
    await world.cleanup();
  }
});
