import { assertEquals, assertRejects } from "@std/assert";
import { copyFiles } from "./concat.ts";

async function files(
  dir: string,
  texts: string[],
): Promise<{ path: string; name: string; cpu: null; index: number }[]> {
  const out = [];
  for (const [i, t] of texts.entries()) {
    await Deno.writeTextFile(`${dir}/o.${i}`, t);
    out.push({ path: `${dir}/o.${i}`, name: `o.${i}`, cpu: null, index: i });
  }
  return out;
}

Deno.test("copyFiles streams files in order in blocks, from an offset, skipping files rotated away", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const list = await files(dir, ["abcdefghij", "klmnop", "qrstuvwxyz"]);
    await Deno.remove(list[1].path);
    let text = "";
    const decoder = new TextDecoder();
    const r = await copyFiles([{ ...list[0], offset: 4 }, list[1], list[2]], (c) => {
      text += decoder.decode(c);
      return Promise.resolve();
    }, 3);
    assertEquals([text, r.bytes, r.missing], ["efghijqrstuvwxyz", 16, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copyFiles stops at a failing sink without leaving a read or a file open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const list = await files(dir, ["x".repeat(100), "y".repeat(100)]);
    let calls = 0;
    await assertRejects(
      () =>
        copyFiles(list, () => {
          calls++;
          return Promise.reject(new Deno.errors.BrokenPipe("closed"));
        }, 10),
      Deno.errors.BrokenPipe,
    );
    assertEquals(calls, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
