import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { StapfrError } from "../errors.ts";
import { checkRecorderDir, checkStoreDir, openNoFollow } from "./store_trust.ts";

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o7777;
}

Deno.test("checkStoreDir: a missing store is empty until created, then 0700 with its missing parents; a file is refused", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = `${root}/a/b/store`;
    assertEquals(await checkStoreDir(store, false), false);
    assertEquals([...Deno.readDirSync(root)], [], "a read created something");
    assertEquals(await checkStoreDir(store, true), true);
    assertEquals([mode(`${root}/a`), mode(`${root}/a/b`), mode(store)], [0o700, 0o700, 0o700]);
    Deno.writeTextFileSync(`${root}/file`, "");
    const err = await assertRejects(() => checkStoreDir(`${root}/file`, true), StapfrError);
    assertMatch(err.message, /is not a directory/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkStoreDir: a directory on the way that others may write without the sticky bit is refused, and kept as it was", async () => {
  const root = await Deno.makeTempDir();
  try {
    Deno.mkdirSync(`${root}/open/store`, { recursive: true });
    Deno.chmodSync(`${root}/open`, 0o777);
    const err = await assertRejects(() => checkStoreDir(`${root}/open/store`, true), StapfrError);
    assertMatch(err.message, new RegExp(`"${root}/open" is writable by others \\(mode 0777\\)`));
    assertEquals(mode(`${root}/open`), 0o777);
    // Sticky, as /tmp: nobody may rename what is not theirs.
    Deno.chmodSync(`${root}/open`, 0o1777);
    assertEquals(await checkStoreDir(`${root}/open/store`, true), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "checkStoreDir: group-writable is refused for another group, accepted for the user's own (as root)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const root = await Deno.makeTempDir();
    try {
      Deno.mkdirSync(`${root}/shared/store`, { recursive: true });
      Deno.chmodSync(`${root}/shared`, 0o775);
      assertEquals(await checkStoreDir(`${root}/shared/store`, false), true, "gid 0 is root's own group");
      Deno.chownSync(`${root}/shared`, 0, 65534);
      const err = await assertRejects(() => checkStoreDir(`${root}/shared/store`, false), StapfrError);
      assertMatch(err.message, /writable by its group \(gid 65534, mode 0775\)/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("checkRecorderDir: a new one is made 0700 whatever its parent; an existing one is never re-moded", async () => {
  const root = await Deno.makeTempDir();
  try {
    assertEquals(await checkRecorderDir(`${root}/r1`, false), "missing");
    assertEquals(await checkRecorderDir(`${root}/r1`, true), undefined);
    assertEquals(mode(`${root}/r1`), 0o700);
    Deno.mkdirSync(`${root}/r2`);
    Deno.chmodSync(`${root}/r2`, 0o750);
    assertMatch((await checkRecorderDir(`${root}/r2`, true))!, /mode 0750/);
    assertEquals(mode(`${root}/r2`), 0o750);
    Deno.symlinkSync(`${root}/r1`, `${root}/r3`);
    assertMatch((await checkRecorderDir(`${root}/r3`, true))!, /symbolic link/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openNoFollow: a link is refused, a regular file opened", async () => {
  const root = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${root}/f`, "x");
    Deno.symlinkSync(`${root}/f`, `${root}/l`);
    (await openNoFollow(`${root}/f`)).close();
    const err = await assertRejects(() => openNoFollow(`${root}/l`));
    assertMatch(err.message, /symbolic link, not followed/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
