/**
 * SystemTap 4.8's own losses, end to end on the simulator (whose ring is 4.8's by default: sim/kernel/relay.ts), with
 * every figure stapfr reports checked against the script's numbers (docs/loss-accounting.md "Where records are
 * lost"): a record that meets a page's last 1-8 bytes takes no number and stapio 4.8 then drops up to the
 * writer; the first read of a wrapped ring starts inside a record; and the records without a number are
 * counted once along a chain of snapshots.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { readCounters } from "../../lib/driver/counters.ts";
import { until } from "../support/poll.ts";
import { SimWorld } from "../support/sim_world.ts";

/** The lab's tick script, ten times as fast: begin and ticks 1-246 fill 4088 bytes of the first page. */
const TICKS =
  'global n probe begin { printf("begin\\n") } probe timer.ms(10) { n++; printf("tick %d\\n", n) }';
/** The counter (40-byte records: they meet page tails), stopping at 2000 lines. */
const COUNTER_2000 =
  'global n probe timer.ms(1) { if (n < 2000) { n++; printf("%d abcdefghijklmnopqrstuvwxyz\\n", n) } }';
/** A counter printed from both CPUs at every profile tick, in records of about 1 KiB. */
const PAIR_1K = `global n probe timer.profile { n++; printf("%08d cpu%d ${"p".repeat(1000)}\\n", n, cpu()) }`;
/** The counter at 1000 records a second, for good. */
const COUNTER_FAST = 'global n probe timer.ms(1) { n++; printf("%d abcdefghijklmnopqrstuvwxyz\\n", n) }';

interface Loss {
  first_seq: number | null;
  last_seq: number | null;
  records: number;
  missing: {
    before_read: number;
    during_read: number;
    backlog: number | null;
    unreserved: number | null;
    other_reads: number;
    total: number;
    ranges: [number, number][];
    ranges_capped: boolean;
  };
}

/** The numbers of the numbered lines (`tick N` or `N …`). */
function numbers(text: string): number[] {
  return [...text.matchAll(/^(?:tick )?(\d+)\b/gm)].map((m) => Number(m[1]));
}

/** How many numbers from `from` to the largest of `values` are not in `values`. */
function absent(values: readonly number[], from: number): number {
  if (values.length === 0) return 0;
  const last = Math.max(...values);
  return last - from + 1 - new Set(values.filter((v) => v >= from)).size;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("4.8 loss: the slow script's first read after its first page filled loses 247 onwards, and says exactly how many", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "slow", "-e", TICKS, "--buffer", "1M"]);
    // About time: past the first page (2.47 s at 100 ticks a second).
    await sleep(4000);
    const out = `${world.work}/slow.txt`;
    const result = await world.run(["--json", "dump", "slow", "-o", out]);
    assertEquals(result.code, 0, result.stderr);
    const loss = JSON.parse(result.stdout).loss as Loss;
    const text = await Deno.readTextFile(out);
    const seen = numbers(text);
    assertEquals(text.split("\n")[0], "begin");
    // Ticks 1-246 are whole; tick 247 met the 8-byte tail (no number), stapio dropped what followed it.
    assertEquals(seen.slice(0, 246), Array.from({ length: 246 }, (_, i) => i + 1));
    assertEquals(loss.missing.unreserved, 1);
    assertEquals(loss.missing.ranges[0][0], 248, "tick 248 had number 248: tick 247 took none");
    assert(loss.missing.during_read > 0);
    // Tick 248 was written 2.48 s in, long before the dump: the drop took the backlog the read began with.
    assert((loss.missing.backlog ?? 0) > 0, "the numbers from 248 on were written before the dump");
    // Every tick missing from the dump is reported, with the right count.
    assertEquals(absent(seen, 1), loss.missing.total);
    assertMatch(
      result.stderr,
      /\(seq 248–\d+[^)]*\), written before this dump began, did not come through: the ring overwrote them, or stapio dropped them with a backlog it could not frame;.* 1 record could not be reserved/,
    );
  });
});

Deno.test("4.8 loss: a wrapped two-CPU ring's first read blames nothing written before it on the reading", async () => {
  await SimWorld.with(async (world) => {
    // Records of about 1 KiB from both CPUs: a 2 × 1M ring holds about 2,000; 4.8's first read after a wrap
    // begins at each CPU's oldest retained page and then jumps to the newest records.
    await world.ok(["start", "w", "-e", PAIR_1K, "--buffer", "1M"]);
    // Until the module has written twice what the ring holds. Its last number then: the dump reads it again
    // when it attaches, at or after this one.
    const writtenBefore = await until("the module to write 4000 records", async () => {
      const sequence = (await readCounters(`${world.root}/proc`, "stap_fr_w"))?.sequence ?? 0;
      return sequence >= 4000 && sequence;
    }, { intervalMs: 200 });
    const result = await world.run(["--json", "dump", "w", "-o", `${world.work}/w.txt`]);
    assertEquals(result.code, 0, result.stderr);
    const loss = JSON.parse(result.stdout).loss as Loss;
    assert(
      loss.first_seq !== null && loss.first_seq <= writtenBefore,
      "the ring held records when it was read",
    );
    // Every number missing inside the read that was written before the dump began is its backlog (or more:
    // the module went on writing until the dump attached); the rest, at most, was lost while it read.
    const inside = loss.missing.ranges.filter(([a]) => a > loss.first_seq!);
    const early = inside.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, writtenBefore) - a + 1), 0);
    assert(early > 500, `the ring wrapped: ${JSON.stringify(loss.missing)}`);
    assert(!loss.missing.ranges_capped, "every range is listed");
    assert((loss.missing.backlog ?? 0) >= early, `${loss.missing.backlog} of ${early} in the backlog`);
    assert(loss.missing.during_read - loss.missing.backlog! <= loss.missing.during_read - early);
    assertMatch(
      result.stderr,
      /, written before this dump began, did not come through: the ring overwrote them/,
    );
    const reading = /(\d+) records? \(seq ([\d–, …]+)\) (?:was|were) lost while reading/.exec(result.stderr);
    const firstLost = reading ? Number(/^\d+/.exec(reading[2])![0]) : Infinity;
    assert(firstLost > writtenBefore, `blamed on the reading: ${reading?.[0]}`);
  });
});

