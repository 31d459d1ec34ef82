/**
 * The 4.8 ring (sim/kernel/relay.ts) and what stapio 4.8's reader makes of it (sim/stapio/relay_reader.ts), against
 * what the kernel lab measured (docs/loss-accounting.md "Where records are lost").
 */
import { assert, assertEquals } from "@std/assert";
import { ENODATA, RelayBuffers, SUBBUF_SIZE } from "./relay.ts";
import { ReadAhead, ReaderThread } from "../stapio/relay_reader.ts";

const encoder = new TextEncoder();
const text = (s: string) => encoder.encode(s);

/** What stapio passes on from `cpu`, reading until its reader would wait in ppoll. */
function stapioRead(relay: RelayBuffers, cpu: number, thread = new ReaderThread()) {
  const ahead = new ReadAhead();
  const out = new Uint8Array(256 * 1024);
  const records: { seq: number; length: number; text: string }[] = [];
  let dropped = 0;
  const diags: string[] = [];
  for (;;) {
    const request = thread.next();
    if (request.wait && ahead.held === 0 && !relay.hasData(cpu)) break;
    const got = ahead.read(request.count, (count) => {
      const n = relay.read(cpu, out.subarray(0, Math.min(count, out.length)));
      return n > 0 ? out.slice(0, n) : n;
    });
    for (const e of thread.got(got)) {
      if (e.kind === "record") {
        records.push({ seq: e.seq, length: e.length, text: new TextDecoder().decode(e.payload) });
      } else if (e.kind === "dropped") dropped += e.bytes;
      else diags.push(e.text);
    }
  }
  return { records, dropped, diags };
}

/** The raw bytes of `cpu`'s relay file, read until it is empty. */
function rawRead(relay: RelayBuffers, cpu: number): Uint8Array {
  const chunks: number[] = [];
  const out = new Uint8Array(SUBBUF_SIZE);
  for (let n = relay.read(cpu, out); n > 0; n = relay.read(cpu, out)) chunks.push(...out.subarray(0, n));
  return new Uint8Array(chunks);
}

