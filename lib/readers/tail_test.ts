import { assertEquals } from "@std/assert";
import { listRunFiles, streamsOf } from "./files.ts";
import { LineKeeper, tailBulk, tailFiles } from "./tail.ts";

Deno.test("tailFiles reads the last lines backwards across rotated files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = Array.from({ length: 30000 }, (_, i) => `event ${i}\n`);
    await Deno.writeTextFile(`${dir}/o.out.0`, lines.slice(0, 20000).join(""));
    await Deno.writeTextFile(`${dir}/o.out.1`, lines.slice(20000, 29998).join(""));
    await Deno.writeTextFile(`${dir}/o.out.2`, lines.slice(29998).join(""));
    const files = await listRunFiles(dir, "o.out");
    assertEquals(await tailFiles(files, 3), "event 29997\nevent 29998\nevent 29999\n");
    assertEquals((await tailFiles(files, 10005)).split("\n")[0], "event 19995");
    assertEquals(await tailFiles(files, 0), "");
    assertEquals((await tailFiles(files, 100000)).length, lines.join("").length);
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
    const streams = streamsOf(await listRunFiles(dir, "b"));
    assertEquals(await tailBulk(streams, 2), "s4\ns5\n");
    assertEquals(await tailBulk(streams, 4), "s2\ns3\ns4\ns5\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineKeeper keeps the last lines of text fed in pieces, with characters split across pieces", () => {
  const keeper = new LineKeeper(2);
  const bytes = new TextEncoder().encode("a\nbé\nc");
  for (const b of bytes) keeper.push(new Uint8Array([b]));
  assertEquals(keeper.text(), "bé\nc");
});
