/**
 * The snapshot store: `STORE/NAME/ID/` holding a snapshot's data files and its `manifest.json` (directories
 * 0700, files 0600). A snapshot is written under `STORE/NAME/.partial-ID/` and renamed to `ID` only when
 * complete, so `snapshots` never lists half a snapshot; an interrupted capture leaves only a `.partial-`
 * directory, which `gc` removes once its writer is gone. A reader holds a lease (`.leases/ID.PID`) so that
 * retention never deletes a snapshot being read. The store is checked before each use and never re-moded, and
 * no link in it is followed (lib/snapshots/store_trust.ts). Layout and rules: docs/snapshots.md "The store".
 * @module
 */
import { join } from "../path.ts";
import { StapfrError } from "../errors.ts";
import { processAlive, processStartTime } from "../driver/kernel.ts";
import { compareIds, formatId, idStamp, isId, parseRef } from "./id.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { inStore, storeError } from "./store_errors.ts";
import {
  checkRecorderDir,
  checkStoreDir,
  makePrivateDir,
  NotFollowed,
  notPrivateHint,
  readTextNoFollow,
} from "./store_trust.ts";

/** One snapshot as the store finds it. */
export interface StoredSnapshot {
  /** Its directory. */
  path: string;
  /** Its manifest. */
  manifest: Manifest;
}

/** A directory of the store that is not a readable snapshot (or a recorder's directory that was not read). */
export interface BrokenSnapshot {
  /** The directory. */
  path: string;
  /** Why it is not readable (or was not read: a link, a directory others could read). */
  reason: string;
}

/** A snapshot being written; `commit` makes it appear, `abandon` removes it. */
export interface PartialSnapshot {
  /** The ID it will have (it may change at commit if another writer took it meanwhile). */
  id: string;
  /** The temporary directory to write the data into. */
  dir: string;
  /** Writes the manifest (0600) and renames the directory into place; returns the final directory. */
  commit(manifest: Omit<Manifest, "id">): Promise<{ id: string; path: string }>;
  /** Removes the temporary directory. */
  abandon(): Promise<void>;
}

const PARTIAL = ".partial-";
const DELETING = ".deleting-";
const OWNER = ".owner";
const LEASES = ".leases";
const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** The snapshot store in one directory. */
export class SnapshotStore {
  /** The store's directory. */
  readonly dir: string;

  /** Opens the store in `dir` (nothing is created until a snapshot is written). */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The directory of one recorder's snapshots. */
  recorderDir(name: string): string {
    return join(this.dir, name);
  }

