import { assertEquals } from "@std/assert";
import { copyCut } from "./capture.ts";

function record(seq: number, size: number): Uint8Array {
  const r = new Uint8Array(8 + size).fill(0x61);
  new DataView(r.buffer).setUint32(0, seq, true);
  new DataView(r.buffer).setUint32(4, size, true);
  return r;
}

Deno.test("copyCut keeps whole bulk records only, also when headers straddle its 1 MiB blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Records of awkward sizes, about 2.6 MiB in all, so headers fall across block boundaries.
    const parts: Uint8Array[] = [];
    const ends: number[] = [];
    let size = 0;
    for (let seq = 1; size < 2.6 * (1 << 20); seq++) {
      const r = record(seq, 1 + ((seq * 7919) % 8000));
      parts.push(r);
      size += r.length;
      ends.push(size);
    }
    const whole = new Uint8Array(size);
    parts.reduce((at, p) => (whole.set(p, at), at + p.length), 0);
    await Deno.writeFile(`${dir}/f`, whole);
    for (const limit of [size, size - 3, ends[200] + 5, (1 << 20) + 3, 7]) {
      const to = `${dir}/cut-${limit}`;
      const kept = await copyCut(`${dir}/f`, to, limit, true);
      const expected = [0, ...ends].filter((e) => e <= limit).at(-1)!;
      assertEquals(kept, expected, `limit ${limit}`);
      assertEquals((await Deno.readFile(to)).length, expected);
      assertEquals((await Deno.stat(to)).mode! & 0o777, 0o600);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyCut keeps whole lines of text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "one\ntwo\nthr");
    assertEquals(await copyCut(`${dir}/f`, `${dir}/c`, 11, false), 8);
    assertEquals(await Deno.readTextFile(`${dir}/c`), "one\ntwo\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
