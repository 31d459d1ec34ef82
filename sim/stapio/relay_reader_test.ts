import { assertEquals } from "@std/assert";
import { READ_AHEAD, ReadAhead, ReaderThread, STAPIO_BUFFER } from "./relay_reader.ts";

function rec(seq: number, text: string, declared?: number): Uint8Array {
  const p = new TextEncoder().encode(text);
  const r = new Uint8Array(8 + p.length);
  new DataView(r.buffer).setUint32(0, seq, true);
  new DataView(r.buffer).setUint32(4, declared ?? p.length, true);
  r.set(p, 8);
  return r;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("reader thread: header, then payload; the record written as read", () => {
  const t = new ReaderThread();
  assertEquals(t.next(), { count: 8, wait: true });
  assertEquals(t.got(rec(7, "hello\n").subarray(0, 8)), []);
  assertEquals(t.next(), { count: 6, wait: false });
  const [event] = t.got(new TextEncoder().encode("hello\n"));
  assertEquals(event.kind === "record" && [event.seq, event.length, text(event.payload)], [7, 6, "hello\n"]);
  assertEquals(t.next(), { count: 8, wait: true });
});

Deno.test("reader thread: a length over 128 KiB drops one read; a read of 0 at a header starts over", () => {
  const t = new ReaderThread();
  assertEquals(t.got(rec(1, "", STAPIO_BUFFER + 1).subarray(0, 8)), []);
  assertEquals(t.next(), { count: STAPIO_BUFFER, wait: false });
  assertEquals(t.got(new Uint8Array(10)), [{ kind: "dropped", bytes: 10 }]);
  assertEquals(t.got(0), []);
  assertEquals(t.next(), { count: 8, wait: true });
});

Deno.test("reader thread: a payload in two reads is written with the bytes of the last read only (wbytes = rc)", () => {
  const t = new ReaderThread();
  t.got(rec(3, "abcdef").subarray(0, 8));
  assertEquals(t.got(new TextEncoder().encode("abcd")), []);
  assertEquals(t.next(), { count: 2, wait: false });
  const [event] = t.got(new TextEncoder().encode("ef"));
  // stapio writes the header (length 6) and the first 2 bytes of its buffer: "ab".
  assertEquals(event.kind === "record" && [event.length, text(event.payload)], [6, "ab"]);
});

Deno.test("reader thread: a payload read that fails writes nothing of the record", () => {
  const t = new ReaderThread();
  t.got(rec(3, "abcdef").subarray(0, 8));
  assertEquals(t.got(new TextEncoder().encode("abc")), []);
  assertEquals(t.got(-61), []);
  assertEquals(t.next(), { count: 8, wait: true });
});

Deno.test("read ahead: reads are served from what is held, topped up by one read of the relay file", () => {
  const stream = new Uint8Array(100).map((_, i) => i);
  let at = 0;
  const asked: number[] = [];
  const relay = (count: number): Uint8Array | number => {
    asked.push(count);
    if (at >= stream.length) return -61;
    const out = stream.slice(at, Math.min(stream.length, at + count, at + 30));
    at += out.length;
    return out;
  };
  const ahead = new ReadAhead();
  // 30 bytes come in: 8 of them answer the first read, the rest is held.
  assertEquals(ahead.read(8, relay), stream.slice(0, 8));
  assertEquals([ahead.held, asked], [22, [READ_AHEAD]]);
  assertEquals(ahead.read(10, relay), stream.slice(8, 18));
  // 12 held, 20 asked for: the 12 and what one more read gives now (30), the rest held.
  assertEquals(ahead.read(20, relay), stream.slice(18, 38));
  assertEquals(asked.length, 2);
  // Nothing held and nothing to read: the relay file's answer.
  ahead.read(1000, relay);
  ahead.read(1000, relay);
  assertEquals(ahead.read(8, relay), -61);
});
