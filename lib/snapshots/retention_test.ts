import { assertEquals } from "@std/assert";
import { type RetentionItem, selectPrunable } from "./retention.ts";

const NOW = Date.UTC(2026, 11, 1, 12);
const MIN = 60_000;

/** Snapshots oldest first, each `ages[i]` minutes old and `bytes` big; `held` are not shipped yet. */
function items(ages: number[], bytes = 10, held: number[] = []): RetentionItem[] {
  return ages.map((age, i) => ({ id: `s${i}`, time: NOW - age * MIN, bytes, held: held.includes(i) }));
}

function ids(list: RetentionItem[]): string[] {
  return list.map((i) => i.id);
}

Deno.test("a bound exactly met deletes nothing: N snapshots with keep N, one exactly max-age old, max-size bytes", () => {
  const four = items([60, 30, 20, 5]);
  assertEquals(ids(selectPrunable(four, { keep: 4 }, NOW)), []);
  assertEquals(ids(selectPrunable(four, { maxAgeMs: 60 * MIN }, NOW)), []);
  assertEquals(ids(selectPrunable(four, { maxSize: 40 }, NOW)), []);
  // One more of each tips it, oldest first.
  assertEquals(ids(selectPrunable(four, { keep: 3 }, NOW)), ["s0"]);
  assertEquals(ids(selectPrunable(four, { maxAgeMs: 60 * MIN - 1 }, NOW)), ["s0"]);
  assertEquals(ids(selectPrunable(four, { maxSize: 39 }, NOW)), ["s0"]);
});

Deno.test("oldest go first until every bound holds; each bound alone may take the most", () => {
  const five = items([100, 80, 60, 40, 1]);
  assertEquals(ids(selectPrunable(five, { keep: 2 }, NOW)), ["s0", "s1", "s2"]);
  assertEquals(ids(selectPrunable(five, { maxAgeMs: 50 * MIN }, NOW)), ["s0", "s1", "s2"]);
  assertEquals(ids(selectPrunable(five, { maxSize: 15 }, NOW)), ["s0", "s1", "s2", "s3"]);
  assertEquals(ids(selectPrunable(five, { keep: 4, maxAgeMs: 90 * MIN, maxSize: 30 }, NOW)), ["s0", "s1"]);
  assertEquals(ids(selectPrunable(five, {}, NOW)), [], "no bounds, nothing goes");
  assertEquals(ids(selectPrunable([], { keep: 1, maxSize: 0 }, NOW)), []);
});

Deno.test("a snapshot not shipped yet is never taken by the count or the age bound, however old", () => {
  const list = items([500, 400, 300, 2, 1], 10, [0, 1]);
  // It still counts as kept: with two held, "keep 3" leaves room for one more, the newest.
  assertEquals(ids(selectPrunable(list, { keep: 3 }, NOW)), ["s2", "s3"]);
  assertEquals(ids(selectPrunable(list, { maxAgeMs: 10 * MIN }, NOW)), ["s2"]);
  assertEquals(ids(selectPrunable(items([500, 400], 10, [0, 1]), { keep: 1, maxAgeMs: 1 }, NOW)), []);
});

Deno.test("the size bound takes unshipped snapshots too, oldest first, and no more than it needs", () => {
  const list = items([50, 40, 30, 20], 10, [0, 1, 2, 3]);
  assertEquals(ids(selectPrunable(list, { maxSize: 25 }, NOW)), ["s0", "s1"]);
  // With a count bound as well, the count bound still leaves what the size bound did not need.
  assertEquals(ids(selectPrunable(list, { keep: 1, maxSize: 35 }, NOW)), ["s0"]);
});
