import { assert, assertEquals, assertThrows } from "@std/assert";
import { ENODATA, RelayBuffers, SUBBUF_SIZE } from "./relay.ts";
import { RecordDecoder, type RelayRecord } from "./transport.ts";

/** A payload whose bytes are derived from its sequence number, so a torn or mixed record shows. */
function payloadFor(seq: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seq * 31 + i * 7) & 0xff;
  return out;
}

function assertIntact(record: RelayRecord, length?: number): void {
  if (length !== undefined) assertEquals(record.payload.length, length, `length of record ${record.seq}`);
  assertEquals(
    record.payload,
    payloadFor(record.seq, record.payload.length),
    `payload of record ${record.seq}`,
  );
}

/** Reads `cpu`'s relay file until it is empty; the clean ring's bytes are whole records, back to back. */
function readAll(relay: RelayBuffers, cpu: number, chunk = 64 * 1024): RelayRecord[] {
  const out = new Uint8Array(chunk);
  const decoder = new RecordDecoder();
  const records: RelayRecord[] = [];
  for (;;) {
    const n = relay.read(cpu, out);
    if (n <= 0) {
      assert(n === -ENODATA || n === 0, `read returned ${n}`);
      break;
    }
    records.push(...decoder.push(out.subarray(0, n)));
  }
  assertEquals(decoder.pendingBytes, 0, "the stream ends with a whole record");
  return records;
}

/** Writes a record with the payload pattern of the sequence number it gets if it is written. */
function writeNext(relay: RelayBuffers, cpu: number, length: number): boolean {
  return relay.write(cpu, payloadFor(relay.lastSequence + 1, length));
}

Deno.test("relay: sizes and one global sequence over all CPUs (5.1, 4.9)", () => {
  const relay = new RelayBuffers(2, 16 * SUBBUF_SIZE);
  assertEquals(relay.subbufs, 16);
  assertThrows(() => new RelayBuffers(2, 5000), RangeError);
  assertThrows(() => new RelayBuffers(2, SUBBUF_SIZE), RangeError);
  assertThrows(() => new RelayBuffers(0, 2 * SUBBUF_SIZE), RangeError);
  for (let i = 0; i < 10; i++) writeNext(relay, i % 2, 50);
  const cpu0 = readAll(relay, 0);
  const cpu1 = readAll(relay, 1);
  assertEquals(cpu0.map((r) => r.seq), [1, 3, 5, 7, 9]);
  assertEquals(cpu1.map((r) => r.seq), [2, 4, 6, 8, 10]);
  [...cpu0, ...cpu1].forEach((r) => assertIntact(r, 50));
});

Deno.test("relay: an empty relay file reads as ENODATA, and a read closes the writer's sub-buffer (5.3)", () => {
  const relay = new RelayBuffers(1, 4 * SUBBUF_SIZE);
  const out = new Uint8Array(SUBBUF_SIZE);
  assertEquals(relay.read(0, out), -ENODATA);
  assert(!relay.hasData(0));
  writeNext(relay, 0, 10);
  assert(relay.hasData(0));
  assertEquals(relay.read(0, out), 18);
  assertEquals(relay.read(0, out), -ENODATA);
  // The read closed the page holding those 18 bytes: the next record starts a page of its own, and each
  // read lets the ring go round without ever repeating or losing anything.
  for (let i = 2; i < 20; i++) {
    writeNext(relay, 0, 10);
    assertEquals(readAll(relay, 0).map((r) => r.seq), [i]);
  }
  assertEquals([relay.stats.overwrittenSubbufs, relay.stats.failures], [0, 0]);
});

Deno.test("relay: the clean ring overwritten keeps each CPU's newest records, whole (5.2)", () => {
  const relay = new RelayBuffers(2, 8 * SUBBUF_SIZE, "clean");
  relay.overwrite = true;
  // CPU 0 wraps its ring three times over; CPU 1 writes a little and keeps all of it.
  for (let i = 0; i < 3 * 8 * 40; i++) writeNext(relay, 0, 100);
  const cpu1Seqs: number[] = [];
  for (let i = 0; i < 5; i++) {
    writeNext(relay, 1, 100);
    cpu1Seqs.push(relay.lastSequence);
  }
  for (let i = 0; i < 30; i++) writeNext(relay, 0, 100);
  const last = relay.lastSequence;
  relay.overwrite = false; // a reader attaches
  const cpu0 = readAll(relay, 0);
  // A contiguous run ending with the newest record: the 8 pages kept, the oldest from its first record on
  // (37 records a page).
  assertEquals(cpu0.at(-1)?.seq, last);
  const seqs = cpu0.map((r) => r.seq).filter((s) => !cpu1Seqs.includes(s));
  for (let i = 1; i < seqs.length; i++) assert(seqs[i] > seqs[i - 1], "oldest first");
  assert(cpu0.length >= 7 * 37 - 1 && cpu0.length <= 8 * 37, `kept ${cpu0.length} records`);
  cpu0.forEach((r) => assertIntact(r, 100));
  assertEquals(readAll(relay, 1).map((r) => r.seq), cpu1Seqs);
  assert(relay.stats.overwrittenSubbufs > 0);
  assertEquals(relay.stats.failures, 0);
});

