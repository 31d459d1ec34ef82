import { assert, assertEquals } from "@std/assert";
import { LineCleaner } from "../lib/readers/clean.ts";
import { RelayBuffers, SUBBUF_SIZE } from "./relay.ts";
import { RecordDecoder, type RelayRecord } from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The kernel lab's script: numbered lines, one record per line. */
function line(n: number): Uint8Array {
  return encoder.encode(`${n} `.padEnd(106, "x") + "\n");
}

function readAll(relay: RelayBuffers, cpu: number): RelayRecord[] {
  const out = new Uint8Array(256 * 1024);
  const records: RelayRecord[] = [];
  const frames = new RecordDecoder();
  for (let n = relay.read(cpu, out); n > 0; n = relay.read(cpu, out)) {
    records.push(...frames.push(out.subarray(0, n)));
  }
  return records;
}

/** What stapio writes: the payloads, in order. */
function payloads(records: RelayRecord[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + r.payload.length, 0));
  let at = 0;
  for (const r of records) {
    out.set(r.payload, at);
    at += r.payload.length;
  }
  return out;
}

function numbers(text: string): number[] {
  return text.split("\n").filter((l) => l !== "").map((l) => Number(l.split(" ")[0]));
}

Deno.test("relay damage wrap: the first read after a wrap while detached starts with a stale, torn fragment", () => {
  const relay = new RelayBuffers(1, 8 * SUBBUF_SIZE, { wrap: true });
  relay.overwrite = true;
  let n = 0;
  for (; n < 2000; n++) relay.write(0, line(n));
  relay.overwrite = false; // a reader attaches
  const stream = payloads(readAll(relay, 0));
  // A 4-byte length of a stale record (one line of 107 bytes), then its text cut mid-line, glued to the newest.
  assertEquals([...stream.subarray(0, 4)], [107, 0, 0, 0]);
  const text = decoder.decode(stream.subarray(4));
  const [first, ...rest] = text.split("\n");
  assert(first.length > 107, `torn and glued: ${first}`);
  const stale = Number(first.split(" ")[0]);
  const newest = numbers(rest.join("\n"));
  assert(stale < newest[0], "the fragment is older than everything kept");
  newest.forEach((v, i) => assertEquals(v, newest[0] + i));
  assertEquals(newest.at(-1), n - 1);

  // The engine's cleaner cuts the fragment and the torn line, and keeps a contiguous newest run.
  const cleaner = new LineCleaner();
  const clean = decoder.decode(cleaner.push(stream)) + decoder.decode(cleaner.finish());
  const kept = numbers(clean);
  assert(kept.length >= newest.length - 2, `kept ${kept.length} of ${newest.length}`);
  kept.forEach((v, i) => assertEquals(v, kept[0] + i));
  assertEquals(kept.at(-1), n - 1);
  assert(cleaner.counts.reasons.stale >= 1);

  // Only the first read after the wrap: later reads are clean.
  for (let i = 0; i < 10; i++) relay.write(0, line(n++));
  assertEquals(
    numbers(decoder.decode(payloads(readAll(relay, 0)))),
    [...Array(10).keys()].map((i) => n - 10 + i),
  );
});

Deno.test("relay damage wrap: off by default, and no fragment when the ring never wrapped", () => {
  for (const damage of [{}, { wrap: true }]) {
    const relay = new RelayBuffers(1, 8 * SUBBUF_SIZE, damage);
    relay.overwrite = true;
    const count = "wrap" in damage ? 100 : 2000; // 100 lines fit; 2000 wrap
    for (let i = 0; i < count; i++) relay.write(0, line(i));
    relay.overwrite = false;
    const text = decoder.decode(payloads(readAll(relay, 0)));
    const got = numbers(text);
    assertEquals(text.split("\n").slice(0, -1).every((l) => l.length === 106), true);
    got.forEach((v, i) => assertEquals(v, got[0] + i));
    assertEquals(got.at(-1), count - 1);
  }
});

Deno.test("relay damage truncate: a reader that falls behind sees a record cut short with a binary word", () => {
  const relay = new RelayBuffers(1, 8 * SUBBUF_SIZE, { truncate: true });
  relay.overwrite = false; // attached, and not reading: the ring fills
  let accepted = 0;
  for (let i = 0; i < 1000; i++) if (relay.write(0, line(i))) accepted++;
  assert(relay.stats.failures > 0);
  const stream = payloads(readAll(relay, 0));
  // Room again: the reader caught up, new lines come whole.
  for (let i = 1000; i < 1010; i++) relay.write(0, line(i));
  const all = new Uint8Array([...stream, ...payloads(readAll(relay, 0))]);
  const text = decoder.decode(all);
  const lines = text.split("\n").slice(0, -1);
  const damaged = lines.filter((l) => l.length !== 106);
  assertEquals(damaged.length, 1, "one record cut short per fall-behind");
  // The cut record ends with the length it should have had (107), glued before the next number.
  assert(damaged[0].includes("\x6b\0\0\0"), JSON.stringify(damaged[0]));
  assert(/\0\d+ x+$/.test(damaged[0]));

  const cleaner = new LineCleaner();
  const kept = numbers(decoder.decode(cleaner.push(all)) + decoder.decode(cleaner.finish()));
  assertEquals(cleaner.counts.reasons.binary, 1);
  // A gap in the numbering where records were dropped, no duplicates, the newest whole.
  assertEquals(new Set(kept).size, kept.length);
  assertEquals(kept.slice(0, accepted), [...Array(accepted).keys()]);
  assertEquals(kept.slice(-9), [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
});