  /**
   * The recorder's directory, made 0700 if it is missing. An existing one that may not hold snapshots (a link,
   * another user's, one others could read) is an error, and is left as it is.
   */
  async #makeRecorderDir(name: string): Promise<string> {
    const rdir = this.recorderDir(name);
    const why = await inStore(
      "create the recorder's snapshot directory",
      rdir,
      () => checkRecorderDir(rdir, true),
    );
    if (why !== undefined) {
      throw new StapfrError(`Cannot keep snapshots of "${name}" in "${rdir}": ${why}`, {
        code: "unsafe_path",
        hint: notPrivateHint(rdir, why),
      });
    }
    return rdir;
  }

  /** Starts a new snapshot of `name`: reserves an ID and creates its temporary directory. */
  async begin(name: string, now = Date.now()): Promise<PartialSnapshot> {
    await checkStoreDir(this.dir, true);
    const rdir = await this.#makeRecorderDir(name);
    const stamp = idStamp(now);
    const reserve = async (): Promise<{ id: string; dir: string }> => {
      for (let seq = 1; seq < 100_000; seq++) {
        const id = formatId(stamp, seq);
        if (await inStore("read", rdir, () => exists(join(rdir, id)))) continue;
        const dir = join(rdir, PARTIAL + id);
        try {
          await Deno.mkdir(dir, { mode: 0o700 });
        } catch (err) {
          if (err instanceof Deno.errors.AlreadyExists) continue;
          throw storeError("create snapshot directory", dir, err);
        }
        return { id, dir };
      }
      throw new StapfrError(`Too many snapshots of "${name}" within one second`, { code: "busy" });
    };
    let { id, dir } = await reserve();
    const owner = JSON.stringify({ pid: Deno.pid, start: (await processStartTime(Deno.pid)) ?? null });
    const ownerPath = join(dir, OWNER);
    await inStore(
      "write",
      ownerPath,
      () => Deno.writeTextFile(ownerPath, owner, { mode: 0o600, createNew: true }),
    );
    return {
      get id() {
        return id;
      },
      dir,
      commit: async (fields) => {
        for (let attempt = 0;; attempt++) {
          const manifest = { ...fields, id } as Manifest;
          const file = join(dir, "manifest.json");
          await inStore(
            "write snapshot manifest",
            file,
            () => Deno.writeTextFile(file, JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 }),
          );
          await Deno.remove(join(dir, OWNER)).catch(() => {});
          const final = join(rdir, id);
          try {
            // rename(2) onto an existing non-empty directory fails: a name is never taken twice.
            await Deno.rename(dir, final);
            return { id, path: final };
          } catch (err) {
            if (attempt > 5 || !(await exists(final))) {
              throw storeError("move the finished snapshot to", final, err);
            }
            // Another writer committed this ID after we reserved it: take the next free one.
            const next = await reserve();
            await Deno.remove(next.dir).catch(() => {});
            id = next.id;
          }
        }
      },
      abandon: async () => {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  }

  /**
   * The recorders' directories that may be read, and the entries that were not read: a link named like a
   * recorder, or a directory that holds snapshots but is not private and the user's. Other entries (a file, a
   * directory of someone's that holds no snapshots, as in a home directory given as the store) are not the
   * store's and are passed over in silence.
   */
  async #scan(): Promise<{ names: string[]; broken: BrokenSnapshot[] }> {
    const names: string[] = [];
    const broken: BrokenSnapshot[] = [];
    if (!(await checkStoreDir(this.dir, false))) return { names, broken };
    const entries = await inStore("read", this.dir, () => Array.fromAsync(Deno.readDir(this.dir)));
    for (const e of entries) {
      if (!NAME_RE.test(e.name) || !(e.isDirectory || e.isSymlink)) continue;
      const path = this.recorderDir(e.name);
      const why = await inStore("read", path, () => checkRecorderDir(path, false));
      if (why === undefined) names.push(e.name);
      else if (why !== "missing" && (e.isSymlink || (await holdsSnapshots(path)))) {
        broken.push({ path, reason: why });
      }
    }
    return { names: names.sort(), broken };
  }

  /** Every complete snapshot (of one recorder, or of all), oldest first, and the directories that are broken. */
  async list(name?: string): Promise<{ snapshots: StoredSnapshot[]; broken: BrokenSnapshot[] }> {
    const snapshots: StoredSnapshot[] = [];
    const broken: BrokenSnapshot[] = [];
    let names: string[];
    if (name === undefined) {
      const scan = await this.#scan();
      names = scan.names;
      broken.push(...scan.broken);
    } else {
      names = [];
      if (await checkStoreDir(this.dir, false)) {
        const path = this.recorderDir(name);
        const why = await inStore("read", path, () => checkRecorderDir(path, false));
        if (why === undefined) names.push(name);
        else if (why !== "missing") broken.push({ path, reason: why });
      }
    }
    for (const recorder of names) {
      const rdir = this.recorderDir(recorder);
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(rdir));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw storeError("read", rdir, err);
      }
      for (const e of entries) {
        if (!isId(e.name)) continue;
        const path = join(rdir, e.name);
        if (e.isSymlink) {
          broken.push({ path, reason: "it is a symbolic link, and stapfr follows no link in its store" });
          continue;
        }
        if (!e.isDirectory) {
          broken.push({ path, reason: "not a directory" });
          continue;
        }
        const file = join(path, "manifest.json");
        try {
          const manifest = parseManifest(file, await readTextNoFollow(file));
          if (manifest.id !== e.name || manifest.recorder !== recorder) {
            throw new StapfrError(`manifest names "${manifest.recorder}/${manifest.id}"`, {
              code: "damaged",
            });
          }
          snapshots.push({ path, manifest });
        } catch (err) {
          if (err instanceof StapfrError) broken.push({ path, reason: err.message });
          else if (err instanceof NotFollowed) broken.push({ path, reason: `its manifest.json ${err.why}` });
          else if (err instanceof Deno.errors.NotFound) {
            broken.push({ path, reason: "it has no manifest.json" });
          } else throw storeError("read", file, err);
        }
      }
    }
    snapshots.sort((a, b) =>
      compareIds(a.manifest.id, b.manifest.id) ||
      (a.manifest.recorder < b.manifest.recorder ? -1 : a.manifest.recorder > b.manifest.recorder ? 1 : 0)
    );
    return { snapshots, broken };
  }

  /**
   * Finds a snapshot by `ID` or `NAME/ID` (anything else is a usage error); an ID that several recorders have
   * must be given as `NAME/ID`.
   */
  async find(ref: string): Promise<StoredSnapshot> {
    const { name, id } = parseRef(ref);
    const { snapshots, broken } = await this.list(name);
    const hits = snapshots.filter((s) => s.manifest.id === id);
    if (hits.length === 0) {
      // Its own directory, or its recorder's, may be there and unreadable: say that rather than "no snapshot".
      const why = broken.find((b) =>
        b.path.endsWith(`/${id}`) || (name && b.path === this.recorderDir(name))
      );
      if (why) {
        throw new StapfrError(`Cannot read snapshot "${ref}": "${why.path}": ${why.reason}`, {
          code: "damaged",
          hint: 'See "stapfr snapshots"',
        });
      }
      throw new StapfrError(`No snapshot "${ref}" in "${this.dir}"`, {
        code: "not_found",
        hint: 'See "stapfr snapshots"',
      });
    }
    if (hits.length > 1) {
      throw new StapfrError(
        `Snapshot ID "${ref}" is ambiguous: ${hits.map((h) => h.manifest.recorder).join(", ")} have it`,
        {
          code: "invalid_option",
          hint: `Give it as NAME/ID, e.g. "${hits[0].manifest.recorder}/${id}"`,
        },
      );
    }
    return hits[0];
  }

  /**
   * Takes a read lease on a snapshot; retention leaves it alone until the returned function releases it. On a
   * read-only store no lease is needed (nothing can delete there), and none is taken.
   */
  async lease(snapshot: StoredSnapshot): Promise<() => Promise<void>> {
    const dir = join(this.recorderDir(snapshot.manifest.recorder), LEASES);
    const path = join(dir, `${snapshot.manifest.id}.${Deno.pid}`);
    const start = (await processStartTime(Deno.pid)) ?? null;
    try {
      await makePrivateDir(dir);
      // A lease of an earlier process with this pid is stale: this one replaces it.
      await Deno.remove(path).catch(() => {});
      await Deno.writeTextFile(path, JSON.stringify({ pid: Deno.pid, start }), {
        mode: 0o600,
        createNew: true,
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === "EROFS") return () => Promise.resolve();
      throw storeError("take a read lease in", dir, err);
    }
    return () => Deno.remove(path).catch(() => {});
  }

  /** Whether a live process holds a lease on the snapshot. */
  async leased(snapshot: StoredSnapshot): Promise<boolean> {
    const dir = join(this.recorderDir(snapshot.manifest.recorder), LEASES);
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.name.startsWith(`${snapshot.manifest.id}.`)) continue;
        const owner = await readOwner(join(dir, e.name));
        if (owner && (await processAlive(owner.pid, owner.start ?? undefined))) return true;
        await Deno.remove(join(dir, e.name)).catch(() => {});
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw storeError("read", dir, err);
    }
    return false;
  }

  /**
   * Deletes a snapshot: renamed out of sight first, so it disappears at once, then removed. Returns false when
   * it was gone already (another prune took it first: the goal is met all the same).
   */
  async remove(snapshot: StoredSnapshot): Promise<boolean> {
    const { recorder, id } = snapshot.manifest;
    const gone = join(this.recorderDir(recorder), `${DELETING}${id}-${Deno.pid}`);
    try {
      await Deno.rename(snapshot.path, gone);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw storeError(`remove snapshot ${recorder}/${id}`, snapshot.path, err);
    }
    await inStore(`remove snapshot ${recorder}/${id}`, gone, () => Deno.remove(gone, { recursive: true }));
    return true;
  }

  /** Removes what interrupted captures and deletions left (their writer is gone); returns the paths. */
  async collectPartials(): Promise<string[]> {
    const removed: string[] = [];
    for (const recorder of (await this.#scan()).names) {
      const rdir = this.recorderDir(recorder);
      const entries = await inStore("read", rdir, () => Array.fromAsync(Deno.readDir(rdir)));
      for (const e of entries) {
        const path = join(rdir, e.name);
        if (e.name.startsWith(DELETING)) {
          const pid = Number(/-(\d+)$/.exec(e.name)?.[1]);
          if (await processAlive(pid)) continue;
        } else if (e.name.startsWith(PARTIAL)) {
          const owner = await readOwner(join(path, OWNER));
          if (owner && (await processAlive(owner.pid, owner.start ?? undefined))) continue;
          // No owner file: either a commit in progress (it exists for an instant) or a damaged remain.
          const made = await Deno.lstat(path).then((st) => st.mtime?.getTime() ?? 0, () => undefined);
          // Gone meanwhile (another gc), or made under a minute ago.
          if (made === undefined || (!owner && Date.now() - made < 60_000)) continue;
        } else continue;
        await Deno.remove(path, { recursive: true }).catch(() => {});
        removed.push(path);
      }
    }
    return removed;
  }
}

async function readOwner(path: string): Promise<{ pid: number; start: number | null } | undefined> {
  try {
    const v = JSON.parse(await readTextNoFollow(path));
    return typeof v?.pid === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Whether a directory (not followed if a link) has an entry named like a snapshot. */
async function holdsSnapshots(path: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(path)) if (isId(e.name) || e.name.startsWith(PARTIAL)) return true;
  } catch {
    // Unreadable: not one of stapfr's.
  }
  return false;
}
