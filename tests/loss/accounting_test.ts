/**
 * Loss accounting end to end on the simulator (docs/loss-accounting.md): a counter script prints its counter
 * once per probe, so each line's number is its record's sequence number (or runs ahead of it by records that got
 * none, each reported: `counterLead`), and every figure stapfr reports can be
 * checked against the numbers that are, and are not, in its output. One test per cause of loss (before a read,
 * during a read, between reads), a reader killed mid-read, and a chain of 20 snapshots whose union must be
 * gap-free wherever the manifests say so, with every count exact.
 * @module
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

// These tests check stapfr's figures against the script's own counter, so each record's sequence number must
// be the counter (COUNTER: one record a probe) or follow from it (FAST: four lines a record). On SystemTap 4.8
// that holds only for records that never meet a sub-buffer's last 1-8 bytes: such a record is dropped without
// a number (docs/loss-accounting.md "Where records are lost", item 1), so the counter runs ahead of the
// sequence, and stapio then drops what follows. Records of 32 and 1024 bytes with their header fill 4 KiB
// pages exactly: they never meet such a tail, are never cut short at a page's end, and a wrapped ring's first
// read starts on a record. (The 4.8 losses themselves are tested in sim/kernel/relay_48_test.ts and the kernel lab.)
const COUNTER = 'global n probe timer.ms(2) { n++; printf("%08d abcdefghijklmn\\n", n) }';
// Ten times the rate, for a ring that must fill while a slow reader holds it.
const FAST = 'global n probe timer.ms(1) { for (i = 0; i < 4; i++) { n++; printf("%08d %0244d\\n", n, 0) } }';

interface Missing {
  before_read: number;
  during_read: number;
  unreserved: number | null;
  other_reads: number;
  total: number;
  ranges: [number, number][];
}

interface SnapshotManifest {
  id: string;
  path: string;
  previous: string | null;
  contiguous: boolean;
  gap_reason: string | null;
  wrapped: boolean;
  first_seq: number | null;
  last_seq: number | null;
  records: number | null;
  missing: Missing | null;
}

/** The counter values of the lines in `text`, in order. */
function numbers(text: string): number[] {
  return [...text.matchAll(/^(\d+) /gm)].map((m) => Number(m[1]));
}

/** How many values between the first and the last of `values` (sorted) are absent. */
function holes(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.at(-1)! - values[0] + 1 - new Set(values).size;
}

function sorted(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || values[i - 1] < v);
}

/**
 * How far the counter is ahead of the sequence number at a read's first and last record. A record the module
 * could not reserve (the ring full while a reader is attached, as when a loaded machine slows the reader:
 * docs/loss-accounting.md "Where records are lost", item 4) gets no number while the counter goes on; every
 * such record is reported in `unreserved`. On a machine that keeps up both are 0.
 */
function counterLead(
  seen: readonly number[],
  loss: { first_seq: number | null; last_seq: number | null },
): [number, number] {
  return [seen[0] - loss.first_seq!, seen.at(-1)! - loss.last_seq!];
}

/** Records in one CPU's 64K ring less its oldest page (a wrapped ring's first read starts a page on): 15 × 128. */
const WRAPPED_64K_RECORDS = 15 * (4096 / 32);

