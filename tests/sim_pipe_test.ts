/**
 * Section 6 item 4: stapio's stdout closed under it. Under `-A` the reader prints "Couldn't write to output",
 * its self-SIGTERM is lost and stapio hangs until an external signal; a foreground run exits cleanly instead.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { destroyWorld, makeWorld, modules, Running, sim, sleep, until } from "./sim_helpers.ts";

const SCRIPT = 'probe vfs.* { printdln("**", pn(), pid()) } probe end { printf("exited\\n") }';

Deno.test("section 6 item 4: -A with a closed stdout prints the error, hangs, and unloads on an external SIGTERM", async () => {
  const world = await makeWorld();
  try {
    await sim(world, ["stap", "-F", "-m", "stap_fr_pipe", "-e", SCRIPT]);
    const run = new Running(world, ["staprun", "-A", "stap_fr_pipe"]);
    try {
      await until("output", () => run.stdout.length > 0);
      await run.closeStdout();
      await until("the write error", () => run.stderr.includes("Couldn't write"));
      await sleep(300);
      // One line per reader thread (CPU) that tried to write, each stopping.
      const lines = run.stderr.trimEnd().split("\n");
      for (const line of lines) {
        assertMatch(line, /^ERROR: Couldn't write to output 1 for cpu \d, exiting\.: Broken pipe$/);
      }
      assertEquals(new Set(lines).size, lines.length);
      assert(lines.length <= 2);
      // Hung: still attached, still alive.
      assertEquals((await modules(world)).get("stap_fr_pipe"), 1);
      run.kill("SIGTERM");
      const out = await run.done();
      assertEquals(out.code, 0);
      assert(!(await modules(world)).has("stap_fr_pipe"));
    } finally {
      await run.stop();
    }
  } finally {
    await destroyWorld(world);
  }
});

Deno.test("section 6 item 4: a foreground run with a closed stdout becomes a normal exit and unload, rc 0", async () => {
  const world = await makeWorld();
  try {
    const run = new Running(world, ["stap", "-m", "stap_fr_fg", "-e", SCRIPT]);
    try {
      await until("output", () => run.stdout.length > 0);
      await run.closeStdout();
      const out = await run.done();
      assertEquals(out.code, 0);
      assertMatch(out.stderr, /^(ERROR: Couldn't write to output 1 for cpu \d, exiting\.: Broken pipe\n)+$/);
      assertEquals((await modules(world)).size, 0);
    } finally {
      await run.stop();
    }
  } finally {
    await destroyWorld(world);
  }
});
