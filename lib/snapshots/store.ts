/**
 * The snapshot store: `STORE/NAME/ID/` holding a snapshot's data files and its `manifest.json` (directories
 * 0700, files 0600). A snapshot is written under `STORE/NAME/.partial-ID/` and renamed to `ID` only when
 * complete, so `snapshots` never lists half a snapshot; an interrupted capture leaves only a `.partial-`
 * directory, which `gc` removes once its writer is gone. A reader holds a lease (`.leases/ID.PID`) so that
 * retention never deletes a snapshot being read. Layout and rules: docs/snapshots.md "The store".
 * @module
 */
import { join } from "../path.ts";
import { StapfrError } from "../errors.ts";
import { processAlive, processStartTime } from "../driver/kernel.ts";
import { compareIds, formatId, idStamp, isId } from "./id.ts";
import { type Manifest, parseManifest } from "./manifest.ts";

/** One snapshot as the store finds it. */
export interface StoredSnapshot {
  /** Its directory. */
  path: string;
  manifest: Manifest;
}

/** A directory of the store that is not a readable snapshot. */
export interface BrokenSnapshot {
  /** The directory. */
  path: string;
  /** Why it is not readable. */
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

function storeError(dir: string, err: unknown): StapfrError {
  const reason = err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Error
    ? err.message
    : String(err);
  return new StapfrError(`Cannot use snapshot store "${dir}": ${reason}`, {
    hint: "Point --store or STAPFR_STORE at a directory you can write",
    cause: err,
  });
}

async function mkdir700(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  // An existing directory keeps its mode: tighten it, since snapshots hold traced data.
  await Deno.chmod(path, 0o700);
}

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

  /** Starts a new snapshot of `name`: reserves an ID and creates its temporary directory. */
  async begin(name: string, now = Date.now()): Promise<PartialSnapshot> {
    const rdir = this.recorderDir(name);
    try {
      await mkdir700(this.dir);
      await mkdir700(rdir);
    } catch (err) {
      throw storeError(this.dir, err);
    }
    const stamp = idStamp(now);
    const reserve = async (): Promise<{ id: string; dir: string }> => {
      for (let seq = 1; seq < 100_000; seq++) {
        const id = formatId(stamp, seq);
        if (await exists(join(rdir, id))) continue;
        const dir = join(rdir, PARTIAL + id);
        try {
          await Deno.mkdir(dir, { mode: 0o700 });
        } catch (err) {
          if (err instanceof Deno.errors.AlreadyExists) continue;
          throw storeError(this.dir, err);
        }
        return { id, dir };
      }
      throw new StapfrError(`Too many snapshots of "${name}" within one second`);
    };
    let { id, dir } = await reserve();
    const owner = JSON.stringify({ pid: Deno.pid, start: (await processStartTime(Deno.pid)) ?? null });
    await Deno.writeTextFile(join(dir, OWNER), owner, { mode: 0o600 });
    return {
      get id() {
        return id;
      },
      dir,
      commit: async (fields) => {
        for (let attempt = 0;; attempt++) {
          const manifest = { ...fields, id } as Manifest;
          await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", {
            mode: 0o600,
          });
          await Deno.remove(join(dir, OWNER)).catch(() => {});
          const final = join(rdir, id);
          try {
            // rename(2) onto an existing non-empty directory fails: a name is never taken twice.
            await Deno.rename(dir, final);
            return { id, path: final };
          } catch (err) {
            if (attempt > 5 || !(await exists(final))) throw storeError(this.dir, err);
            // Another writer committed this ID after we reserved it: take the next free one.
            const next = await reserve();
            await Deno.remove(next.dir);
            id = next.id;
          }
        }
      },
      abandon: async () => {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  }

  /** The recorders that have snapshots, sorted. */
  async recorders(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (e.isDirectory && /^[a-z][a-z0-9_]*$/.test(e.name)) names.push(e.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw storeError(this.dir, err);
    }
    return names.sort();
  }