Deno.test("4.8 loss: a wrapped ring's first read starts inside a record; every missing line is reported", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "w", "-e", COUNTER_2000, "--buffer", "16K"]);
    // About time: the script writes its 2000 lines in 2 s and is quiet after; the 2 × 16K ring wrapped.
    await sleep(3500);
    const out = `${world.work}/w.txt`;
    const result = await world.run(["--json", "dump", "w", "-o", out]);
    assertEquals(result.code, 0, result.stderr);
    const loss = JSON.parse(result.stdout).loss as Loss;
    const seen = numbers(await Deno.readTextFile(out));
    // The ring (16K) is less than stapio's drop (128 KiB): the drop that met the torn first record took it all.
    assertEquals(seen, []);
    assertEquals([loss.first_seq, loss.records], [null, 0]);
    // Nothing passed on, yet the counters say what was written and is not there: every line of the 2000.
    assertEquals(loss.missing.before_read + (loss.missing.unreserved ?? 0), 2000);
    assert((loss.missing.unreserved ?? 0) > 0, "40-byte records met page tails");
    // The next read counts from after what that one accounted for: nothing new, nothing reported twice.
    const again = await world.run(["--json", "dump", "w", "-o", `${world.work}/w2.txt`]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((JSON.parse(again.stdout).loss as Loss).missing.total, 0, again.stderr);
  });
});

Deno.test("4.8 loss: along a chain of snapshots, records without a number count in the snapshot after them, once", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "c", "-e", COUNTER_FAST, "--buffer", "1M"]);
    await sleep(500);
    const first = await world.json<{ id: string }>(["snapshot", "c"]);
    // While detached, records of 40 bytes meet page tails (about 3 a second at this rate): some now, while a
    // dump reads, and some after it.
    await sleep(3000);
    await world.run(["dump", "c", "-o", `${world.work}/between.txt`]);
    await sleep(500);
    const second = await world.json<{ id: string; missing: Loss["missing"] }>(["snapshot", "c"]);
    const log = JSON.parse(await Deno.readTextFile(`${world.stateDir}/c.reads`)) as {
      by: string;
      snapshot?: string;
      transport_failures?: number;
    }[];
    const at = (id: string) => log.find((e) => e.snapshot === id)!.transport_failures!;
    const dump = log.find((e) => e.by === "dump")!.transport_failures!;
    assert(dump > at(first.id), "failures while the dump was not there to read");
    // The second snapshot counts every failure since the first one, the dump's included.
    assertEquals(second.missing.unreserved, at(second.id) - at(first.id));
  });
});

Deno.test("4.8 loss: a module without bulk transport is read as text through the 4.8 ring: clean lines, the loss unknown and said so", async () => {
  await SimWorld.with(async (world) => {
    const X = "x".repeat(100);
    // Numbered 107-byte lines, four a millisecond: the 2 × 64K ring wraps many times over before the dump.
    const script = `global n probe timer.ms(1) { for (i = 0; i < 4; i++) { n++; printf("%d ${X}\\n", n) } }`;
    await world.ok(["build", "text", "-e", script, "--no-bulk", "--out-dir", world.work]);
    await world.ok(["start", "text", "--module", `${world.work}/stap_fr_text.ko`, "--buffer", "64K"]);
    await sleep(2000);
    const out = `${world.work}/text.txt`;
    const result = await world.run(["--json", "dump", "text", "-o", out]);
    assertEquals(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assertEquals(json.loss, null);
    assertMatch(json.loss_unknown, /without sequence numbers/);
    const lines = (await Deno.readTextFile(out)).split("\n");
    assertEquals(lines.pop(), "", "whole lines");
    // Whatever stapio 4.8 made of the wrapped ring (drops, a stale length word and torn text, records cut
    // short), the cleaner passes only whole numbered lines, each once, and counts what it cut.
    for (const line of lines) assertMatch(line, new RegExp(`^\\d+ ${X}$`));
    const seen = lines.map((l) => Number(l.split(" ")[0]));
    assertEquals(new Set(seen).size, seen.length, "no line twice");
  });
});
