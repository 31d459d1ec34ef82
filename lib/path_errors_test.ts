import { assertEquals, assertRejects } from "@std/assert";
import { StapfrError } from "./errors.ts";
import { ensureOutputDirectory, osReason, whyNotDirectory } from "./path_errors.ts";

Deno.test("osReason drops Deno's errno and syscall", () => {
  assertEquals(osReason(new Error("Permission denied (os error 13): open '/x'")), "Permission denied");
});

Deno.test("whyNotDirectory names the missing directory, or the file in the way", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/f`, "");
    assertEquals(await whyNotDirectory(root), undefined);
    assertEquals(await whyNotDirectory(`${root}/no/such`), `directory "${root}/no/such" does not exist`);
    assertEquals(await whyNotDirectory(`${root}/f`), `"${root}/f" is not a directory`);
    assertEquals(await whyNotDirectory(`${root}/f/a/b`), `"${root}/f" is not a directory`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureOutputDirectory creates the directory (0700) but never a missing parent", async () => {
  const root = await Deno.makeTempDir();
  try {
    await ensureOutputDirectory(`${root}/out`);
    assertEquals((await Deno.stat(`${root}/out`)).mode! & 0o777, 0o700);
    await ensureOutputDirectory(`${root}/out`);
    const err = await assertRejects(() => ensureOutputDirectory(`${root}/a/b`), StapfrError);
    assertEquals(err.message, `Cannot write into "${root}/a/b": directory "${root}/a" does not exist`);
    assertEquals((err as StapfrError).hint, "Create it first, or choose another path");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
