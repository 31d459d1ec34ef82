import { assertEquals } from "@std/assert";
import { isPlainText, plainTextBuffer, plainTextJs } from "./plain_text.ts";

/** A seeded generator, so that a failure can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("the WebAssembly check agrees with the JavaScript one on every byte, at every place, length and alignment", () => {
  const inPlace = plainTextBuffer(64 * 1024);
  let checked = 0;
  for (const length of [1, 15, 16, 17, 63, 64, 65, 127, 128, 200]) {
    for (const start of [0, 1, 3, 8, 15]) {
      for (let b = 0; b < 256; b++) {
        for (let at = 0; at < length; at++) {
          const bytes = new Uint8Array(length).fill(0x61);
          bytes[at] = b;
          const expected = plainTextJs(bytes);
          inPlace.set(bytes, start);
          const view = inPlace.subarray(start, start + length);
          assertEquals(
            isPlainText(view),
            expected,
            `in place: byte ${b} at ${at} of ${length}, from ${start}`,
          );
          assertEquals(isPlainText(bytes), expected, `copied: byte ${b} at ${at} of ${length}`);
          checked++;
        }
      }
    }
  }
  assertEquals(checked > 100_000, true);
});

Deno.test("the WebAssembly check agrees with the JavaScript one on text with rare damage, and on more than its scratch memory holds", () => {
  const next = random(7);
  const line = new TextEncoder().encode(
    "0000042 vfs_read pid=4242\tcomm=postgres bytes=8192 \x1b[1mok\x1b[0m\r\n",
  );
  for (let round = 0; round < 200; round++) {
    const bytes = new Uint8Array(Math.floor(next() * 400_000));
    for (let at = 0; at < bytes.length; at += line.length) bytes.set(line.subarray(0, bytes.length - at), at);
    // Half the rounds get a byte that is not plain text somewhere, sometimes near the end.
    if (round % 2 === 1 && bytes.length > 0) {
      const at = round % 4 === 1
        ? bytes.length - 1 - Math.floor(next() * 20)
        : Math.floor(next() * bytes.length);
      bytes[Math.max(0, at)] = [0x00, 0x7f, 0x80, 0xc3, 0x1f, 0x0b][Math.floor(next() * 6)];
    }
    const inPlace = plainTextBuffer(bytes.length);
    inPlace.set(bytes);
    assertEquals(isPlainText(bytes), plainTextJs(bytes), `round ${round}`);
    assertEquals(isPlainText(inPlace), plainTextJs(bytes), `round ${round}, in place`);
  }
});

Deno.test("without WebAssembly (V8 without a JIT), the JavaScript check answers the same", async () => {
  const script = `
    import { isPlainText, plainTextBuffer } from ${
    JSON.stringify(new URL("./plain_text.ts", import.meta.url).href)
  };
    const text = new TextEncoder().encode("a line\\twith a tab\\n".repeat(100));
    const buffer = plainTextBuffer(4096);
    buffer.set(text);
    const bad = text.slice();
    bad[1500] = 0;
    console.log(JSON.stringify([typeof WebAssembly, isPlainText(text), isPlainText(buffer.subarray(0, text.length)), isPlainText(bad)]));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--no-config", "--v8-flags=--jitless", script],
  }).output();
  assertEquals(new TextDecoder().decode(out.stderr), "");
  assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), ["undefined", true, true, false]);
});
