import { assert, assertEquals, assertRejects } from "@std/assert";
import { putSnapshot, withStore } from "../../tests/support/snapshot_store.ts";
import { SimEngine } from "../../tests/support/sim_engine.ts";
import { listSnapshots, pruneSnapshots, snapshotData, takeSnapshot, verifySnapshots } from "./ops.ts";
import { freshState, isUnshipped, shipRecordPath, updateShipRecord } from "./ship_record.ts";
import type { SnapshotStore, StoredSnapshot } from "./store.ts";
import { DamagedSnapshot } from "./verify.ts";

const T0 = Date.UTC(2026, 11, 1, 5, 0, 0);
const MIN = 60_000;

/** Snapshots of `recorder`, one a minute from T0, `bytes` each. */
async function series(
  store: SnapshotStore,
  recorder: string,
  count: number,
  bytes = 10,
): Promise<StoredSnapshot[]> {
  const out: StoredSnapshot[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await putSnapshot(store, recorder, { [`${recorder}.out`]: "x".repeat(bytes - 1) + "\n" }, {
        at: T0 + i * MIN,
      }),
    );
  }
  return out;
}

function ids(list: { id: string }[]): string[] {
  return list.map((s) => s.id);
}

async function left(store: SnapshotStore): Promise<string[]> {
  return (await store.list()).snapshots.map((s) => `${s.manifest.recorder}/${s.manifest.id}`);
}

async function markPending(store: SnapshotStore, s: StoredSnapshot): Promise<void> {
  await updateShipRecord(store.dir, s.manifest.recorder, s.manifest.id, (r) => {
    r.destinations["s3://bucket/fleet"] = freshState(undefined);
  });
}

async function activeLeases(store: SnapshotStore, recorder: string): Promise<string[]> {
  return await Array.fromAsync(Deno.readDir(`${store.dir}/${recorder}/.leases`))
    .then((l) => l.map((e) => e.name), () => []);
}

Deno.test("prune holds each bound per recorder, oldest first; a dry run says the same and removes nothing", async () => {
  await withStore(async (store) => {
    const web = await series(store, "web", 3);
    const db = await series(store, "db", 2);
    const dry = await pruneSnapshots(store, { keep: 1 }, { dryRun: true });
    assertEquals(dry.dry_run, true);
    assertEquals(ids(dry.removed).sort(), [db[0], web[0], web[1]].map((s) => s.manifest.id).sort());
    assertEquals((await left(store)).length, 5);
    const done = await pruneSnapshots(store, { keep: 1 });
    assertEquals(ids(done.removed).sort(), ids(dry.removed).sort());
    assertEquals(await left(store), [`db/${db[1].manifest.id}`, `web/${web[2].manifest.id}`]);
    // Of one recorder only.
    await series(store, "web", 1);
    assertEquals((await pruneSnapshots(store, { keep: 1 }, { name: "db" })).removed, []);
  });
});

Deno.test("prune by age counts from now; a snapshot exactly that old stays", async () => {
  await withStore(async (store) => {
    const s = await series(store, "web", 3);
    const now = T0 + 2 * MIN;
    assertEquals(ids((await pruneSnapshots(store, { maxAgeMs: MIN }, { now, dryRun: true })).removed), [
      s[0].manifest.id,
    ]);
  });
});

Deno.test("a snapshot being read is left for a later prune and reported; it goes once the reader is done", async () => {
  await withStore(async (store) => {
    const s = await series(store, "web", 3);
    const release = await store.lease(s[0]);
    const r = await pruneSnapshots(store, { keep: 1 });
    assertEquals(ids(r.kept_in_use), [s[0].manifest.id]);
    assertEquals(ids(r.removed), [s[1].manifest.id]);
    await release();
    assertEquals(ids((await pruneSnapshots(store, { keep: 1 })).removed), [s[0].manifest.id]);
  });
});

Deno.test("a snapshot not shipped yet is kept by count and age and said; the size bound takes it, said, record and all", async () => {
  await withStore(async (store) => {
    const s = await series(store, "web", 3);
    await markPending(store, s[0]);
    const byCount = await pruneSnapshots(store, { keep: 1, maxAgeMs: 1 }, { now: T0 + 10 * MIN });
    assertEquals(ids(byCount.kept_unshipped), [s[0].manifest.id]);
    assertEquals(byCount.kept_unshipped[0].shipping, "pending");
    assertEquals(ids(byCount.removed), [s[1].manifest.id, s[2].manifest.id]);
    assertEquals(await left(store), [`web/${s[0].manifest.id}`]);

    const bySize = await pruneSnapshots(store, { maxSize: 5 });
    assertEquals(ids(bySize.removed), [s[0].manifest.id]);
    assertEquals(bySize.removed[0].shipping, "pending");
    assertEquals(await left(store), []);
    assertEquals(
      await Deno.stat(shipRecordPath(store.dir, "web", s[0].manifest.id)).catch(() => "gone"),
      "gone",
    );
  });
});

Deno.test("the snapshot named as spare is never removed, even when it alone breaks the bound", async () => {
  await withStore(async (store) => {
    const s = await series(store, "web", 3);
    const spare = s[2].manifest.id;
    const r = await pruneSnapshots(store, { maxSize: 1 }, { name: "web", spare });
    assertEquals(ids(r.removed), [s[0].manifest.id, s[1].manifest.id]);
    assertEquals(await left(store), [`web/${spare}`]);
  });
});

