import { assertEquals } from "@std/assert";
import { listRunFiles, streamsOf } from "./files.ts";
import { LineKeeper, tailBulk, tailFiles } from "./tail.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("tailFiles reads the last lines backwards across rotated files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = Array.from({ length: 30000 }, (_, i) => `event ${i}\n`);
    await Deno.writeTextFile(`${dir}/o.out.0`, lines.slice(0, 20000).join(""));
    await Deno.writeTextFile(`${dir}/o.out.1`, lines.slice(20000, 29998).join(""));
    await Deno.writeTextFile(`${dir}/o.out.2`, lines.slice(29998).join(""));
    const files = listRunFiles(dir, "o.out");
    assertEquals((await tailFiles(files, 3)).text, "event 29997\nevent 29998\nevent 29999\n");
    assertEquals((await tailFiles(files, 10005)).text.split("\n")[0], "event 19995");
    assertEquals((await tailFiles(files, 0)).text, "");
    assertEquals((await tailFiles(files, 100000)).text.length, lines.join("").length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tailBulk merges the newest per-CPU files until it has enough lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rec = (seq: number) => {
      const p = new TextEncoder().encode(`s${seq}\n`);
      const r = new Uint8Array(8 + p.length);
      new DataView(r.buffer).setUint32(0, seq, true);
      new DataView(r.buffer).setUint32(4, p.length, true);
      r.set(p, 8);
      return r;
    };
    await Deno.writeFile(`${dir}/b_cpu0.0`, new Uint8Array([...rec(1), ...rec(3)]));
    await Deno.writeFile(`${dir}/b_cpu0.1`, rec(5));
    await Deno.writeFile(`${dir}/b_cpu1.0`, new Uint8Array([...rec(2), ...rec(4)]));
    const streams = streamsOf(listRunFiles(dir, "b"));
    assertEquals((await tailBulk(streams, 2)).text, "s4\ns5\n");
    assertEquals((await tailBulk(streams, 4)).text, "s2\ns3\ns4\ns5\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineKeeper keeps the last lines as bytes, binary ones included, across any chunking", () => {
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
    const keeper = new LineKeeper(2);
    for (let at = 0; at < input.length; at += size) keeper.push(input.subarray(at, at + size));
    assertEquals([...keeper.bytes()], [0xc4, 0x1f, 0x00, 0x00, 0xe9, ...encoder.encode("three\nfour")]);
  }
  const trailing = new LineKeeper(1);
  trailing.push(encoder.encode("a\nb\n"));
  assertEquals(decoder.decode(trailing.bytes()), "b\n");
  assertEquals(new LineKeeper(0).bytes().length, 0);
  const big = new LineKeeper(3);
  for (let i = 0; i < 20_000; i++) big.push(encoder.encode(`line ${i}\n`));
  assertEquals(decoder.decode(big.bytes()), "line 19997\nline 19998\nline 19999\n");
});
