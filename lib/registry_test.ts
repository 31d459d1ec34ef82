import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { StapfrError } from "./errors.ts";
import { type RecorderRecord, Registry } from "./registry.ts";

function record(name: string): RecorderRecord {
  return {
    format: 1,
    name,
    mode: "memory",
    host: "sim",
    module: `stap_fr_${name}`,
    pid: null,
    pidStart: null,
    startedAt: "2026-01-01T00:00:00.000Z",
    scriptFile: null,
    script: "probe begin {}",
    buffer: null,
    output: null,
    stapArgs: [],
    cpus: 2,
    notes: [],
  };
}

Deno.test("Registry writes one 0600 file per recorder in a 0700 directory, atomically", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(`${root}/state`);
    await reg.ensureDir();
    assertEquals((await Deno.stat(reg.dir)).mode! & 0o777, 0o700);
    await reg.put(record("b"));
    await reg.put(record("a"));
    assertEquals((await Deno.stat(reg.pathOf("a"))).mode! & 0o777, 0o600);
    assertEquals((await reg.get("a"))?.module, "stap_fr_a");
    assertEquals(await reg.get("zz"), undefined);
    assertEquals((await reg.list()).records.map((r) => r.name), ["a", "b"]);
    assertEquals([...Deno.readDirSync(reg.dir)].filter((e) => e.name.includes(".tmp")), []);
    await reg.remove("a");
    await reg.remove("a");
    assertEquals((await reg.list()).records.map((r) => r.name), ["b"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry reports a corrupt file by name and never treats it as absent", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(root);
    await Deno.writeTextFile(reg.pathOf("bad"), "{ not json");
    await Deno.writeTextFile(reg.pathOf("other"), JSON.stringify({ name: "else" }));
    const err = await assertRejects(() => reg.get("bad"), StapfrError);
    assertMatch(err.message, /Corrupt registry file ".*bad\.json"/);
    const { corrupt } = await reg.list();
    assertEquals(corrupt.map((c) => c.name).sort(), ["bad", "other"]);
    assertEquals(await Deno.readTextFile(reg.pathOf("bad")), "{ not json");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry.lock lets one holder in, and takes over a lock whose owner died", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(root);
    const release = await reg.lock("a");
    const err = await assertRejects(() => reg.lock("a"), StapfrError);
    assertMatch(err.message, new RegExp(`being changed by another stapfr \\(pid ${Deno.pid}\\)`));
    await release();
    await Deno.writeTextFile(`${root}/a.lock`, JSON.stringify({ pid: 999999999, start: 1 }));
    const again = await reg.lock("a");
    assert(JSON.parse(await Deno.readTextFile(`${root}/a.lock`)).pid === Deno.pid);
    await again();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry.lock: of several takers of one stale lock, exactly one wins", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(root);
    for (let round = 0; round < 5; round++) {
      await Deno.writeTextFile(`${root}/a.lock`, JSON.stringify({ pid: 999999999, start: round }));
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => reg.lock("a")));
      const won = results.filter((r) => r.status === "fulfilled");
      assertEquals(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results) {
        if (r.status === "rejected") assertMatch(String(r.reason), /being changed by another stapfr/);
      }
      await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
      assertEquals([...Deno.readDirSync(root)].map((e) => e.name), [], "no lock, marker or temp file left");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry explains a state directory it cannot use", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${root}/file`, "");
    const err = await assertRejects(() => new Registry(`${root}/file/state`).ensureDir(), StapfrError);
    assertMatch(
      err.message,
      /Cannot use state directory ".*file\/state": a path component is not a directory/,
    );
    assertMatch((err as StapfrError).hint ?? "", /--state-dir/);
    if (Deno.uid() !== 0) {
      await Deno.mkdir(`${root}/ro`, { mode: 0o500 });
      const denied = await assertRejects(() => new Registry(`${root}/ro`).ensureDir(), StapfrError);
      assertMatch(denied.message, /permission denied/);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry does not follow a symbolic link: reported once, its module counted as known", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(`${root}/state`);
    await reg.ensureDir();
    await Deno.writeTextFile(`${root}/elsewhere.json`, JSON.stringify(record("a")));
    await Deno.symlink(`${root}/elsewhere.json`, reg.pathOf("a"));
    const err = await assertRejects(() => reg.get("a"), StapfrError);
    assertMatch(
      err.message,
      /^Registry file ".*a\.json" \(recorder "a"\) is a symbolic link \(to ".*elsewhere\.json"\)/,
    );
    const { records, corrupt } = await reg.list();
    assertEquals(records, []);
    assertEquals(corrupt.map((c) => [c.name, c.modules]), [["a", ["stap_fr_a"]]]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry checks every field on read: a wrong one is reported once, with the modules it may own", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(root);
    await Deno.writeTextFile(
      reg.pathOf("a"),
      JSON.stringify({ ...record("a"), module: "stap_other", mode: 3 }),
    );
    const { corrupt } = await reg.list();
    assertEquals(corrupt.length, 1);
    assertEquals(corrupt[0].reason, '"mode": expected "memory" or "file", not 3');
    assertEquals(
      corrupt[0].message,
      `Corrupt registry file "${reg.pathOf("a")}" (recorder "a"): ${corrupt[0].reason}`,
    );
    assertEquals(corrupt[0].modules, ["stap_fr_a", "stap_other"]);
    const err = await assertRejects(() => reg.get("a"), StapfrError);
    assertEquals(err.message, corrupt[0].message);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("Registry tightens an existing state directory of this user to 0700, never a shared (sticky) one", async () => {
  const root = await Deno.makeTempDir();
  try {
    const reg = new Registry(`${root}/state`);
    await Deno.mkdir(reg.dir);
    await Deno.chmod(reg.dir, 0o755);
    await reg.ensureDir();
    assertEquals(((await Deno.stat(reg.dir)).mode! & 0o7777).toString(8), "700");
    const shared = new Registry(`${root}/shared`);
    await Deno.mkdir(shared.dir);
    await Deno.chmod(shared.dir, 0o1777);
    await shared.ensureDir();
    assertEquals(((await Deno.stat(shared.dir)).mode! & 0o7777).toString(8), "1777");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