Deno.test("what prune cannot read is reported and never removed", async () => {
  await withStore(async (store) => {
    await series(store, "web", 2);
    const odd = `${store.dir}/web/20000101T000000Z-001`;
    await Deno.mkdir(odd);
    await Deno.writeTextFile(`${odd}/manifest.json`, "{");
    const r = await pruneSnapshots(store, { keep: 1 });
    assertEquals(r.removed.length, 1);
    assertEquals(r.broken.map((b) => b.path), [odd]);
    assert((await Deno.stat(odd)).isDirectory);
  });
});

Deno.test("two prunes at once both succeed, and each snapshot removed is reported by one of them only", async () => {
  await withStore(async (store) => {
    const s = await series(store, "web", 8);
    const [a, b] = await Promise.all([
      pruneSnapshots(store, { keep: 2 }),
      pruneSnapshots(store, { keep: 2 }),
    ]);
    const all = [...ids(a.removed), ...ids(b.removed)].sort();
    assertEquals(all, s.slice(0, 6).map((x) => x.manifest.id));
    assertEquals(await left(store), s.slice(6).map((x) => `web/${x.manifest.id}`));
  });
});

Deno.test("verify hashes what is asked, or the whole store with what it could not read; no lease is left behind", async () => {
  await withStore(async (store) => {
    const [good, bad] = await series(store, "web", 2);
    const data = await Deno.readFile(`${bad.path}/web.out`);
    data[0] ^= 1;
    await Deno.writeFile(`${bad.path}/web.out`, data);
    assertEquals((await listSnapshots(store)).snapshots.map((s) => s.damaged), [null, null], "sizes match");

    const one = await verifySnapshots(store, [`web/${good.manifest.id}`]);
    assertEquals([one.ok, one.snapshots.map((s) => s.ok)], [true, [true]]);
    const both = await verifySnapshots(store, [bad.manifest.id, good.manifest.id]);
    assertEquals(both.snapshots.map((s) => [s.id, s.ok]), [[bad.manifest.id, false], [
      good.manifest.id,
      true,
    ]]);
    assertEquals(both.ok, false);

    await Deno.writeTextFile(`${bad.path}/web.out`, "short");
    assertEquals(
      (await listSnapshots(store)).snapshots[1].damaged,
      'data file "web.out" has 5 bytes, its manifest says 10',
    );
    await Deno.remove(`${bad.path}/web.out`);
    await Deno.writeFile(`${bad.path}/web.out`, await Deno.readFile(`${good.path}/web.out`));
    await Deno.mkdir(`${store.dir}/web/20000101T000000Z-001`);
    const whole = await verifySnapshots(store, []);
    assertEquals(whole.snapshots.map((s) => s.ok), [true, true]);
    assertEquals(whole.broken.length, 1);
    assertEquals(whole.ok, false, "something the store holds could not be read");
    assertEquals(await activeLeases(store, "web"), []);

    const cancelled = new AbortController();
    cancelled.abort();
    await assertRejects(() => verifySnapshots(store, [], cancelled.signal));
    assertEquals(await activeLeases(store, "web"), []);
  });
});

Deno.test("serving a snapshot's data holds a lease while it runs, and lets go after, also after damage", async () => {
  await withStore(async (store) => {
    const [s] = await series(store, "web", 1);
    let leasedMeanwhile = false;
    const r = await snapshotData(store, s.manifest.id, async () => {
      leasedMeanwhile = await store.leased(s);
    });
    assertEquals([leasedMeanwhile, r.bytes], [true, 10]);
    assertEquals(await store.leased(s), false);
    await Deno.writeTextFile(`${s.path}/web.out`, "012345678\n"); // same size, other bytes
    await assertRejects(() => snapshotData(store, s.manifest.id, () => Promise.resolve()), DamagedSnapshot);
    assertEquals(await store.leased(s), false);
  });
});

Deno.test("retention after a snapshot never takes that snapshot, nor an unshipped one except by the size bound", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web", {
      output: `${sim.root}/out`,
      snapshotRetention: { keep: 1 },
    });
    const { engine, store } = sim;
    const first = await takeSnapshot(engine, store, "web");
    assertEquals(first.pruned, []);
    // The recorder's own bound (keep 1) takes the one before.
    const second = await takeSnapshot(engine, store, "web");
    assertEquals(ids(second.pruned), [first.snapshot.manifest.id]);
    // The watcher's bound on top: a size no snapshot fits in still keeps the new one.
    const third = await takeSnapshot(engine, store, "web", { retention: { maxSize: 1 } });
    assertEquals(ids(third.pruned), [second.snapshot.manifest.id]);
    assertEquals(await left(store), [`web/${third.snapshot.manifest.id}`]);

    // Marked for shipping before retention looks (as the shipper does): kept by the count bound.
    await markPending(store, third.snapshot);
    const fourth = await takeSnapshot(engine, store, "web", {
      beforeRetention: (s) => markPending(store, s),
    });
    assertEquals(fourth.pruned, []);
    assertEquals((await left(store)).length, 2);
    assert(await isUnshipped(store.dir, "web", fourth.snapshot.manifest.id));
    // The size bound takes the unshipped one before it, and says it was pending.
    const fifth = await takeSnapshot(engine, store, "web", { retention: { maxSize: 1 } });
    assertEquals(fifth.pruned.map((p) => [p.id, p.shipping]), [
      [third.snapshot.manifest.id, "pending"],
      [fourth.snapshot.manifest.id, "pending"],
    ]);
    assertEquals(await left(store), [`web/${fifth.snapshot.manifest.id}`]);
  });
});