  /** Every complete snapshot (of one recorder, or of all), oldest first, and the directories that are broken. */
  async list(name?: string): Promise<{ snapshots: StoredSnapshot[]; broken: BrokenSnapshot[] }> {
    const snapshots: StoredSnapshot[] = [];
    const broken: BrokenSnapshot[] = [];
    for (const recorder of name ? [name] : await this.recorders()) {
      const rdir = this.recorderDir(recorder);
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(rdir));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw storeError(this.dir, err);
      }
      for (const e of entries) {
        if (!isId(e.name)) continue;
        const path = join(rdir, e.name);
        if (!e.isDirectory) {
          broken.push({ path, reason: "not a directory" });
          continue;
        }
        try {
          const file = join(path, "manifest.json");
          const manifest = parseManifest(file, await Deno.readTextFile(file));
          if (manifest.id !== e.name || manifest.recorder !== recorder) {
            throw new StapfrError(`manifest names "${manifest.recorder}/${manifest.id}"`);
          }
          snapshots.push({ path, manifest });
        } catch (err) {
          broken.push({ path, reason: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    snapshots.sort((a, b) =>
      compareIds(a.manifest.id, b.manifest.id) ||
      (a.manifest.recorder < b.manifest.recorder ? -1 : a.manifest.recorder > b.manifest.recorder ? 1 : 0)
    );
    return { snapshots, broken };
  }

  /** Finds a snapshot by `ID` or `NAME/ID`; an ID that several recorders have must be given as `NAME/ID`. */
  async find(ref: string): Promise<StoredSnapshot> {
    const [name, id] = ref.includes("/") ? ref.split("/", 2) : [undefined, ref];
    const hits = (await this.list(name)).snapshots.filter((s) => s.manifest.id === id);
    if (hits.length === 0) {
      throw new StapfrError(`No snapshot "${ref}" in "${this.dir}"`, { hint: 'See "stapfr snapshots"' });
    }
    if (hits.length > 1) {
      throw new StapfrError(
        `Snapshot ID "${ref}" is ambiguous: ${hits.map((h) => h.manifest.recorder).join(", ")} have it`,
        {
          hint: `Give it as NAME/ID, e.g. "${hits[0].manifest.recorder}/${id}"`,
        },
      );
    }
    return hits[0];
  }

  /** Takes a read lease on a snapshot; retention leaves it alone until the returned function releases it. */
  async lease(snapshot: StoredSnapshot): Promise<() => Promise<void>> {
    const dir = join(this.recorderDir(snapshot.manifest.recorder), ".leases");
    await mkdir700(dir);
    const start = (await processStartTime(Deno.pid)) ?? null;
    const path = join(dir, `${snapshot.manifest.id}.${Deno.pid}`);
    await Deno.writeTextFile(path, JSON.stringify({ pid: Deno.pid, start }), { mode: 0o600 });
    return () => Deno.remove(path).catch(() => {});
  }

  /** Whether a live process holds a lease on the snapshot. */
  async leased(snapshot: StoredSnapshot): Promise<boolean> {
    const dir = join(this.recorderDir(snapshot.manifest.recorder), ".leases");
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.name.startsWith(`${snapshot.manifest.id}.`)) continue;
        const owner = await readOwner(join(dir, e.name));
        if (owner && (await processAlive(owner.pid, owner.start ?? undefined))) return true;
        await Deno.remove(join(dir, e.name)).catch(() => {});
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return false;
  }

  /** Deletes a snapshot: renamed out of sight first, so it disappears at once, then removed. */
  async remove(snapshot: StoredSnapshot): Promise<void> {
    const rdir = this.recorderDir(snapshot.manifest.recorder);
    const gone = join(rdir, `${DELETING}${snapshot.manifest.id}-${Deno.pid}`);
    await Deno.rename(snapshot.path, gone);
    await Deno.remove(gone, { recursive: true });
  }

  /** Removes what interrupted captures and deletions left (their writer is gone); returns the paths. */
  async collectPartials(): Promise<string[]> {
    const removed: string[] = [];
    for (const recorder of await this.recorders()) {
      const rdir = this.recorderDir(recorder);
      for await (const e of Deno.readDir(rdir)) {
        const path = join(rdir, e.name);
        if (e.name.startsWith(DELETING)) {
          const pid = Number(/-(\d+)$/.exec(e.name)?.[1]);
          if (await processAlive(pid)) continue;
        } else if (e.name.startsWith(PARTIAL)) {
          const owner = await readOwner(join(path, OWNER));
          if (owner && (await processAlive(owner.pid, owner.start ?? undefined))) continue;
          // No owner file: either a commit in progress (it exists for an instant) or a damaged remain.
          if (!owner && Date.now() - ((await Deno.stat(path)).mtime?.getTime() ?? 0) < 60_000) continue;
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
    const v = JSON.parse(await Deno.readTextFile(path));
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
