import { assertEquals } from "@std/assert";
import { MAX_PAYLOAD, RecordFramer, seqAfter } from "./framing.ts";
import { encodeRecord } from "../../sim/kernel/transport.ts";
import { joinBytes } from "../bytes.ts";

const encoder = new TextEncoder();

const rec = (seq: number, text: string, declared?: number): Uint8Array =>
  encodeRecord(seq, encoder.encode(text), declared);

const join = (...parts: Uint8Array[]): Uint8Array => joinBytes(parts);

/** Feeds `bytes` in chunks of `size` and ends; returns the sequence numbers and payloads framed. */
function frame(bytes: Uint8Array, size: number): { seqs: number[]; text: string; framer: RecordFramer } {
  const framer = new RecordFramer();
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
  out.push(...framer.end());
  return {
    seqs: out.map((r) => r.seq),
    text: out.map((r) => new TextDecoder().decode(r.payload)).join(""),
    framer,
  };
}

const clean = join(...Array.from({ length: 50 }, (_, i) => rec(i + 1, `line ${i + 1}\n`)));

Deno.test("framing: any chunking gives the same records, whole and in order", () => {
  const expected = Array.from({ length: 50 }, (_, i) => i + 1);
  for (const size of [1, 2, 3, 7, 8, 9, 13, 64, 1000, clean.length]) {
    const { seqs, framer } = frame(clean, size);
    assertEquals(seqs, expected, `chunks of ${size}`);
    assertEquals(framer.counts, { skipped_bytes: 0, resyncs: 0 });
  }
});

Deno.test("framing: a stream that starts inside a record (a wrapped ring) skips the torn part and counts it", () => {
  const torn = clean.subarray(5); // In the middle of record 1's header.
  for (const size of [1, 5, 64, torn.length]) {
    const { seqs, framer } = frame(torn, size);
    assertEquals(seqs, Array.from({ length: 49 }, (_, i) => i + 2), `chunks of ${size}`);
    assertEquals(framer.counts, { skipped_bytes: rec(1, "line 1\n").length - 5, resyncs: 1 });
  }
});

Deno.test("framing: a record cut short loses its number, not the records after it", () => {
  // Record 3's header promised 30 bytes; only 4 were written before record 4's header (4.8's print_flush).
  const stream = join(rec(1, "a\n"), rec(2, "b\n"), rec(3, "cccc", 30), rec(4, "d\n"), rec(5, "e\n"));
  for (const size of [1, 3, stream.length]) {
    const { seqs, text, framer } = frame(stream, size);
    assertEquals(seqs, [1, 2, 4, 5], `chunks of ${size}`);
    assertEquals(text, "a\nb\nd\ne\n");
    assertEquals(framer.counts, { skipped_bytes: 12, resyncs: 1 });
  }
});

Deno.test("framing: garbage between records is skipped; implausible headers never pass", () => {
  const garbage = new Uint8Array([0xc4, 0x1f, 0, 0, 1, 2, 3, 0xff, 0xff, 0xff, 0xff, 9]);
  const stream = join(rec(1, "a\n"), rec(2, "b\n"), garbage, rec(3, "c\n"), rec(4, "d\n"));
  const { seqs, text, framer } = frame(stream, 4);
  assertEquals([seqs, text], [[1, 2, 3, 4], "a\nb\nc\nd\n"]);
  assertEquals(framer.counts.skipped_bytes, garbage.length);
  // A length over the limit is never a record, whatever follows.
  const huge = join(rec(7, "x", MAX_PAYLOAD + 1), rec(8, "y\n"), rec(9, "z\n"));
  assertEquals(frame(huge, 16).seqs, [8, 9]);
});

Deno.test("framing: the last record of a quiet stream comes out on flush, not before its successor", () => {
  const framer = new RecordFramer();
  assertEquals(framer.push(join(rec(1, "a\n"), rec(2, "b\n"))).map((r) => r.seq), [1]);
  assertEquals(framer.flush().map((r) => r.seq), [2]);
  // Half a header after it: a flush waits for the rest (stapio may write a header and its payload apart).
  assertEquals(framer.push(rec(3, "c\n").subarray(0, 5)).length, 0);
  assertEquals(framer.flush().length, 0);
  assertEquals(framer.push(rec(3, "c\n").subarray(5)).length, 0);
  assertEquals(framer.flush().map((r) => r.seq), [3]);
  assertEquals(framer.end().length, 0);
  assertEquals(framer.counts, { skipped_bytes: 0, resyncs: 0 });
});

