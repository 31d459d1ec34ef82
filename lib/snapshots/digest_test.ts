import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { countNewlines, Digest, digestFile, HashCache } from "./digest.ts";
import { encodeRecord } from "../../sim/kernel/transport.ts";
import { joinBytes } from "../bytes.ts";

const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

const record = (seq: number, payload: string): Uint8Array =>
  encodeRecord(seq, new TextEncoder().encode(payload));

const concat = joinBytes;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a digest fed in chunks is the digest of the whole: SHA-256, bytes and newlines", () => {
  const d = new Digest();
  for (const part of ["a", "", "bc"]) d.update(new TextEncoder().encode(part));
  assertEquals([d.hex(), d.bytes, d.lines], [SHA256_ABC, 3, 0]);
  assertEquals(countNewlines(new TextEncoder().encode("\n\nx\n")), 3);
  assertEquals(countNewlines(new Uint8Array(0)), 0);
});

Deno.test("a bulk file's lines are its payloads' newlines, never newline bytes of a record header", async () => {
  await withDir(async (dir) => {
    // Sequence 10 and length 10 each put a 0x0a byte in the header.
    const data = concat([record(10, "one\ntwo\nx\n"), record(11, "three\n"), record(12, "no newline")]);
    await Deno.writeFile(`${dir}/f_cpu0.0`, data);
    const bulk = await digestFile(`${dir}/f_cpu0.0`, true);
    assertEquals(bulk.lines, 4);
    assertEquals(bulk.seq, { first: 10, last: 12, records: 3 });
    assertEquals(bulk.bytes, data.length);
    const text = await digestFile(`${dir}/f_cpu0.0`, false);
    assertEquals(text.sha256, bulk.sha256);
    assertEquals(text.lines, countNewlines(data));
    assert(text.lines > bulk.lines);
    assertEquals(text.seq, undefined);
  });
});

Deno.test("an empty bulk file has no sequence numbers", async () => {
  await withDir(async (dir) => {
    await Deno.writeFile(`${dir}/f`, new Uint8Array(0));
    const d = await digestFile(`${dir}/f`, true);
    assertEquals([d.bytes, d.lines, d.seq], [0, 0, undefined]);
  });
});

Deno.test("the hash cache serves a file it hashed while inode, size and time are unchanged, and re-hashes after", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/f.0`;
    await Deno.writeTextFile(file, "abc");
    const first = await (await HashCache.open(dir)).digest(file, false);
    assertEquals(first.sha256, SHA256_ABC);
    const cache = await HashCache.open(dir);
    await cache.save();
    // Same size, same modification time, other bytes: the cache cannot tell, and answers from memory (the
    // rotated files it is for never change).
    const mtime = (await Deno.stat(file)).mtime!;
    await Deno.writeTextFile(file, "xyz");
    await Deno.utime(file, mtime, mtime);
    const reopened = await HashCache.open(dir);
    // The first cache was never saved: nothing was remembered.
    assertNotEquals((await reopened.digest(file, false)).sha256, SHA256_ABC);

    await Deno.writeTextFile(file, "abc");
    await Deno.utime(file, mtime, mtime);
    const hashing = await HashCache.open(dir);
    assertEquals((await hashing.digest(file, false)).sha256, SHA256_ABC);
    await hashing.save();
    await Deno.writeTextFile(file, "xyz");
    await Deno.utime(file, mtime, mtime);
    assertEquals(
      (await (await HashCache.open(dir)).digest(file, false)).sha256,
      SHA256_ABC,
      "from the cache",
    );
    // A new modification time (or size) is another file as far as the cache knows.
    await Deno.utime(file, mtime, new Date(mtime.getTime() + 1000));
    assertNotEquals((await (await HashCache.open(dir)).digest(file, false)).sha256, SHA256_ABC);
    await Deno.writeTextFile(file, "abcd");
    await Deno.utime(file, mtime, mtime);
    assertEquals((await (await HashCache.open(dir)).digest(file, false)).bytes, 4);
  });
});

Deno.test("the hash cache keeps text and bulk digests of one file apart, and forgets files no longer used", async () => {
  await withDir(async (dir) => {
    const data = concat([record(10, "a\n")]);
    await Deno.writeFile(`${dir}/a`, data);
    await Deno.writeTextFile(`${dir}/b`, "b\n");
    const cache = await HashCache.open(dir);
    await cache.digest(`${dir}/a`, true);
    await cache.digest(`${dir}/b`, false);
    await cache.save();
    const again = await HashCache.open(dir);
    assertEquals(
      (await again.digest(`${dir}/a`, false)).lines,
      countNewlines(data),
      "text, not the bulk entry",
    );
    await again.save();
    const kept = JSON.parse(await Deno.readTextFile(`${dir}/.hashes.json`));
    assertEquals(Object.keys(kept).length, 1, "only the entry used since it was opened");
    assert(Object.keys(kept)[0].endsWith(":t"));
  });
});

Deno.test("a hash cache file that is damaged, or a link, is not used (and a link is never written through)", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/f`, "abc");
    await Deno.writeTextFile(`${dir}/.hashes.json`, "{not json");
    assertEquals((await (await HashCache.open(dir)).digest(`${dir}/f`, false)).sha256, SHA256_ABC);

    // A cache planted elsewhere and linked in, which claims another hash for this very file.
    const st = await Deno.stat(`${dir}/f`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtime?.getTime()}:t`;
    await Deno.writeTextFile(
      `${dir}/planted.json`,
      JSON.stringify({ [key]: { sha256: "forged", lines: 9 } }),
    );
    await Deno.remove(`${dir}/.hashes.json`);
    await Deno.symlink(`${dir}/planted.json`, `${dir}/.hashes.json`);
    const cache = await HashCache.open(dir);
    assertEquals((await cache.digest(`${dir}/f`, false)).sha256, SHA256_ABC);
    await cache.save();
    assert(!(await Deno.lstat(`${dir}/.hashes.json`)).isSymlink, "the link was replaced, not followed");
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/planted.json`))[key].sha256, "forged");
  });
});
