/**
 * End to end on the simulator: `start --adopt` adopts a recorder of that name that is already recording
 * (memory and file mode) without loading anything, and handles every other state as a plain `start` does.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";

const TICK = 'global n\nprobe timer.ms(20) { n++; printf("tick %d\\n", n) }\n';

type Detail = { name: string; state: string; mode: string; pid: number | null; adopted?: boolean };

Deno.test("start --adopt adopts a memory recorder already recording and leaves it untouched", async () => {
  const world = await SimWorld.create();
  try {
    const first = await world.json<Detail>(["start", "io", "-e", TICK, "--adopt"]);
    assertEquals(first.state, "recording");
    assertEquals(first.adopted, undefined, "nothing was registered yet: a fresh start");
    const host = await world.hostPid("stap_fr_io");
    const again = await world.json<Detail>(["start", "io", "-e", TICK, "--adopt"]);
    assertEquals([again.name, again.state, again.adopted], ["io", "recording", true]);
    // The same module host: nothing was unloaded or loaded again.
    assertEquals(await world.hostPid("stap_fr_io"), host);
    assertEquals(await world.modules(), { stap_fr_io: 0 });
    const text = await world.ok(["start", "io", "-e", TICK, "--adopt"]);
    assertMatch(text, /^Recorder "io" was already recording: adopted it \(memory mode, module stap_fr_io, /);
    // Without --adopt the same situation is still an error.
    const plain = await world.run(["start", "io", "-e", TICK]);
    assertEquals(plain.code, 1);
    assertMatch(plain.stderr, /^stapfr: Recorder "io" already exists \(recording\)\n/);
    // And the recorder still records what it recorded before.
    assertMatch(await world.ok(["dump", "io"]), /tick \d+\n/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("start --adopt adopts a file recorder with its stapio daemon", async () => {
  const world = await SimWorld.create();
  try {
    const out = `${world.root}/out`;
    const first = await world.json<Detail>(["start", "f", "-e", TICK, "--output", out, "--adopt"]);
    assert(first.pid !== null);
    const again = await world.json<Detail>(["start", "f", "-e", TICK, "--output", out, "--adopt"]);
    assertEquals([again.mode, again.state, again.pid, again.adopted], ["file", "recording", first.pid, true]);
    // No second run directory was made.
    assertEquals([...Deno.readDirSync(out)].length, 1);
  } finally {
    await world.cleanup();
  }
});

Deno.test("start --adopt refuses a dead recorder as start does, and changes nothing", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "victim", "-e", TICK]);
    Deno.kill(await world.hostPid("stap_fr_victim"), "SIGKILL");
    for (let i = 0; i < 100; i++) {
      const list = await world.json<{ recorders: Detail[] }>(["list"]);
      if (list.recorders[0]?.state === "dead") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await world.modules();
    const r = await world.run(["start", "victim", "-e", TICK, "--adopt"]);
    assertEquals(r.code, 1);
    assertEquals(r.stderr, 'stapfr: Recorder "victim" already exists (dead)\n"stapfr gc" removes it\n');
    assertEquals(r.stdout, "");
    assertEquals((await world.json<{ recorders: Detail[] }>(["list"])).recorders.map((x) => x.state), [
      "dead",
    ]);
    assertEquals(await world.modules(), before);
  } finally {
    await world.cleanup();
  }
});

Deno.test("start --adopt does not adopt an orphan module nobody registered", async () => {
  const world = await SimWorld.create();
  const other = `${world.root}/other-state`;
  try {
    // Recording under another state directory: here it is an orphan module, not a recorder to adopt.
    await world.ok(["--state-dir", other, "start", "io", "-e", TICK]);
    const r = await world.run(["start", "io", "-e", TICK, "--adopt"]);
    assertEquals(r.code, 1);
    assertMatch(
      r.stderr,
      /^stapfr: Module "stap_fr_io" is already loaded, but no recorder "io" is registered here\n/,
    );
    assertEquals((await world.json<{ recorders: Detail[] }>(["list"])).recorders.map((x) => x.state), [
      "orphan",
    ]);
  } finally {
    await world.run(["--state-dir", other, "stop", "--discard", "io"]);
    await world.cleanup();
  }
});