Deno.test("loss before a read: a ring that wrapped says exactly which records it overwrote", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "c", "-e", COUNTER, "--buffer", "16K"]);
    // About time: the 2 × 16K ring wraps in about two seconds at 500 records a second.
    await new Promise((r) => setTimeout(r, 3000));
    const out = `${world.work}/dump.txt`;
    const result = await world.json<{ loss: { first_seq: number; last_seq: number; missing: Missing } }>(
      ["dump", "c", "-o", out],
    );
    const seen = numbers(await Deno.readTextFile(out));
    assert(sorted(seen), "in global order");
    // Nothing goes unreserved while nobody reads (the ring overwrites); only while this dump reads.
    const [leadFirst, leadLast] = counterLead(seen, result.loss);
    assertEquals(leadFirst, 0, "the first record's number is its counter");
    assert(
      leadLast <= (result.loss.missing.unreserved ?? 0),
      `${leadLast} records without a number, reported`,
    );
    assert(seen[0] > 1, "the ring wrapped");
    assertEquals(result.loss.missing.before_read, seen[0] - 1, "records 1 … first-1 were overwritten");
    assertEquals(result.loss.missing.ranges[0], [1, seen[0] - 1]);
    assertEquals(result.loss.missing.during_read + leadLast, holes(seen));
    // About time again, for the ring to wrap once more while detached; and people are told, on stderr.
    await new Promise((r) => setTimeout(r, 3000));
    const again = await world.run(["dump", "c"]);
    const next = numbers(again.stdout);
    assertEquals(next[0] > seen.at(-1)! + 1, true, "the ring wrapped again while detached");
    const said = /stapfr: (\d+) records \(seq (\d+)–(\d+)\) were overwritten before this dump began/.exec(
      again.stderr,
    );
    assert(said, again.stderr);
    const [count, from, to] = said.slice(1).map(Number);
    assertEquals([from, count], [result.loss.last_seq + 1, to - from + 1], again.stderr);
    // The next dump's first record is number `to + 1`; its counter is ahead by what went unreserved before it.
    const lead = next[0] - (to + 1);
    assert(
      leadLast <= lead && lead <= (result.loss.missing.unreserved ?? 0),
      `${lead} records without a number`,
    );
  });
});

Deno.test("loss during a read: a reader that falls behind loses records, and says exactly how many", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "fast", "-e", FAST, "--buffer", "16K"]);
    const child = world.spawn(["attach", "fast"]);
    // Nobody reads attach's output for a while: its pipe fills, stapio blocks, the ring fills while attached.
    await new Promise((r) => setTimeout(r, 2500));
    const stdout = new Response(child.stdout).text();
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGINT");
    const [text, stderr] = await Promise.all([stdout, new Response(child.stderr).text()]);
    assertEquals((await child.status).code, 0, stderr);
    const seen = numbers(text);
    assert(sorted(seen), "in global order");
    // Four lines a probe, one record a probe: line n is in record ceil(n / 4).
    const records = [...new Set(seen.map((n) => Math.ceil(n / 4)))];
    const lost = holes(records);
    assert(lost > 0, "the ring had to drop records");
    // Every absent number is reported: as a gap in the sequence, or as a record the module could not reserve.
    const during = Number(/(\d+) records? \([^)]*\) (?:was|were) lost while reading/.exec(stderr)?.[1] ?? 0);
    const unreserved = Number(/(\d+) records? could not be reserved/.exec(stderr)?.[1] ?? 0);
    assertEquals(during + unreserved, lost, stderr);
  });
});

Deno.test("loss between reads: a snapshot counts what other reads took since the previous one", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "c", "-e", COUNTER, "--buffer", "1M"]);
    await until("output", async () => (await world.json(["status", "c"])).state === "recording");
    await new Promise((r) => setTimeout(r, 500));
    const first = await world.json<SnapshotManifest>(["snapshot", "c"]);
    const firstSeen = numbers(await Deno.readTextFile(`${first.path}/c.out`));
    const dumps: number[][] = [];
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 300));
      dumps.push(numbers(await world.ok(["dump", "c"])));
    }
    await new Promise((r) => setTimeout(r, 300));
    const second = await world.json<SnapshotManifest>(["snapshot", "c"]);
    const secondSeen = numbers(await Deno.readTextFile(`${second.path}/c.out`));
    const union = [...firstSeen, ...dumps.flat(), ...secondSeen];
    assert(sorted(union), "the reads follow each other");
    assertEquals(holes(union), 0, "nothing lost between the reads");
    assertEquals(second.missing!.other_reads, dumps[0].length + dumps[1].length);
    assertEquals([second.missing!.before_read, second.contiguous], [0, false]);
    assertMatch(
      second.gap_reason!,
      new RegExp(`${dumps[0].length + dumps[1].length} records went to other reads`),
    );
  });
});

