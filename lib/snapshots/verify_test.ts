import { assert, assertEquals, assertRejects } from "@std/assert";
import { putSnapshot, withStore } from "../../tests/support/snapshot_store.ts";
import { DamagedSnapshot, fullCheck, quickCheck, serveChecked } from "./verify.ts";
import { encodeRecord } from "../../sim/kernel/transport.ts";
import { joinBytes } from "../bytes.ts";

const record = (seq: number, payload: string): Uint8Array =>
  encodeRecord(seq, new TextEncoder().encode(payload));

const concat = (...parts: Uint8Array[]): Uint8Array => joinBytes(parts);

/** A sink that keeps what it is given, as text. */
function collector() {
  const chunks: Uint8Array[] = [];
  return {
    sink: (c: Uint8Array) => Promise.resolve(void chunks.push(c.slice())),
    text: () => new TextDecoder().decode(concat(...chunks)),
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
  };
}

/** Flips one byte in place: the size stays, the hash does not. */
async function flip(path: string, at: number): Promise<void> {
  const data = await Deno.readFile(path);
  data[at] ^= 0x20;
  await Deno.writeFile(path, data);
}

Deno.test("an intact snapshot passes both checks; its rotated files are served oldest to newest", async () => {
  await withStore(async (store) => {
    // Listed out of order on purpose: the manifest's order is not the run's.
    const s = await putSnapshot(store, "web", {
      "web.out.10": "ten\n",
      "web.out.2": "two\n",
      "web.out.9": "nine\n",
    });
    assertEquals(await quickCheck(s), null);
    assertEquals(await fullCheck(s), []);
    const out = collector();
    assertEquals(await serveChecked(s, out.sink), 13);
    assertEquals(out.text(), "two\nnine\nten\n");
  });
});

Deno.test("the quick check sees a file missing, replaced by a link or a directory, or of another size", async () => {
  await withStore(async (store, root) => {
    const s = await putSnapshot(store, "web", { "web.out.0": "a\n", "web.out.1": "b\n" });
    const f = `${s.path}/web.out.1`;
    await Deno.remove(f);
    assertEquals(await quickCheck(s), 'data file "web.out.1" is missing');
    await Deno.writeTextFile(`${root}/elsewhere`, "b\n");
    await Deno.symlink(`${root}/elsewhere`, f);
    assertEquals(await quickCheck(s), 'data file "web.out.1" is a symbolic link, not followed');
    assertEquals(await fullCheck(s), ['data file "web.out.1" is a symbolic link, not followed']);
    await Deno.remove(f);
    await Deno.mkdir(f);
    assertEquals(await quickCheck(s), 'data file "web.out.1" is not a regular file');
    await Deno.remove(f);
    await Deno.writeTextFile(f, "bb\n");
    assertEquals(await quickCheck(s), 'data file "web.out.1" has 3 bytes, its manifest says 2');
  });
});

Deno.test("a flipped byte passes the quick check and fails the full one, each damaged file named", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", {
      "web.out.0": "alpha\n",
      "web.out.1": "beta\n",
      "web.out.2": "c\n",
    });
    await flip(`${s.path}/web.out.0`, 2);
    await flip(`${s.path}/web.out.2`, 0);
    assertEquals(await quickCheck(s), null);
    assertEquals(await fullCheck(s), [
      `data file "web.out.0" does not match its manifest's SHA-256`,
      `data file "web.out.2" does not match its manifest's SHA-256`,
    ]);
  });
});

Deno.test("serving stops before the first byte when a file is missing or of another size", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", { "web.out.0": "a\n", "web.out.1": "b\n" });
    await Deno.writeTextFile(`${s.path}/web.out.1`, "longer\n");
    const out = collector();
    const err = await assertRejects(() => serveChecked(s, out.sink), DamagedSnapshot);
    assertEquals((err as DamagedSnapshot).served, 0);
    assertEquals(out.bytes(), 0);
    assert((err as DamagedSnapshot).hint!.startsWith("Nothing was written"));
  });
});

Deno.test("a flipped byte found while serving says how much went out unverified, exactly what the sink got", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", {
      "web.out.0": "first\n",
      "web.out.1": "second\n",
      "web.out.2": "x\n",
    });
    await flip(`${s.path}/web.out.1`, 0);
    const out = collector();
    const err = await assertRejects(() => serveChecked(s, out.sink), DamagedSnapshot) as DamagedSnapshot;
    assertEquals(err.problem, `data file "web.out.1" does not match its manifest's SHA-256`);
    assertEquals(err.served, out.bytes());
    assertEquals(out.text(), "first\nSecond\n", "the damaged file went out, the next did not");
    assert(err.hint!.includes(`The ${out.bytes()} bytes already written are unverified`), err.hint);
  });
});

Deno.test("bulk per-CPU files are merged by sequence number, and only once every one of them matches", async () => {
  await withStore(async (store) => {
    const cpu0 = concat(record(1, "a\n"), record(3, "c\n"));
    const cpu1 = concat(record(2, "b\n"), record(4, "d\n"));
    const s = await putSnapshot(store, "web", { "web.out_cpu0.0": cpu0, "web.out_cpu1.0": cpu1 });
    const out = collector();
    await serveChecked(s, out.sink);
    assertEquals(out.text(), "a\nb\nc\nd\n");

    await flip(`${s.path}/web.out_cpu1.0`, 9);
    const none = collector();
    const err = await assertRejects(() => serveChecked(s, none.sink), DamagedSnapshot) as DamagedSnapshot;
    assertEquals([err.served, none.bytes()], [0, 0]);
  });
});

Deno.test("a manifest naming a file that is not a data file of the recorder serves nothing", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", { "web.out": "a\n", "notes.txt": "n\n" });
    const out = collector();
    const err = await assertRejects(() => serveChecked(s, out.sink), DamagedSnapshot);
    assertEquals((err as DamagedSnapshot).problem, 'its manifest names "notes.txt", not a data file');
    assertEquals(out.bytes(), 0);
  });
});

Deno.test("the sink's own failure comes out as it is, not as damage or a store error", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", { "web.out": "a\n" });
    const broken = new Error("EPIPE on the output");
    const err = await assertRejects(() => serveChecked(s, () => Promise.reject(broken)));
    assertEquals(err, broken);
  });
});
