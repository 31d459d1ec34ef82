/**
 * Section 6 item 4: stapio's stdout closed under it. Under `-A` the reader prints "Couldn't write to output",
 * its self-SIGTERM is lost and stapio hangs until an external signal; a foreground run exits cleanly instead.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld, STANDIN_KNOBS } from "../support/sim_world.ts";
import { sleep, until } from "../support/poll.ts";

const SCRIPT = 'probe vfs.* { printdln("**", pn(), pid()) } probe end { printf("exited\\n") }';

/** A world with the stand-in knobs, cleaned up after `fn`. */
function withWorld(fn: (w: SimWorld) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  return SimWorld.with(fn, { ...STANDIN_KNOBS, ...env });
}

Deno.test("section 6 item 4: -A with a closed stdout prints the error, hangs, and unloads on an external SIGTERM", async () => {
  await withWorld(async (world) => {
    await world.sim(["stap", "-F", "-m", "stap_fr_pipe", "-e", SCRIPT]);
    const run = world.running(["staprun", "-A", "stap_fr_pipe"]);
    try {
      await until("output", () => run.stdout.length > 0);
      await run.closeStdout();
      await until("the write error", () => run.stderr.includes("Couldn't write"));
      // About time: the other CPU's reader may still report its error, and stapio must NOT exit meanwhile.
      await sleep(300);
      // One line per reader thread (CPU) that tried to write, each stopping.
      const lines = run.stderr.trimEnd().split("\n");
      for (const line of lines) {
        assertMatch(line, /^ERROR: Couldn't write to output 1 for cpu \d, exiting\.: Broken pipe$/);
      }
      assertEquals(new Set(lines).size, lines.length);
      assert(lines.length <= 2);
      // Hung: still attached, still alive.
      assertEquals((await world.modules())["stap_fr_pipe"], 1);
      run.kill("SIGTERM");
      const out = await run.done();
      assertEquals(out.code, 0);
      assert(!("stap_fr_pipe" in await world.modules()));
    } finally {
      await run.stop();
    }
  });
});

Deno.test("section 6 item 4: a foreground run with a closed stdout becomes a normal exit and unload, rc 0", async () => {
  await withWorld(async (world) => {
    const run = world.running(["stap", "-m", "stap_fr_fg", "-e", SCRIPT]);
    try {
      await until("output", () => run.stdout.length > 0);
      await run.closeStdout();
      const out = await run.done();
      assertEquals(out.code, 0);
      assertMatch(out.stderr, /^(ERROR: Couldn't write to output 1 for cpu \d, exiting\.: Broken pipe\n)+$/);
      assertEquals(Object.keys(await world.modules()).length, 0);
    } finally {
      await run.stop();
    }
  });
});