Deno.test("a dump killed mid-read: the next snapshot counts what it took as missing, exactly", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "c", "-e", COUNTER, "--buffer", "1M"]);
    await new Promise((r) => setTimeout(r, 1500));
    const first = await world.json<SnapshotManifest>(["snapshot", "c"]);
    await new Promise((r) => setTimeout(r, 1500));
    const dump = world.spawn(["dump", "c"]);
    // Reading has begun (the first bytes are out), then the dump dies without a word.
    const reader = dump.stdout.getReader();
    await reader.read();
    dump.kill("SIGKILL");
    await dump.status;
    await reader.cancel();
    await dump.stderr.cancel();
    const second = await world.json<SnapshotManifest>(["snapshot", "c"]);
    assertEquals(second.contiguous, false);
    assertEquals(second.missing!.before_read, second.first_seq! - first.last_seq! - 1);
    assert(second.missing!.before_read > 0, "the killed dump took records");
    assertMatch(second.gap_reason!, /reader that did not finish/);
  });
});

Deno.test("20 consecutive snapshots of a counter: gap-free wherever contiguous, every missing count exact", async () => {
  await SimWorld.with(async (world) => {
    await world.ok(["start", "c", "-e", COUNTER, "--buffer", "64K"]);
    await new Promise((r) => setTimeout(r, 1000));
    const taken: { m: SnapshotManifest; seen: number[] }[] = [];
    for (let i = 0; i < 20; i++) {
      // Mostly close together; now and then long enough for the 2 × 64K ring to wrap in between.
      await new Promise((r) => setTimeout(r, i % 7 === 6 ? 5000 : 200 + 100 * (i % 3)));
      const m = await world.json<SnapshotManifest>(["snapshot", "c"]);
      taken.push({ m, seen: numbers(await Deno.readTextFile(`${m.path}/c.out`)) });
    }
    let contiguous = 0;
    let unreserved = 0;
    let lead = 0;
    for (const [i, { m, seen }] of taken.entries()) {
      assert(sorted(seen), `snapshot ${i} in global order`);
      assertEquals(m.records, seen.length, `snapshot ${i}`);
      // Every number between the first and the last that is not there is reported as missing during the read.
      assertEquals(
        m.last_seq! - m.first_seq! + 1 - m.records!,
        m.missing!.during_read,
        `snapshot ${i}: gaps inside`,
      );
      // The counter checks the numbers: it is ahead only by records that got none, each of them reported.
      unreserved += m.missing!.unreserved ?? 0;
      const [leadFirst, leadLast] = counterLead(seen, m);
      assert(
        lead <= leadFirst && leadFirst <= leadLast && leadLast <= unreserved,
        `snapshot ${i}: the counter is ${leadFirst}…${leadLast} ahead, ${unreserved} records reported unreserved`,
      );
      lead = leadLast;
      if (i === 0) continue;
      const before = taken[i - 1].m.last_seq!;
      assertEquals(m.missing!.before_read, m.first_seq! - before - 1, `snapshot ${i}: before it`);
      assertEquals(m.contiguous, m.first_seq === before + 1 && m.missing!.unreserved === 0, `snapshot ${i}`);
      assertEquals(m.wrapped, m.first_seq! > before + 1, `snapshot ${i}: wrapped`);
      // Numbers are missing before a read only when the ring overwrote them: then it was full.
      if (m.wrapped) {
        assert(m.records! >= WRAPPED_64K_RECORDS, `snapshot ${i}: wrapped with ${m.records} records`);
      }
      if (m.contiguous) contiguous++;
    }
    assert(contiguous > 0, "some joins were contiguous");
    assert(taken.some(({ m }) => m.missing!.before_read > 0), "some joins lost records to a wrap");
  });
});
