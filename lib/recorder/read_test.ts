import { assertEquals } from "@std/assert";
import { ByteLineKeeper, capped } from "./read.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function through(chunks: string[], maxBytes: number): Promise<{ text: string; dropped: number }> {
  let text = "";
  const cap = capped((c) => Promise.resolve(void (text += decoder.decode(c))), maxBytes);
  for (const c of chunks) await cap.sink(encoder.encode(c));
  return { text, dropped: cap.dropped() };
}

Deno.test("capped passes on at most maxBytes, cut after the last whole line, and counts the rest", async () => {
  // A 2 × 64K ring's dump that kept reading live output: 170 KB offered, at most 128K passed on.
  const line = "x".repeat(99) + "\n";
  const chunks = Array.from({ length: 1700 }, () => line);
  const { text, dropped } = await through(chunks, 128 * 1024);
  assertEquals(text.length, Math.floor((128 * 1024) / 100) * 100);
  assertEquals(text.endsWith("\n"), true);
  assertEquals(text.length + dropped, 170_000);
});

Deno.test("capped passes everything when it fits, and nothing of a line that does not", async () => {
  assertEquals(await through(["a\n", "b\n"], 4), { text: "a\nb\n", dropped: 0 });
  assertEquals(await through(["a\nbbbb\n", "c\n"], 5), { text: "a\n", dropped: 7 });
  assertEquals(await through(["no newline at all"], 5), { text: "", dropped: 17 });
});

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
