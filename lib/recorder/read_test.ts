import { assertEquals } from "@std/assert";
import { ByteLineKeeper } from "./read.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("ByteLineKeeper keeps the last lines as bytes, binary ones included, across any chunking", () => {
  const input = new Uint8Array([
    ...encoder.encode("one\ntwo\n"),
    0xc4,
    0x1f,
    0x00,
    0x00,
    0xe9,
    ...encoder.encode("three\nfour"),
  ]);
  for (const size of [1, 3, input.length]) {
    const keeper = new ByteLineKeeper(2);
    for (let at = 0; at < input.length; at += size) keeper.push(input.subarray(at, at + size));
    assertEquals([...keeper.bytes()], [0xc4, 0x1f, 0x00, 0x00, 0xe9, ...encoder.encode("three\nfour")]);
  }
  const trailing = new ByteLineKeeper(1);
  trailing.push(encoder.encode("a\nb\n"));
  assertEquals(decoder.decode(trailing.bytes()), "b\n");
  assertEquals(new ByteLineKeeper(0).bytes().length, 0);
  const big = new ByteLineKeeper(3);
  for (let i = 0; i < 20_000; i++) big.push(encoder.encode(`line ${i}\n`));
  assertEquals(decoder.decode(big.bytes()), "line 19997\nline 19998\nline 19999\n");
});