Deno.test("4.8 ring: the tick script's tick 247 meets the first page's last 8 bytes and is dropped (run 1 t1)", () => {
  // The lab's tick script: "begin\n" and "tick N\n"; begin and ticks 1-246 fill 4088 bytes of the first page.
  const relay = new RelayBuffers(2, 256 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  relay.write(0, text("begin\n"));
  for (let n = 1; n <= 600; n++) relay.write(0, text(`tick ${n}\n`));
  assertEquals([relay.stats.failures, relay.stats.tailDrops], [1, 1]);
  // Tick 247 took no number: tick 248 has 248, one less than the script's numbering would give.
  assertEquals(relay.lastSequence, 600);
  const raw = rawRead(relay, 0);
  // The 8 bytes stay in the stream as the ring's first pass left them: zeros.
  assertEquals([...raw.subarray(4088, 4096)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(new DataView(raw.buffer, 4096).getUint32(0, true), 248);
});

Deno.test("4.8 ring: stapio reads the zeros as a header of length 0 and drops the next 128 KiB (seq 248-409 missing, run 1 t1)", () => {
  const relay = new RelayBuffers(2, 256 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  relay.write(0, text("begin\n"));
  for (let n = 1; n <= 600; n++) relay.write(0, text(`tick ${n}\n`));
  relay.overwrite = false; // attach
  const read = stapioRead(relay, 0);
  // Everything up to tick 246 (seq 247) is passed on; the drop takes the rest of the backlog, which is less
  // than 128 KiB, so the reader is at the writer afterwards.
  assertEquals(read.records.map((r) => r.seq), Array.from({ length: 247 }, (_, i) => i + 1));
  assertEquals(read.records.at(-1)?.text, "tick 246\n");
  assertEquals(read.diags, []);
  assert(read.dropped > 0);
  // What comes next is read in frame: a record in a page of its own, after the read closed the writer's.
  relay.write(0, text("tick 601\n"));
  const next = stapioRead(relay, 0);
  assertEquals(next.records.map((r) => [r.seq, r.text]), [[601, "tick 601\n"]]);
});

Deno.test("4.8 ring: records of 41 bytes meet a tail now and then; after a wrap its bytes are an older record's", () => {
  const relay = new RelayBuffers(1, 4 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  // 41-byte records (33 of payload) as run 1's fastb: the page ends fall at every offset in turn.
  for (let i = 0; i < 2000; i++) relay.write(0, text(`${String(i).padStart(8, "0")} ${"x".repeat(23)}\n`));
  assert(relay.stats.tailDrops > 0, "some records met a tail");
  assertEquals(relay.stats.failures, relay.stats.tailDrops);
  assertEquals(relay.lastSequence, 2000 - relay.stats.failures);
  // Each page's last 1-8 bytes where a record was dropped hold what an earlier pass wrote there: not zeros.
  relay.overwrite = false;
  const raw = rawRead(relay, 0);
  const view = new DataView(raw.buffer);
  let at = 0;
  let stale = 0;
  while (at + 8 <= raw.length) {
    const length = view.getUint32(at + 4, true);
    if (length === 33) {
      at += 41;
      continue;
    }
    // Not a header: a tail, up to the page's end.
    const end = (Math.floor(at / SUBBUF_SIZE) + 1) * SUBBUF_SIZE;
    if (raw.subarray(at, end).some((b) => b !== 0)) stale++;
    at = end;
  }
  assert(stale > 0, "stale bytes at some tail");
});

/** A ring of two pages holding records 1 and 2 whole and record 3 cut short, its writer stalled. */
function cutRing(): RelayBuffers {
  const relay = new RelayBuffers(1, 2 * SUBBUF_SIZE, "4.8");
  // Attached (overwrite off): 4000 bytes in page 0, then a 4000-byte record fills page 0's last 96 bytes
  // and most of page 1, then one more: its header and first part fit in page 1's rest, its rest would need
  // page 0 again, which is unread.
  relay.write(0, new Uint8Array(3992).fill(0x61));
  relay.write(0, new Uint8Array(4000).fill(0x62));
  return relay;
}

Deno.test("4.8 ring: a record whose rest cannot be reserved is cut short, counted, and keeps its number", () => {
  const relay = cutRing();
  assertEquals(relay.stats.failures, 0);
  assert(relay.write(0, new Uint8Array(3000).fill(0x63)), "its header fitted: it has a number");
  assertEquals([relay.lastSequence, relay.stats.failures, relay.stats.cutShort], [3, 1, 1]);
  // The writer is stalled on the full ring: every record now is dropped whole, without a number.
  assert(!relay.write(0, text("next\n")));
  assertEquals([relay.lastSequence, relay.stats.failures], [3, 2]);
  const raw = rawRead(relay, 0);
  // Records 1 and 2 whole, then record 3's header saying 3000 bytes and the 176 that fitted.
  assertEquals(raw.length, 2 * SUBBUF_SIZE);
  const view = new DataView(raw.buffer);
  assertEquals([view.getUint32(8008, true), view.getUint32(8012, true)], [3, 3000]);
  assertEquals(raw.subarray(8016).every((b) => b === 0x63), true);
});

Deno.test("4.8 ring: stapio writes nothing of a cut record when its payload read finds the ring empty", () => {
  const relay = cutRing();
  relay.write(0, new Uint8Array(3000).fill(0x63));
  const read = stapioRead(relay, 0);
  // The payload read returns the 176 bytes, the next one ENODATA: `wbytes = rc` is negative, nothing is
  // written, and record 3's number is missing from the output.
  assertEquals(read.records.map((r) => [r.seq, r.text.length]), [[1, 3992], [2, 4000]]);
  // The read freed the ring: the writer goes on in a new page, in frame.
  assert(relay.write(0, text("after\n")));
  assertEquals(stapioRead(relay, 0).records.map((r) => [r.seq, r.text]), [[4, "after\n"]]);
});

Deno.test("4.8 ring: a cut record whose rest the writer refilled is read as one frame with the next records glued in", () => {
  const relay = cutRing();
  relay.write(0, new Uint8Array(3000).fill(0x63));
  const thread = new ReaderThread();
  const ahead = new ReadAhead();
  const out = new Uint8Array(256 * 1024);
  const read = (count: number) => {
    const n = relay.read(0, out.subarray(0, Math.min(count, out.length)));
    return n > 0 ? out.slice(0, n) : n;
  };
  const records: { seq: number; length: number; payload: Uint8Array }[] = [];
  let resumed = false;
  for (let i = 0; i < 50; i++) {
    const request = thread.next();
    if (request.wait && ahead.held === 0 && !relay.hasData(0)) break;
    if (!resumed && request.count === 3000) {
      // Between the reader's header read and its payload read, the writer (no longer stalled) writes on.
      for (let n = 0; n < 300; n++) relay.write(0, text(`after ${n}\n`));
      resumed = true;
    }
    for (const e of thread.got(ahead.read(request.count, read))) if (e.kind === "record") records.push(e);
  }
  assert(resumed);
  const glued = records[2];
  assertEquals([glued.seq, glued.length, glued.payload.length], [3, 3000, 3000]);
  assert(glued.payload.subarray(0, 176).every((b) => b === 0x63));
  // The next record's header follows the part: record 4, "after 0\n".
  assertEquals(new DataView(glued.payload.buffer, glued.payload.byteOffset + 176).getUint32(0, true), 4);
});

Deno.test("4.8 ring: the first read of a wrapped ring starts at the oldest page kept, inside a record, and drops up to the writer", () => {
  const relay = new RelayBuffers(1, 8 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  // 100-byte records: pages begin inside a record; the ring wraps several times.
  for (let i = 0; i < 2000; i++) relay.write(0, text(`${String(i).padStart(8, "0")} ${"y".repeat(90)}\n`));
  const last = relay.lastSequence;
  relay.overwrite = false; // attach
  const read = stapioRead(relay, 0);
  // The ring (32 KiB) is less than one drop: nothing it held is passed on, and the reader is at the writer.
  assertEquals(read.records, []);
  assert(read.dropped > 0 && read.dropped <= 8 * SUBBUF_SIZE);
  relay.write(0, text("new\n"));
  assertEquals(stapioRead(relay, 0).records.map((r) => r.seq), [last + 1]);
});

Deno.test("4.8 ring: a drop that comes back full leaves the reader in text, which it drops again, up to the writer", () => {
  const relay = new RelayBuffers(1, 256 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  relay.write(0, new Uint8Array(4080).fill(0x7a)); // 4088 bytes: the next record meets an 8-byte tail
  relay.write(0, text("dropped at the tail\n"));
  // A record of 50 bytes, then records of 128: pages end 50 bytes into a record (no more tails), and a drop of
  // 128 KiB from a page's start ends 78 bytes into one, in text.
  relay.write(0, new Uint8Array(42).fill(0x2d));
  for (let i = 0; i < 3000; i++) relay.write(0, text(`${String(i).padStart(8, "0")} ${"y".repeat(110)}\n`));
  assertEquals(relay.stats.tailDrops, 1);
  relay.overwrite = false;
  const read = stapioRead(relay, 0);
  assertEquals(read.records.map((r) => r.seq), [1]);
  // Three "headers" (the tail's zeros, then text twice) each followed by a drop (two of 128 KiB that end in
  // text, then a short one at the writer): every byte after the first record, the tail's 8, 50 and 3000
  // records of 128.
  assertEquals(3 * 8 + read.dropped, 8 + 50 + 3000 * 128);
});

Deno.test("4.8 ring: a tail of 4 bytes and the next header make a header of length = that record's number", () => {
  const relay = new RelayBuffers(1, 256 * SUBBUF_SIZE, "4.8");
  relay.overwrite = true;
  relay.write(0, new Uint8Array(4084).fill(0x7a)); // 4092 bytes: 4 left
  relay.write(0, text("dropped at the tail\n"));
  for (let i = 0; i < 10; i++) relay.write(0, text(`${String(i).padStart(8, "0")} ${"y".repeat(90)}\n`));
  relay.overwrite = false;
  const read = stapioRead(relay, 0);
  // The 4 zero bytes are the "sequence", record 2's number the "length": stapio reads 2 bytes (record 2's
  // length field) as a record numbered 0, then is out of frame and drops the rest.
  assertEquals(read.records.map((r) => [r.seq, r.length]), [[1, 4084], [0, 2]]);
});

Deno.test("4.8 ring: a short header read prints the bufhdr error with the thread's errno", () => {
  const thread = new ReaderThread();
  assertEquals(thread.got(-ENODATA), [{
    kind: "diag",
    text: "stapio:reader_thread:204: ERROR: bufhdr read error, attempting resync: No data available\n",
  }]);
  assertEquals(thread.next(), { count: 128 * 1024, wait: false });
});
