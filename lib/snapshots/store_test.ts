import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { StapfrError, UsageError } from "../errors.ts";
import { processStartTime } from "../driver/kernel.ts";
import { DEAD_PID, putSnapshot, withStore } from "../../tests/support/snapshot_store.ts";
import { SnapshotStore } from "./store.ts";

const AT = Date.UTC(2026, 11, 1, 5, 12, 0, 400);

function mode(path: string): number {
  return Deno.statSync(path).mode! & 0o7777;
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("a snapshot being written is not listed; committed, it appears whole, 0700 and 0600, its owner file gone", async () => {
  await withStore(async (store) => {
    const partial = await store.begin("web", AT);
    assertEquals(partial.id, "20261201T051200Z-001");
    assertEquals(partial.dir, `${store.dir}/web/.partial-20261201T051200Z-001`);
    const owner = JSON.parse(await Deno.readTextFile(`${partial.dir}/.owner`));
    assertEquals(owner, { pid: Deno.pid, start: (await processStartTime(Deno.pid)) ?? null });
    await Deno.writeTextFile(`${partial.dir}/web.out`, "x\n", { mode: 0o600 });
    assertEquals((await store.list()).snapshots, [], "half a snapshot is never listed");

    const done = await putSnapshot(store, "web", { "web.out": "y\n" }, { at: AT });
    assertEquals(done.manifest.id, "20261201T051200Z-002", "the ID reserved by the first is not taken twice");
    const { id: _, ...fields } = done.manifest;
    const { id, path } = await partial.commit(fields);
    assertEquals([id, path], ["20261201T051200Z-001", `${store.dir}/web/20261201T051200Z-001`]);
    assertEquals(await names(path), ["manifest.json", "web.out"]);
    assertEquals([mode(store.dir), mode(`${store.dir}/web`), mode(path)], [0o700, 0o700, 0o700]);
    assertEquals(mode(`${path}/manifest.json`), 0o600);
    assertEquals((await store.list()).snapshots.map((s) => s.manifest.id), [
      "20261201T051200Z-001",
      "20261201T051200Z-002",
    ]);
  });
});

Deno.test("a commit whose ID another writer committed meanwhile takes the next free one, manifest and all", async () => {
  await withStore(async (store) => {
    const mine = await store.begin("web", AT);
    await Deno.writeTextFile(`${mine.dir}/web.out`, "mine\n");
    // Another stapfr got the same ID past its check and committed it first.
    const theirs = `${store.dir}/web/${mine.id}`;
    await Deno.mkdir(theirs);
    await Deno.writeTextFile(`${theirs}/manifest.json`, "theirs");
    const template = await putSnapshot(new SnapshotStore(`${store.dir}-other`), "web", {
      "web.out": "mine\n",
    });
    const { id, path } = await mine.commit(template.manifest);
    assertEquals(id, "20261201T051200Z-002");
    assertEquals(JSON.parse(await Deno.readTextFile(`${path}/manifest.json`)).id, id);
    assertEquals(await Deno.readTextFile(`${theirs}/manifest.json`), "theirs", "theirs untouched");
    assertEquals((await names(`${store.dir}/web`)).filter((n) => n.startsWith(".partial-")), []);
  });
});

Deno.test("an abandoned capture leaves nothing; a store that does not exist is empty and not created by reading", async () => {
  await withStore(async (store, root) => {
    assertEquals(await store.list(), { snapshots: [], broken: [] });
    assertEquals(await store.list("web"), { snapshots: [], broken: [] });
    assertEquals(await names(root), []);
    const partial = await store.begin("web");
    await partial.abandon();
    assertEquals(await names(`${store.dir}/web`), []);
  });
});

Deno.test("the store's own directory keeps its mode; only the recorder's directory is stapfr's", async () => {
  await withStore(async (store) => {
    await Deno.mkdir(store.dir, { mode: 0o755 });
    await Deno.chmod(store.dir, 0o755);
    await putSnapshot(store, "web", { "web.out": "x\n" });
    assertEquals([mode(store.dir), mode(`${store.dir}/web`)], [0o755, 0o700]);
  });
});

Deno.test("a recorder directory that is a link, or that others could read, is refused for writing and not read", async () => {
  await withStore(async (store, root) => {
    await putSnapshot(store, "web", { "web.out": "x\n" });
    await Deno.mkdir(`${root}/elsewhere`, { mode: 0o700 });
    await Deno.symlink(`${root}/elsewhere`, `${store.dir}/db`);
    const err = await assertRejects(() => store.begin("db"), StapfrError);
    assertEquals((err as StapfrError).code, "unsafe_path");
    assertMatch(err.message, /symbolic link/);
    assertEquals(await names(`${root}/elsewhere`), [], "nothing written through the link");

    // One that others may read, holding a snapshot: reported, never read, never re-moded.
    await putSnapshot(store, "io", { "io.out": "x\n" });
    await Deno.chmod(`${store.dir}/io`, 0o755);
    await assertRejects(() => store.begin("io"), StapfrError, "mode 0755");
    const { snapshots, broken } = await store.list();
    assertEquals(snapshots.map((s) => s.manifest.recorder), ["web"]);
    assertEquals(broken.map((b) => b.path).sort(), [`${store.dir}/db`, `${store.dir}/io`]);
    assertEquals(mode(`${store.dir}/io`), 0o755);
    assertEquals((await store.list("io")).broken.map((b) => b.path), [`${store.dir}/io`]);
    // Someone's own directory in a shared store that holds no snapshots is passed over in silence.
    await Deno.mkdir(`${store.dir}/notes`, { mode: 0o755 });
    await Deno.chmod(`${store.dir}/notes`, 0o755);
    assertEquals((await store.list()).broken.length, 2);
  });
});

Deno.test("damaged snapshot directories are reported, not listed, and nothing in them is followed", async () => {
  await withStore(async (store, root) => {
    const good = await putSnapshot(store, "web", { "web.out": "x\n" }, { at: AT });
    const rdir = `${store.dir}/web`;
    await Deno.mkdir(`${rdir}/20261201T051201Z-001`); // no manifest
    await Deno.writeTextFile(`${rdir}/20261201T051202Z-001`, "a file"); // not a directory
    await Deno.mkdir(`${rdir}/20261201T051203Z-001`);
    await Deno.writeTextFile(`${rdir}/20261201T051203Z-001/manifest.json`, "{"); // not JSON
    // A copy of a good snapshot under another ID: its manifest names another.
    await Deno.mkdir(`${rdir}/20261201T051204Z-001`);
    await Deno.copyFile(`${good.path}/manifest.json`, `${rdir}/20261201T051204Z-001/manifest.json`);
    // A manifest that is a link to a good one elsewhere.
    await Deno.mkdir(`${rdir}/20261201T051205Z-001`);
    await Deno.copyFile(`${good.path}/manifest.json`, `${root}/planted.json`);
    await Deno.symlink(`${root}/planted.json`, `${rdir}/20261201T051205Z-001/manifest.json`);
    // A snapshot directory that is a link to a good snapshot.
    await Deno.symlink(good.path, `${rdir}/20261201T051206Z-001`);
    // What is not named like a snapshot is not the listing's business.
    await Deno.mkdir(`${rdir}/.partial-20261201T051207Z-001`);
    await Deno.mkdir(`${rdir}/.deleting-20261201T051208Z-001-1`);

    const { snapshots, broken } = await store.list();
    assertEquals(snapshots.map((s) => s.manifest.id), [good.manifest.id]);
    const why = Object.fromEntries(broken.map((b) => [b.path.slice(rdir.length + 1), b.reason]));
    assertEquals(Object.keys(why).sort(), [1, 2, 3, 4, 5, 6].map((n) => `20261201T05120${n}Z-001`));
    assertEquals(why["20261201T051201Z-001"], "it has no manifest.json");
    assertEquals(why["20261201T051202Z-001"], "not a directory");
    assertMatch(why["20261201T051203Z-001"], /not valid JSON/);
    assertMatch(why["20261201T051204Z-001"], /manifest names "web\/20261201T051200Z-001"/);
    assertMatch(why["20261201T051205Z-001"], /its manifest.json is a symbolic link/);
    assertMatch(why["20261201T051206Z-001"], /symbolic link/);

    // find says why it cannot read one, rather than "no snapshot".
    const err = await assertRejects(() => store.find("20261201T051203Z-001"), StapfrError);
    assertEquals((err as StapfrError).code, "damaged");
    const none = await assertRejects(() => store.find("web/20261201T000000Z-001"), StapfrError);
    assertEquals((none as StapfrError).code, "not_found");
  });
});

Deno.test("find takes ID or NAME/ID; an ID two recorders have must be given with its name", async () => {
  await withStore(async (store) => {
    const web = await putSnapshot(store, "web", { "web.out": "w\n" }, { at: AT });
    const db = await putSnapshot(store, "db", { "db.out": "d\n" }, { at: AT });
    const only = await putSnapshot(store, "db", { "db.out": "d\n" }, { at: AT + 1000 });
    assertEquals((await store.find(only.manifest.id)).path, only.path);
    assertEquals((await store.find(`web/${web.manifest.id}`)).path, web.path);
    assertEquals((await store.find(`db/${db.manifest.id}`)).path, db.path);
    const err = await assertRejects(() => store.find(web.manifest.id), StapfrError, "ambiguous");
    assertEquals((err as StapfrError).code, "invalid_option");
    await assertRejects(() => store.find(`web/${web.manifest.id}/../../db`), UsageError);
    await assertRejects(() => store.find(`io/${web.manifest.id}`), StapfrError, "No snapshot");
  });
});

Deno.test("a lease keeps a snapshot marked as being read until released; a dead or reused holder's lease is void", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", { "web.out": "x\n" });
    assertEquals(await store.leased(s), false);
    const release = await store.lease(s);
    assertEquals(await store.leased(s), true);
    assertEquals(mode(`${store.dir}/web/.leases`), 0o700);
    await release();
    assertEquals(await store.leased(s), false);

    const leases = `${store.dir}/web/.leases`;
    const start = await processStartTime(Deno.pid);
    // A reader that was killed, and one whose pid this very process has now (another start time).
    await Deno.writeTextFile(
      `${leases}/${s.manifest.id}.${DEAD_PID}`,
      JSON.stringify({ pid: DEAD_PID, start: 1 }),
    );
    await Deno.writeTextFile(
      `${leases}/${s.manifest.id}.1`,
      JSON.stringify({ pid: Deno.pid, start: start! + 1 }),
    );
    await Deno.writeTextFile(`${leases}/${s.manifest.id}.2`, "{damaged");
    assertEquals(await store.leased(s), false);
    assertEquals(await names(leases), [], "void leases are cleared");
    // Another snapshot's lease is not this one's.
    await Deno.writeTextFile(`${leases}/20000101T000000Z-001.9`, JSON.stringify({ pid: Deno.pid, start }));
    assertEquals(await store.leased(s), false);
  });
});

