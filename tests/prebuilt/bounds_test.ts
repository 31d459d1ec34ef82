/**
 * End to end on the simulator: `start --module` checks a module file's type and size before it reads it, and
 * reads only what the checks need (lib/recorder/prebuilt.ts): a path that is not a regular file (a FIFO, a
 * device behind a link) or is far larger than any module is refused at once, with one line, nothing loaded or
 * registered; a real module still starts.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const SCRIPT = 'probe timer.ms(100) { printf("x\\n") }';

/** `stapfr --sim ARGS…`, at most `ms` (a start that reads an endless file would never end). */
async function bounded(world: SimWorld, args: string[], ms = 20_000) {
  const child = world.command(["--sim", ...args], { detached: true }).spawn();
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* gone */ }
  }, ms);
  const t0 = Date.now();
  const out = await child.output();
  clearTimeout(timer);
  return { code: late ? -1 : out.code, stderr: new TextDecoder().decode(out.stderr), ms: Date.now() - t0 };
}

Deno.test("start --module refuses a FIFO, a device and a huge file before reading them, and still starts a module", async () => {
  const world = await SimWorld.create();
  try {
    const dir = `${world.root}/mods`;
    await Deno.mkdir(dir);
    const fifo = `${dir}/fifo/stap_fr_r.ko`;
    await Deno.mkdir(`${dir}/fifo`);
    assertEquals((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    const device = `${dir}/device/stap_fr_r.ko`;
    await Deno.mkdir(`${dir}/device`);
    await Deno.symlink("/dev/null", device);
    // Sparse: it costs no disk, but reading it whole would cost 300 MiB of memory.
    const huge = `${dir}/huge/stap_fr_r.ko`;
    await Deno.mkdir(`${dir}/huge`);
    await Deno.truncate(huge, 300 * 1024 * 1024).catch(async () => {
      await Deno.writeFile(huge, new Uint8Array(0));
      await Deno.truncate(huge, 300 * 1024 * 1024);
    });
    for (
      const [path, message] of [
        [fifo, /^stapfr: ".*fifo\/stap_fr_r\.ko" is not a kernel module \(not a regular file\)$/m],
        [device, /^stapfr: ".*device\/stap_fr_r\.ko" is not a kernel module \(not a regular file\)$/m],
        [huge, /^stapfr: ".*huge\/stap_fr_r\.ko" is not a kernel module \(314572800 bytes; .*256M\)$/m],
      ] as [string, RegExp][]
    ) {
      const r = await bounded(world, ["start", "r", "--module", path]);
      assertEquals(r.code, 1, `${path}: ${r.stderr}`);
      assertMatch(r.stderr, message);
      assert(r.ms < 10_000, `${path}: ${r.ms} ms`);
      assertEquals(
        (await world.json<{ recorders: unknown[] }>(["list"])).recorders,
        [],
        "nothing registered",
      );
      assertEquals(Object.keys(await world.modules()), [], "nothing loaded");
    }
    await world.ok(["build", "r", "-e", SCRIPT, "--out-dir", dir]);
    await world.ok(["start", "r", "--module", `${dir}/stap_fr_r.ko`]);
    const status = await world.json<{ state: string; module_file: string }>(["status", "r"]);
    assertEquals([status.state, status.module_file], ["recording", `${dir}/stap_fr_r.ko`]);
  } finally {
    await world.cleanup();
  }
});
