import { assert, assertEquals, assertRejects } from "@std/assert";
import { writeAtomic } from "./atomic_write.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("the file gets its mode whatever the umask: 0600 by default, the mode asked for otherwise", async () => {
  await withDir(async (dir) => {
    const old = Deno.umask(0);
    try {
      await writeAtomic(`${dir}/a`, "secret");
      assertEquals((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o600);
      Deno.umask(0o077);
      await writeAtomic(`${dir}/b`, new Uint8Array([1, 2, 3]), { mode: 0o644 });
      assertEquals((await Deno.stat(`${dir}/b`)).mode! & 0o777, 0o644);
      assertEquals(await Deno.readFile(`${dir}/b`), new Uint8Array([1, 2, 3]));
    } finally {
      Deno.umask(old);
    }
  });
});

Deno.test("an existing file is replaced whole, and its old mode does not survive", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/state.json`, "a much longer old content\n", { mode: 0o666 });
    await Deno.chmod(`${dir}/state.json`, 0o666);
    await writeAtomic(`${dir}/state.json`, "{}\n");
    assertEquals(await Deno.readTextFile(`${dir}/state.json`), "{}\n");
    assertEquals((await Deno.stat(`${dir}/state.json`)).mode! & 0o777, 0o600);
    assertEquals(await names(dir), ["state.json"], "no temporary file is left");
  });
});

Deno.test("a link at the path is replaced, never written through", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/victim`, "keep me");
    await Deno.symlink(`${dir}/victim`, `${dir}/state.json`);
    await writeAtomic(`${dir}/state.json`, "new");
    assertEquals(await Deno.readTextFile(`${dir}/victim`), "keep me");
    assert((await Deno.lstat(`${dir}/state.json`)).isFile);
  });
});

Deno.test("a write that fails throws and leaves no temporary file, and the old content stays", async () => {
  await withDir(async (dir) => {
    // A directory in the way: the rename fails after the temporary file was written.
    await Deno.mkdir(`${dir}/taken`);
    await Deno.writeTextFile(`${dir}/taken/inside`, "x");
    await assertRejects(() => writeAtomic(`${dir}/taken`, "data"));
    assertEquals(await names(dir), ["taken"]);
    assertEquals(await names(`${dir}/taken`), ["inside"]);
    // A directory that does not exist: nothing is created.
    await assertRejects(() => writeAtomic(`${dir}/none/file`, "data"), Deno.errors.NotFound);
    assertEquals(await names(dir), ["taken"]);
  });
});