Deno.test("remove makes a snapshot disappear; removing it again says it was gone already", async () => {
  await withStore(async (store) => {
    const s = await putSnapshot(store, "web", { "web.out": "x\n" });
    assertEquals(await store.remove(s), true);
    assertEquals(await store.remove(s), false);
    assertEquals(await names(`${store.dir}/web`), []);
    assertEquals((await store.list()).snapshots, []);
  });
});

Deno.test("collectPartials removes what dead writers left, and never a capture or a deletion in progress", async () => {
  await withStore(async (store) => {
    const live = await store.begin("web", AT);
    const rdir = `${store.dir}/web`;
    const old = new Date(Date.now() - 120_000);
    const plant = async (name: string, owner?: unknown, made?: Date) => {
      await Deno.mkdir(`${rdir}/${name}`);
      if (owner !== undefined) await Deno.writeTextFile(`${rdir}/${name}/.owner`, JSON.stringify(owner));
      await Deno.writeTextFile(`${rdir}/${name}/web.out`, "x");
      if (made) await Deno.utime(`${rdir}/${name}`, made, made);
    };
    const start = await processStartTime(Deno.pid);
    await plant(".partial-20261201T051200Z-101", { pid: DEAD_PID, start: 1 });
    await plant(".partial-20261201T051200Z-102", { pid: Deno.pid, start: start! + 1 }); // a reused pid
    await plant(".partial-20261201T051200Z-103"); // no owner, just made: maybe a commit in progress
    await plant(".partial-20261201T051200Z-104", undefined, old); // no owner, long ago: a remain
    await plant(`.deleting-20261201T051200Z-105-${DEAD_PID}`);
    await plant(`.deleting-20261201T051200Z-106-${Deno.pid}`);
    const s = await putSnapshot(store, "web", { "web.out": "x\n" });

    const removed = await store.collectPartials();
    assertEquals(removed.map((p) => p.slice(rdir.length + 1)).sort(), [
      `.deleting-20261201T051200Z-105-${DEAD_PID}`,
      ".partial-20261201T051200Z-101",
      ".partial-20261201T051200Z-102",
      ".partial-20261201T051200Z-104",
    ]);
    assertEquals(
      await names(rdir),
      [
        `.deleting-20261201T051200Z-106-${Deno.pid}`,
        live.dir.slice(rdir.length + 1),
        ".partial-20261201T051200Z-103",
        s.manifest.id,
      ].sort(),
    );
  });
});