Deno.test("framing: sequence numbers wrap at 2^32 and stay in order", () => {
  const stream = join(rec(0xfffffffe, "a\n"), rec(0xffffffff, "b\n"), rec(0, "c\n"), rec(1, "d\n"));
  assertEquals(frame(stream, 3).seqs, [0xfffffffe, 0xffffffff, 0, 1]);
  assertEquals([seqAfter(0, 0xffffffff), seqAfter(0xffffffff, 0), seqAfter(5, 5)], [true, false, false]);
});

Deno.test("framing: an incomplete record at the end of a stream is skipped and counted", () => {
  const stream = join(rec(1, "a\n"), rec(2, "bbbbbbbb").subarray(0, 11));
  const { seqs, framer } = frame(stream, 100);
  assertEquals(seqs, [1]);
  assertEquals(framer.counts, { skipped_bytes: 11, resyncs: 1 });
});

Deno.test("framing: the lab's garbage frames (lengths 8448 and 36624, stale bytes) never pass, and the records after them do", () => {
  // Kernel lab run 1 f1 (docs/loss-accounting.md item 3): records, then two frames stapio wrote from bytes of
  // an earlier pass, then records again after its drops. Each garbage frame is longer than 4.8's print buffer.
  const stale = "42831 " + "x".repeat(100) + "\n";
  const garbage = (seq: number, length: number) =>
    rec(seq, stale.repeat(Math.ceil(length / stale.length)).slice(0, length));
  const bytes = join(
    rec(51410, "51410\n"),
    rec(52308, "52308\n"),
    garbage(10947850, 8448),
    garbage(175798648, 36624),
    rec(60958, "60958\n"),
    rec(60959, "60959\n"),
  );
  for (const size of [97, 4096, bytes.length]) {
    const { seqs, text } = frame(bytes, size);
    assertEquals(seqs, [51410, 52308, 60958, 60959], `chunks of ${size}`);
    assertEquals(text.includes("42831"), false);
  }
  assertEquals(MAX_PAYLOAD, 8192);
});

Deno.test("framing: a record cut short with the next record read into it (4.8's stapio reads on to the length) is skipped whole", () => {
  const encoder = new TextEncoder();
  const header = (seq: number, len: number) => {
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, seq, true);
    new DataView(h.buffer).setUint32(4, len, true);
    return h;
  };
  const line = (n: number) => encoder.encode(`${n} ${"y".repeat(40)}\n`);
  const whole = (seq: number) => [...header(seq, line(seq).length), ...line(seq)];
  // Record 2 was cut after 10 bytes; stapio read its declared length: its part, record 3's header and most
  // of record 3's text. Record 4 follows in frame.
  const declared = line(2).length;
  const glued = [...line(2).subarray(0, 10), ...header(3, line(3).length), ...line(3)].slice(0, declared);
  const stream = new Uint8Array([...whole(1), ...header(2, declared), ...glued, ...whole(4), ...whole(5)]);
  for (const size of [1, 7, stream.length]) {
    const framer = new RecordFramer();
    const records = [];
    for (let i = 0; i < stream.length; i += size) records.push(...framer.push(stream.subarray(i, i + size)));
    records.push(...framer.end());
    assertEquals(records.map((r) => r.seq), [1, 4, 5], `chunks of ${size}`);
    assertEquals(framer.counts, { skipped_bytes: 8 + declared, resyncs: 1 });
  }
});

Deno.test("framing: binary payloads whose bytes are not a later header pass", () => {
  const framer = new RecordFramer();
  const payload = new Uint8Array(64).fill(0); // NULs everywhere: seq 0 is not after the record's own
  const rec = (seq: number) => {
    const r = new Uint8Array(8 + payload.length);
    new DataView(r.buffer).setUint32(0, seq, true);
    new DataView(r.buffer).setUint32(4, payload.length, true);
    r.set(payload, 8);
    return r;
  };
  const records = [...framer.push(new Uint8Array([...rec(7), ...rec(8)])), ...framer.end()];
  assertEquals(records.map((r) => r.seq), [7, 8]);
});
