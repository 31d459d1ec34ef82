import { assertEquals } from "@std/assert";
import { SequenceMerger } from "./merge.ts";

const rec = (seq: number) => ({ seq, payload: new Uint8Array() });
const seqs = (m: SequenceMerger, now: number) => m.take(now).map((r) => r.record.seq);

Deno.test("5.4 records go out in sequence order across CPUs", () => {
  const m = new SequenceMerger(2, 1000);
  m.push(1, rec(2), 0);
  m.push(1, rec(4), 0);
  assertEquals(seqs(m, 0), []);
  m.push(0, rec(1), 5);
  m.push(0, rec(3), 5);
  assertEquals(seqs(m, 5), [1, 2, 3, 4]);
});

Deno.test("2.3 the first record after an attach waits out the stall (the count starts at 0)", () => {
  const m = new SequenceMerger(2, 1500);
  m.push(0, rec(5000), 100);
  assertEquals(seqs(m, 100), []);
  assertEquals(m.nextDeadline(), 1600);
  assertEquals(seqs(m, 1599), []);
  assertEquals(seqs(m, 1600), [5000]);
});

Deno.test("2.3 the 4.8 rule waits until the next whole second plus one (1–2 s)", () => {
  const m = new SequenceMerger(1, "4.8");
  m.push(0, rec(9), 10_200);
  assertEquals(m.nextDeadline(), 12_000);
  assertEquals(seqs(m, 11_999), []);
  assertEquals(seqs(m, 12_000), [9]);
});

Deno.test("2.3 a record older than expected goes out at once, out of order", () => {
  const m = new SequenceMerger(2, 1000);
  m.push(0, rec(1), 0);
  m.push(0, rec(5), 0);
  assertEquals(seqs(m, 0), [1]);
  assertEquals(seqs(m, 1000), [5]);
  m.push(1, rec(3), 1001);
  assertEquals(seqs(m, 1001), [3]);
});

Deno.test("a waiting CPU holds its later records back; drain returns the rest in order", () => {
  const m = new SequenceMerger(2, 1000);
  m.push(0, rec(3), 0);
  m.push(0, rec(1), 0);
  assertEquals(seqs(m, 0), []);
  assertEquals(m.pending, 2);
  assertEquals(m.drain().map((r) => r.record.seq), [1, 3]);
});
