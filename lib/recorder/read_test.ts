import { assertEquals } from "@std/assert";
import { capped } from "./read.ts";

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
