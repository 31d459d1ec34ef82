import { assertEquals } from "@std/assert";
import { SequenceLedger } from "./ledger.ts";

Deno.test("ledger: gaps, late arrivals filling them, duplicates dropped", () => {
  const ledger = new SequenceLedger();
  const verdicts = [10, 11, 15, 13, 13, 20, 12, 14].map((s) => ledger.note(s));
  assertEquals(verdicts, ["new", "new", "new", "late", "duplicate", "new", "late", "late"]);
  assertEquals([ledger.first, ledger.last, ledger.records, ledger.duplicates], [10, 20, 7, 1]);
  assertEquals(ledger.missingCount, 4);
  assertEquals(ledger.missingRanges(10), { ranges: [[16, 19]], capped: false });
});

Deno.test("ledger: a late number before the first moves the first and counts what lies between", () => {
  const ledger = new SequenceLedger();
  for (const s of [100, 101, 95]) ledger.note(s);
  assertEquals([ledger.first, ledger.missingCount], [95, 4]);
  assertEquals(ledger.missingRanges(5).ranges, [[96, 99]]);
});

Deno.test("ledger: across the counter's wrap at 2^32", () => {
  const ledger = new SequenceLedger();
  for (const s of [0xfffffffd, 0xffffffff, 1]) ledger.note(s);
  assertEquals([ledger.first, ledger.last, ledger.missingCount], [0xfffffffd, 1, 2]);
  assertEquals(ledger.missingRanges(5).ranges, [[0xfffffffe, 0xfffffffe], [0, 0]]);
});

Deno.test("ledger: ranges are capped, the count never is", () => {
  const ledger = new SequenceLedger();
  for (let s = 0; s < 200; s += 2) ledger.note(s);
  assertEquals(ledger.missingCount, 99);
  const { ranges, capped } = ledger.missingRanges(3);
  assertEquals([ranges, capped], [[[1, 1], [3, 3], [5, 5]], true]);
});
