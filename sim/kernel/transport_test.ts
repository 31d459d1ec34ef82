import { assertEquals, assertThrows } from "@std/assert";
import { ControlDecoder, encodeControl, encodeRecord, Msg, RecordDecoder } from "./transport.ts";

Deno.test("control messages survive any split of the stream", () => {
  const bytes = new Uint8Array([
    ...encodeControl(Msg.READY),
    ...encodeControl(Msg.START, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])),
  ]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new ControlDecoder();
    const got = [...d.push(bytes.slice(0, cut)), ...d.push(bytes.slice(cut))];
    assertEquals(got.map((m) => [m.type, [...m.payload]]), [[Msg.READY, []], [Msg.START, [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]]]);
  }
});

Deno.test("a control frame shorter than its type is rejected", () => {
  assertThrows(() => new ControlDecoder().push(new Uint8Array([2, 0, 0, 0, 0, 0])), RangeError);
});

Deno.test("relay records are little-endian seq, len, payload and split cleanly", () => {
  const rec = encodeRecord(0x01020304, new TextEncoder().encode("hi\n"));
  assertEquals([...rec.slice(0, 8)], [4, 3, 2, 1, 3, 0, 0, 0]);
  const d = new RecordDecoder();
  assertEquals(d.push(rec.slice(0, 9)), []);
  assertEquals(d.pendingBytes, 9);
  const [r] = d.push(rec.slice(9));
  assertEquals([r.seq, new TextDecoder().decode(r.payload)], [0x01020304, "hi\n"]);
});