Deno.test("relay: the clean ring's records spanning sub-buffers survive overwrite whole or not at all", () => {
  const relay = new RelayBuffers(1, 6 * SUBBUF_SIZE, "clean");
  relay.overwrite = true;
  const sizes = [3000, 8192, 17, 4089, 5000, 4087, 6000, 1];
  const sizeOf = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const size = sizes[i % sizes.length];
    if (writeNext(relay, 0, size)) sizeOf.set(relay.lastSequence, size);
  }
  const records = readAll(relay, 0);
  assert(records.length > 0);
  assertEquals(records.at(-1)?.seq, relay.lastSequence);
  for (const r of records) assertIntact(r, sizeOf.get(r.seq));
  for (let i = 1; i < records.length; i++) assertEquals(records[i].seq, records[i - 1].seq + 1);
});

Deno.test("relay: records that do not fit while attached are dropped without a number (5.2)", () => {
  for (const model of ["clean", "4.8"] as const) {
    const relay = new RelayBuffers(1, 4 * SUBBUF_SIZE, model);
    let accepted = 0;
    // 128-byte records (with the header) fill pages exactly: no 1-8 byte tail, nothing cut short.
    for (let i = 0; i < 1000; i++) if (writeNext(relay, 0, 120)) accepted++;
    assertEquals(relay.stats.failures, 1000 - accepted, model);
    assertEquals(accepted, 4 * 32, `${model}: every page full`);
    assertEquals(relay.lastSequence, accepted, `${model}: a dropped record takes no number`);
    const records = readAll(relay, 0);
    assertEquals(records.map((r) => r.seq), Array.from({ length: accepted }, (_, i) => i + 1), model);
    // Room again after the read: the next record gets the next number, so no gap shows the drops.
    assert(writeNext(relay, 0, 120));
    assertEquals(readAll(relay, 0).map((r) => r.seq), [accepted + 1], model);
  }
});

Deno.test("relay: the clean ring turns a tail of 1-8 bytes into padding (as 5.1)", () => {
  for (const tail of [1, 5, 8, 9]) {
    const relay = new RelayBuffers(1, 4 * SUBBUF_SIZE, "clean");
    // One record leaving exactly `tail` bytes in the first page, then a small one.
    writeNext(relay, 0, SUBBUF_SIZE - 8 - tail);
    writeNext(relay, 0, 20);
    const records = readAll(relay, 0);
    assertEquals(records.map((r) => r.seq), [1, 2], `tail ${tail}`);
    records.forEach((r) => assertIntact(r));
    assertEquals(relay.stats.failures, 0);
  }
});

Deno.test("relay: a small read buffer reads the stream piece by piece, crossing sub-buffers", () => {
  const relay = new RelayBuffers(1, 4 * SUBBUF_SIZE);
  for (let i = 0; i < 50; i++) writeNext(relay, 0, 100 + i);
  const out = new Uint8Array(7);
  const decoder = new RecordDecoder();
  const records: RelayRecord[] = [];
  for (let n = relay.read(0, out); n > 0; n = relay.read(0, out)) {
    records.push(...decoder.push(out.subarray(0, n)));
  }
  assertEquals(records.map((r) => r.seq), Array.from({ length: 50 }, (_, i) => i + 1));
  records.forEach((r, i) => assertIntact(r, 100 + i));
});

Deno.test("relay: random writes, reads and attach/detach on the clean ring never repeat, reorder or tear (5.2, 5.3)", () => {
  let state = 12345;
  const random = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  const relay = new RelayBuffers(2, 5 * SUBBUF_SIZE, "clean");
  const lastSeen = [0, 0];
  const acceptedWhileAttached: number[][] = [[], []];
  for (let step = 0; step < 20000; step++) {
    const action = random(100);
    const cpu = random(2);
    if (action < 80) {
      const length = random(10) === 0 ? 1 + random(8192) : 1 + random(300);
      const ok = writeNext(relay, cpu, length);
      if (ok && !relay.overwrite) acceptedWhileAttached[cpu].push(relay.lastSequence);
    } else if (action < 95) {
      const records = readAll(relay, cpu, 1 + random(20000));
      for (const r of records) {
        assertIntact(r);
        assert(r.seq > lastSeen[cpu], `record ${r.seq} after ${lastSeen[cpu]} on CPU ${cpu}`);
        lastSeen[cpu] = r.seq;
      }
      // Everything accepted while attached (overwrite off) is delivered: nothing lost without overwrite.
      const seen = new Set(records.map((r) => r.seq));
      for (const seq of acceptedWhileAttached[cpu]) assert(seen.has(seq), `record ${seq} was lost`);
      acceptedWhileAttached[cpu] = [];
    } else {
      relay.overwrite = !relay.overwrite;
      if (relay.overwrite) acceptedWhileAttached.forEach((list) => (list.length = 0));
    }
  }
  assert(relay.stats.overwrittenSubbufs > 0 && relay.stats.failures > 0, "both regimes were exercised");
});
