import { assert, assertEquals } from "@std/assert";
import { LineCleaner, MAX_HELD_LINE } from "./clean.ts";
import { joinBytes } from "../bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The lab's script output: numbered 107-byte lines `N xxx…\n`. */
function numbered(from: number, to: number): string {
  let text = "";
  for (let n = from; n <= to; n++) text += `${n} `.padEnd(106, "x") + "\n";
  return text;
}

function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const pieces = parts.map((p) => typeof p === "string" ? encoder.encode(p) : new Uint8Array(p));
  return joinBytes(pieces);
}

/** Cleans `input` fed in chunks of the given sizes (cycled); the text out and the counts. */
function clean(input: Uint8Array, sizes: number[] = [input.length || 1]) {
  const cleaner = new LineCleaner();
  const out: Uint8Array[] = [];
  for (let at = 0, k = 0; at < input.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]);
    out.push(cleaner.push(input.subarray(at, at + size)).slice());
    at += size;
  }
  out.push(cleaner.finish());
  let text = "";
  for (const o of out) text += decoder.decode(o, { stream: true });
  return { text: text + decoder.decode(), counts: cleaner.counts };
}

/** What the real kernel gave (docs/real-ring.md): a wrapped ring's first read. */
function wrappedDump(): Uint8Array {
  const torn = numbered(60512, 60512).slice(0, 14); // "60512 xxxxxxxx", cut mid-line
  return bytes([0xc4, 0x1f, 0x00, 0x00], numbered(60501, 60511), torn, numbered(82801, 84000));
}

function lineNumbers(text: string): number[] {
  return text.split("\n").filter((l) => l !== "").map((l) => Number(l.split(" ")[0]));
}

Deno.test("LineCleaner cuts a wrapped ring's binary word, stale lines and torn line, and keeps the newest run", () => {
  const { text, counts } = clean(wrappedDump());
  const numbers = lineNumbers(text);
  // What is left is a whole, contiguous run of the newest lines, each one well-formed, ending at the last.
  assert(numbers.length > 0);
  assertEquals(numbers.at(-1), 84000);
  assert(numbers[0] > 82801, "the line glued to the stale fragment is cut");
  numbers.forEach((n, i) => assertEquals(n, numbers[0] + i));
  for (const line of text.split("\n").slice(0, -1)) assertEquals(line.length, 106, line);
  // What went: the stale lines, the torn one, and at most the stale record's length of the oldest good ones.
  assertEquals(counts.reasons, { binary: 0, invalid_utf8: 0, stale: counts.damaged_lines });
  assertEquals(counts.damaged_bytes + encoder.encode(text).length, wrappedDump().length);
  assert(counts.damaged_bytes <= 4 + 0x1fc4 + 107, `cut ${counts.damaged_bytes} bytes`);
});

Deno.test("LineCleaner cuts a slow reader's torn record glued to a binary word, and nothing around it", () => {
  // A record cut short at a sub-buffer end, then a 4-byte word glued before the next number.
  const input = bytes(
    numbered(1000, 1010),
    numbered(1011, 1011).slice(0, 40),
    [0xa4, 0x1f, 0x00, 0x00],
    numbered(1090, 1100),
  );
  const { text, counts } = clean(input);
  assertEquals(lineNumbers(text), [...range(1000, 1010), ...range(1091, 1100)]);
  assertEquals(counts.damaged_lines, 1);
  assertEquals(counts.reasons.binary, 1);
  assertEquals(counts.damaged_bytes, 40 + 4 + 107);
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test("LineCleaner gives the same output and counts however the stream is chunked", () => {
  const input = bytes(
    wrappedDump(),
    "café in UTF-8\n",
    numbered(1, 3).slice(0, 30),
    [0xa4, 0x1f, 0, 0],
    "naïve — ✓ 𝄞\tcol\r\n",
    [0x63, 0x61, 0x66, 0xe9, 0x0a],
    "last line without newline",
  );
  const whole = clean(input);
  for (const sizes of [[1], [2], [3], [7], [4096], [1, 5, 64, 3], [107, 1]]) {
    assertEquals(clean(input, sizes), whole, `chunks of ${sizes}`);
  }
});

Deno.test("LineCleaner keeps legitimate output byte for byte: UTF-8, tabs, CR, ANSI colours, empty lines", () => {
  const text = "naïve — ✓ 𝄞 日本語\n\tindented\tcols\r\n\x1b[31mred\x1b[0m\n\n\nno newline at the end";
  const { text: out, counts } = clean(encoder.encode(text), [1]);
  assertEquals(out, text);
  assertEquals(counts.damaged_lines, 0);
});

Deno.test("LineCleaner cuts lines that are not UTF-8 or hold control bytes, counted by reason", () => {
  const input = bytes(
    "ok 1\n",
    [0x63, 0x61, 0x66, 0xe9, 0x0a], // "caf\xe9\n": Latin-1
    "ok 2\n",
    [0xe2, 0x9c, 0x0a], // a character cut short
    "bell\x07\n",
    "nul\x00inside\n",
    "del\x7f\n",
    "ok 3\n",
  );
  const { text, counts } = clean(input);
  assertEquals(text, "ok 1\nok 2\nok 3\n");
  assertEquals(counts.reasons, { binary: 3, invalid_utf8: 2, stale: 0 });
  assertEquals(counts.damaged_lines, 5);
});

Deno.test("LineCleaner: binary bytes that are no record length cut their line only", () => {
  // 0x44004241 and 0x6261 are above 8192; a NUL mid-line is no leading word either.
  const input = bytes(
    [0x41, 0x42, 0x00, 0x44],
    "x\n",
    "keep\n",
    "ab\x00\x00\x00\x00b\n",
    "keep too\n",
    "x\x00y\n",
  );
  const { text, counts } = clean(input);
  assertEquals(text, "keep\nkeep too\n");
  assertEquals(counts.reasons, { binary: 3, invalid_utf8: 0, stale: 0 });
});

Deno.test("LineCleaner: a stale record's word at a line start mid-stream (another CPU's wrap) is cut the same way", () => {
  const input = bytes(
    numbered(500, 502),
    [20, 0, 0, 0],
    "7 old",
    "503 ".padEnd(106, "x") + "\n",
    numbered(504, 505),
  );
  const { text, counts } = clean(input);
  assertEquals(lineNumbers(text), [500, 501, 502, 504, 505]);
  assertEquals(counts.reasons.stale, 1);
});

Deno.test("LineCleaner: a partial last line that is damaged is counted, not printed", () => {
  const { text, counts } = clean(bytes("good\n", "bad\x00tail"));
  assertEquals(text, "good\n");
  assertEquals(counts, {
    damaged_lines: 1,
    damaged_bytes: 8,
    reasons: { binary: 1, invalid_utf8: 0, stale: 0 },
  });
});

Deno.test("LineCleaner passes a very long clean line on without holding it all, and ends it if damage follows", () => {
  const long = "y".repeat(MAX_HELD_LINE + 10);
  const cleaner = new LineCleaner();
  const first = cleaner.push(encoder.encode(long));
  assertEquals(first.length, long.length, "passed on once it is longer than the hold limit");
  const rest = cleaner.push(bytes("zz\x00zz\n", "next\n"));
  assertEquals(decoder.decode(rest), "\nnext\n");
  assertEquals(cleaner.counts.damaged_lines, 1);
  assertEquals(cleaner.counts.damaged_bytes, 6);
});
