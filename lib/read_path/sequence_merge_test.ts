import { assertEquals } from "@std/assert";
import { seqBefore, SequenceMerge } from "./sequence_merge.ts";
import { SequenceLedger } from "./ledger.ts";

const r = (seq: number) => ({ seq, payload: new Uint8Array(10) });
const seqs = (records: { seq: number }[]) => records.map((x) => x.seq);

Deno.test("merge: contiguous numbers pass at once, whichever CPU delivers them", () => {
  const m = new SequenceMerge(3, { holdMs: 100, expect: 10, now: 0 });
  m.push(2, [r(11), r(14)], 0);
  assertEquals(seqs(m.take(0)), []);
  m.push(0, [r(10), r(12)], 1);
  assertEquals(seqs(m.take(1)), [10, 11, 12]);
  m.push(1, [r(13)], 2);
  assertEquals(seqs(m.take(2)), [13, 14]);
});

Deno.test("merge: a gap holds for at most holdMs of quiet, then the later records go on", () => {
  const m = new SequenceMerge(2, { holdMs: 100, expect: 1, now: 0 });
  m.push(0, [r(1), r(3)], 0);
  assertEquals(seqs(m.take(0)), [1]);
  assertEquals(m.wakeIn(50), 50);
  assertEquals(seqs(m.take(99)), []);
  assertEquals(seqs(m.take(100)), [3]);
  // 2 comes after all: passed on at once, counted late by the ledger.
  m.push(1, [r(2)], 150);
  const ledger = new SequenceLedger();
  for (const x of [1, 3, ...seqs(m.take(150))]) ledger.note(x);
  assertEquals([ledger.late, ledger.missingCount, m.late], [1, 0, 1]);
});

Deno.test("merge: an ended stream holds nothing back; done when all ended and taken", () => {
  const m = new SequenceMerge(2, { holdMs: 1e9, now: 0 });
  m.push(0, [r(5), r(9)], 0);
  assertEquals(seqs(m.take(0)), []);
  m.end(1);
  assertEquals(seqs(m.take(0)), [5, 9]);
  m.end(0);
  assertEquals(m.done, true);
});

Deno.test("merge: numbers that wrap at 2^32 keep their order", () => {
  const m = new SequenceMerge(2, { holdMs: 100, now: 0 });
  m.push(0, [r(0xffffffff), r(1)], 0);
  m.push(1, [r(0), r(2)], 0);
  assertEquals(seqs(m.take(0)), [0xffffffff, 0, 1, 2]);
  assertEquals([seqBefore(0xffffffff, 0), seqBefore(0, 0xffffffff)], [true, false]);
});

Deno.test("merge: past maxHeldBytes the smallest head goes on without waiting", () => {
  const m = new SequenceMerge(2, { holdMs: 1e9, expect: 1, now: 0, maxHeldBytes: 25 });
  m.push(0, [r(3), r(5), r(7)], 0);
  assertEquals(seqs(m.take(0)), [3]);
});
