import { assertEquals, assertRejects } from "@std/assert";
import { StapfrError, UsageError } from "../errors.ts";
import { openOutputFile } from "./output_file.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

Deno.test("openOutputFile refuses a bad target before anything is written", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/f`, "mine");
    await assertRejects(() => openOutputFile(""), UsageError, 'Invalid output file ""');
    await assertRejects(() => openOutputFile(root), StapfrError, "it is a directory");
    await assertRejects(() => openOutputFile(`${root}/f`), StapfrError, "the file already exists");
    await assertRejects(
      () => openOutputFile(`${root}/d/x`),
      StapfrError,
      `directory "${root}/d" does not exist`,
    );
    await assertRejects(() => openOutputFile(`${root}/f/x`), StapfrError, `"${root}/f" is not a directory`);
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["f"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a dump whose name is taken meanwhile keeps its data under a reported name", async () => {
  const root = await Deno.makeTempDir();
  try {
    const file = await openOutputFile(`${root}/out`);
    await file.sink(bytes("drained\n"));
    await Deno.writeTextFile(`${root}/out`, "theirs");
    await Deno.writeTextFile(`${root}/out.1`, "also theirs");
    const err = await assertRejects(() => file.commit(), StapfrError);
    assertEquals(
      err.message,
      `Output file "${root}/out" appeared while dumping; the 8 bytes read are in "${root}/out.2"`,
    );
    assertEquals(await Deno.readTextFile(`${root}/out.2`), "drained\n");
    assertEquals(await Deno.readTextFile(`${root}/out`), "theirs");
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["out", "out.1", "out.2"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("abandon removes an empty file and keeps one holding data", async () => {
  const root = await Deno.makeTempDir();
  try {
    assertEquals(await (await openOutputFile(`${root}/a`)).abandon(), undefined);
    const b = await openOutputFile(`${root}/b`);
    await b.sink(bytes("x"));
    assertEquals(await b.abandon(), `${root}/b.1`);
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["b.1"]);
    const c = await openOutputFile(`${root}/c`);
    await c.sink(bytes("y"));
    await c.commit();
    assertEquals(await Deno.readTextFile(`${root}/c`), "y");
    assertEquals((await Deno.stat(`${root}/c`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
