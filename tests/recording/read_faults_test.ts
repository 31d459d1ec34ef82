/**
 * Faults at the read path's boundaries, through the CLI on the simulator (issue "Faults and hostile input, round
 * three"): an interrupted dump says it is partial and exits 130, keeping a file under a name that says so; a
 * tail into a failing output says what it lost; two snapshots at once cost the winner nothing, and what each
 * read took is accounted for by sequence number (docs/loss-accounting.md).
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { spawnWithStdout } from "../support/readers.ts";

/**
 * One 24-byte record every 2 ms: with its 8-byte header a record is 32 bytes, so records fill 4 KiB pages
 * exactly, no record meets 4.8's 1-8 byte page tail (which would take it without a number), and each line's
 * number is its record's sequence number.
 */
const COUNTER = 'global n probe timer.ms(2) { n++; printf("%08d abcdefghijklmn\\n", n) }';
// A slow drain: many records, so that an interrupt comes while the dump is still reading.
const FLOOD = 'global n probe timer.ms(1) { for (i = 0; i < 20; i++) { n++; printf("%d %0100d\\n", n, 0) } }';

function numbers(text: string): number[] {
  return [...text.matchAll(/^(\d+) /gm)].map((m) => Number(m[1]));
}

Deno.test("an interrupted dump exits 130, says it is partial, and keeps -o's data as FILE.partial", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "f", "-e", FLOOD, "--buffer", "4M"]);
    await new Promise((r) => setTimeout(r, 1500));
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      // To stdout: the bytes printed are all there is, and the exit code says so.
      const child = world.spawn(["dump", "f"]);
      const reader = child.stdout.getReader();
      await reader.read();
      Deno.kill(-child.pid, signal);
      let printed = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read()) printed += r.value.length;
      const stderr = await new Response(child.stderr).text();
      const status = await child.status;
      assertEquals(status.code, 130, `${signal}: ${stderr}`);
      assertMatch(
        stderr,
        /^stapfr: Interrupted: the dump printed is partial \(\d+ bytes, records \d+–\d+\); "f" keeps recording$/m,
      );
      assert(printed > 0);
      // Into a file: never under the name asked for.
      const path = `${world.work}/dump-${signal}.txt`;
      const intoFile = world.spawn(["dump", "f", "-o", path]);
      await new Promise((r) => setTimeout(r, 300));
      Deno.kill(-intoFile.pid, signal);
      const [out, err] = await Promise.all([
        new Response(intoFile.stdout).text(),
        new Response(intoFile.stderr).text(),
      ]);
      assertEquals((await intoFile.status).code, 130, `${signal}: ${err}`);
      assertEquals(out, "");
      assertMatch(
        err,
        new RegExp(`the partial dump \\(\\d+ bytes[^)]*\\) is in ".*dump-${signal}\\.txt\\.partial"`),
      );
      assertEquals(
        await Deno.stat(path).then(() => true, () => false),
        false,
        "no file under the asked name",
      );
      assertEquals((await Deno.stat(`${path}.partial`)).mode! & 0o777, 0o600);
      assertEquals((await world.json<{ state: string }>(["status", "f"])).state, "recording");
    }
  });
});

Deno.test("tail of a memory recorder into a failing output says what was lost, and the next snapshot counts it", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "m1", "-e", COUNTER, "--buffer", "1M"]);
    await new Promise((r) => setTimeout(r, 1000));
    const first = await world.json<{ last_seq: number }>(["snapshot", "m1"]);
    await new Promise((r) => setTimeout(r, 1000));
    const r = await (async () => {
      const child = spawnWithStdout(world, ["tail", "m1", "-n", "3"], "/dev/full");
      const [stderr, status] = await Promise.all([new Response(child.stderr).text(), child.status]);
      return { stderr, code: status.code };
    })();
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /^stapfr: Cannot write the output of tail: No space left on device/m);
    assertMatch(r.stderr, /what was read and not written is lost/);
    // What the tail drained is not passed off as contiguous: the next snapshot counts it, exactly.
    const next = await world.json<
      { contiguous: boolean; first_seq: number; missing: { other_reads: number } }
    >(
      ["snapshot", "m1"],
    );
    assertEquals(next.contiguous, false);
    assertEquals(next.missing.other_reads, next.first_seq - first.last_seq - 1);
    assert(next.missing.other_reads > 0);
  });
});

Deno.test("two snapshots at once: the loser fails cleanly, the winner keeps its data, nothing goes unaccounted", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "r1", "-e", COUNTER, "--buffer", "1M"]);
    await new Promise((r) => setTimeout(r, 500));
    let last = (await world.json<{ last_seq: number }>(["snapshot", "r1"])).last_seq;
    for (let round = 0; round < 8; round++) {
      await new Promise((r) => setTimeout(r, 300));
      const both = await Promise.all([
        world.run(["--json", "snapshot", "r1"]),
        world.run(["--json", "snapshot", "r1"]),
      ]);
      const won = both.filter((r) => r.code === 0);
      assert(won.length >= 1, `round ${round}: ${both.map((r) => r.stderr).join(" | ")}`);
      for (const lost of both.filter((r) => r.code !== 0)) {
        assertMatch(lost.stderr, /already attached by another reader|busy/, `round ${round}`);
      }
      for (const w of won) {
        const m = JSON.parse(w.stdout);
        const seen = numbers(await Deno.readTextFile(`${m.path}/r1.out`));
        assert(
          seen.length > 0,
          `round ${round}: the winner's snapshot holds data (${won.length} won): ${w.stdout}`,
        );
        assertEquals([m.first_seq, m.last_seq], [seen[0], seen.at(-1)]);
        // Joined to the previous one exactly, or the gap counted exactly.
        assertEquals(m.missing.before_read + m.missing.other_reads, m.first_seq - last - 1, `round ${round}`);
        last = m.last_seq;
      }
    }
  });
});
