import { assertEquals } from "@std/assert";
import { classify, listRunFiles, streamsOf, totalSize } from "./files.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("classify knows stapio 4.8's names, and only those of this base", () => {
  const base = "web.out";
  assertEquals(classify("web.out", base), { cpu: null, index: -1 });
  assertEquals(classify("web.out.12", base), { cpu: null, index: 12 });
  assertEquals(classify("web.out_3", base), { cpu: 3, index: -1 });
  assertEquals(classify("web.out_cpu3.0", base), { cpu: 3, index: 0 });
  for (
    const other of [
      "web.out.",
      "web.out.1.tmp",
      "web.out_cpu3",
      "web.out_cpu.1",
      "webXout.1", // The base's dot is a dot, not any character.
      "other.out.1",
      "web.out.1/..",
      ".web.out.1",
      "web.out.-1",
    ]
  ) {
    assertEquals(classify(other, base), undefined, other);
  }
  // A base with characters that mean something in a pattern.
  assertEquals(classify("a+b(1).out.2", "a+b(1).out"), { cpu: null, index: 2 });
  assertEquals(classify("aab1.out.2", "a+b(1).out"), undefined);
});

Deno.test("a run's files come oldest first per stream, numbers compared as numbers, strangers left out", async () => {
  await withDir(async (dir) => {
    for (const name of ["f.10", "f.9", "f.0", "f", "f_cpu1.2", "f_cpu0.11", "f_cpu0.2", "f_1", "notes.txt"]) {
      await Deno.writeTextFile(`${dir}/${name}`, name);
    }
    await Deno.mkdir(`${dir}/f.11`); // A directory named like a file is not one.
    await Deno.symlink(`${dir}/notes.txt`, `${dir}/f.12`);
    const files = listRunFiles(dir, "f");
    assertEquals(files.map((f) => f.name), [
      "f",
      "f.0",
      "f.9",
      "f.10",
      "f_cpu0.2",
      "f_cpu0.11",
      "f_1",
      "f_cpu1.2",
    ]);
    assertEquals(files[0].path, `${dir}/f`);
    assertEquals(
      streamsOf(files).map((s) => s.map((f) => f.name)),
      [["f", "f.0", "f.9", "f.10"], ["f_cpu0.2", "f_cpu0.11"], ["f_1", "f_cpu1.2"]],
    );
    assertEquals(totalSize(files), files.reduce((n, f) => n + f.name.length, 0));
  });
});

Deno.test("a run directory that is gone has no files; a file rotated away meanwhile counts 0 bytes", async () => {
  await withDir(async (dir) => {
    assertEquals(listRunFiles(`${dir}/gone`, "f"), []);
    await Deno.writeTextFile(`${dir}/f.0`, "abc");
    await Deno.writeTextFile(`${dir}/f.1`, "de");
    const files = listRunFiles(dir, "f");
    await Deno.remove(`${dir}/f.0`);
    assertEquals(totalSize(files), 2);
  });
});
