/**
 * The registry: one JSON file per recorder in the state directory (mode 0700), written atomically (a temp
 * file, then rename), with a per-name lock file so that two `start`s of one name cannot both win. Every record
 * is checked field by field when read (registry_record.ts); a file that does not parse or check, or that is a
 * symbolic link, is reported by name, never used, never overwritten, and the modules it may own count as known.
 * @module
 */
import { join } from "./path.ts";
import { StapfrError } from "./errors.ts";
import { missingPermission, osCode, osHint } from "./os_errors.ts";
import { processAlive, processStartTime } from "./driver/kernel.ts";
import type { RotateSpec } from "./units.ts";
import { recordProblem } from "./registry_record.ts";
import type { RetentionBounds } from "./units.ts";
import { writeAtomic } from "./atomic_write.ts";

/** Where a file recorder writes. */
export interface FileOutput {
  /** The directory given with `--output`; each run gets a directory of its own inside it. */
  dir: string;
  /** This run's directory. */
  runDir: string;
  /** The base file name stap was given (`NAME.out`); the files are `BASE`, `BASE.N`, `BASE_C`, `BASE_cpuC.N`. */
  base: string;
  rotate?: RotateSpec;
  /** One file per CPU (stap -b), read back merged by sequence number. */
  bulk: boolean;
}

/** One registered recorder, as stored in `STATE_DIR/NAME.json`. */
export interface RecorderRecord {
  /** Format version of this file. */
  format: 1;
  name: string;
  mode: "memory" | "file";
  /** Which host started it: records of the real host and of the simulator never mix in one state dir. */
  host: "real" | "sim";
  /** The kernel module (`stap_fr_NAME`). */
  module: string;
  /** File mode: the stapio daemon's pid. */
  pid: number | null;
  /** Start time of `pid` in clock ticks, to survive pid reuse. */
  pidStart: number | null;
  /** ISO 8601 time of the start. */
  startedAt: string;
  /** The script file, or null for `-e`. */
  scriptFile: string | null;
  /** The script text (for status and for a restart). */
  script: string;
  /** Memory mode: ring size per CPU in bytes (null: stap's default, 16 MiB per CPU). */
  buffer: number | null;
  output: FileOutput | null;
  /** Arguments passed to stap after `--`. */
  stapArgs: string[];
  /** CPUs (relay channels) at start, when known. */
  cpus: number | null;
  /** Notes shown by status (e.g. "--rotate applies per CPU"). */
  notes: string[];
  /** When stapfr saw the recording end in order (its script exited); absent while it runs. */
  endedAt?: string | null;
  /** Started from a prebuilt module (`start --module`); absent when stap compiled the script. */
  prebuilt?: PrebuiltRecord | null;
  /** Retention bounds applied to its snapshots after each new one (`start --keep-snapshots …`). */
  snapshotRetention?: RetentionBounds | null;
  /**
   * Its module uses bulk transport: a memory recorder is then read by sequence number (docs/loss-accounting.md);
   * absent in records of older stapfr versions, whose memory recorders are read as text.
   */
  bulk?: boolean;
  /** Its module serves stapfr's counters file (lib/driver/counters.ts); absent: it does not. */
  counters?: boolean;
}

/** The prebuilt module a recorder was started from. */
export interface PrebuiltRecord {
  /** The `.ko` file, absolute. */
  path: string;
  /** Its sha256 at start. */
  sha256: string;
  /** The kernel release in its vermagic. */
  release: string;
  /** Built with bulk mode; null when it could not be told. */
  bulk: boolean | null;
}

/** A registry file that could not be used: reported, left as it is, and its modules count as known. */
export interface CorruptEntry {
  /** The recorder name the file is for. */
  name: string;
  /** The file. */
  path: string;
  /** Why it could not be used (the field that is wrong, or that it is a symbolic link). */
  reason: string;
  /** The whole report, one line (what `list` prints and what reading the recorder throws). */
  message: string;
  /** The modules it may own (`stap_fr_NAME`, and a valid `module` field): never orphans, never unloaded. */
  modules: string[];
}

const LEAVE_ALONE =
  "Inspect it and remove it by hand; stapfr will not overwrite it, and leaves its recorder alone";

/** The error for a registry file that cannot be used. */
function unusable(entry: CorruptEntry): StapfrError {
  return new StapfrError(entry.message, {
    code: /symbolic link/.test(entry.reason) ? "unsafe_path" : "damaged",
    hint: LEAVE_ALONE,
  });
}

function stateDirError(dir: string, err: unknown): StapfrError {
  const reason = err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Deno.errors.NotADirectory || (err as { code?: string })?.code === "ENOTDIR"
    ? "a path component is not a directory"
    : err instanceof Deno.errors.AlreadyExists
    ? "it exists and is not a directory"
    : err instanceof Error
    ? err.message
    : String(err);
  const denied = missingPermission(err);
  return new StapfrError(
    `Cannot use state directory "${dir}": ${denied ? `the program was not given ${denied.flag}` : reason}`,
    {
      code: osCode(err),
      hint: denied
        ? osHint(err)
        : "Point --state-dir or STAPFR_STATE_DIR (stateDir in the library) at a directory you can write, " +
          "or run as root",
      cause: err,
    },
  );
}

/** The registry of one state directory. */
export class Registry {
  /** The state directory. */
  readonly dir: string;

  /** Opens the registry in `dir` (nothing is created until something is written). */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The path of a recorder's file. */
  pathOf(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * Creates the state directory (0700) if needed, tightens an existing one of this user to 0700, and checks
   * that it is writable.
   */
  async ensureDir(): Promise<void> {
    try {
      await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
      const st = await Deno.stat(this.dir);
      if (!st.isDirectory) throw new Deno.errors.AlreadyExists(this.dir);
      if (mayTighten(st, this.dir)) await Deno.chmod(this.dir, 0o700);
      // A probe write: permission bits alone say nothing when running as root on a read-only mount.
      const probe = join(this.dir, `.probe.${Deno.pid}.${crypto.randomUUID()}`);
      await Deno.writeTextFile(probe, "", { mode: 0o600 });
      await Deno.remove(probe);
    } catch (err) {
      throw stateDirError(this.dir, err);
    }
  }

  /** A directory of the state dir's own (`build/NAME`, …), created 0700. */
  async subdir(...parts: string[]): Promise<string> {
    const path = join(this.dir, ...parts);
    try {
      await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw stateDirError(this.dir, err);
    }
    return path;
  }

  /** Reads one recorder; undefined when it is not registered. A corrupt file is an error naming the file. */
  async get(name: string): Promise<RecorderRecord | undefined> {
    const path = this.pathOf(name);
    let read: RecorderRecord | CorruptEntry;
    try {
      const st = await Deno.lstat(path);
      read = await readEntry(name, path, st);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw stateDirError(this.dir, err);
    }
    if ("message" in read) throw unusable(read);
    return read;
  }

  /** Every recorder, sorted by name, and the files that could not be read. */
  async list(): Promise<{ records: RecorderRecord[]; corrupt: CorruptEntry[] }> {
    const records: RecorderRecord[] = [];
    const corrupt: CorruptEntry[] = [];
    let entries: Deno.DirEntry[];
    try {
      // Synchronous, as are the reads below: a state directory holds a few small files, and Deno's asynchronous
      // file API costs more the first time a process uses it than these reads (docs/architecture.md "Start-up").
      entries = [...Deno.readDirSync(this.dir)];
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { records, corrupt };
      throw stateDirError(this.dir, err);
    }
    const json = entries.filter((e) => e.name.endsWith(".json"));
    const reads = await Promise.all(json.map(async (entry) => {
      const name = entry.name.slice(0, -5);
      const path = join(this.dir, entry.name);
      try {
        return await readEntry(name, path, entry);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return undefined; // Removed while we looked.
        return corruptEntry(name, path, err instanceof Error ? err.message : String(err));
      }
    }));
    for (const read of reads) {
      if (read === undefined) continue;
      if ("message" in read) corrupt.push(read);
      else records.push(read);
    }
    records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // localeCompare would load ICU collation: slow to start
    return { records, corrupt };
  }

  /** Writes a record atomically (temp file in the same directory, then rename). */
  async put(record: RecorderRecord): Promise<void> {
    try {
      await writeAtomic(this.pathOf(record.name), JSON.stringify(record, null, 2) + "\n");
    } catch (err) {
      throw stateDirError(this.dir, err);
    }
  }

  /** Removes a recorder's file and its read log (no error when they are already gone). */
  async remove(name: string): Promise<void> {
    await Deno.remove(join(this.dir, `${name}.reads`)).catch(() => {});
    try {
      await Deno.remove(this.pathOf(name));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw stateDirError(this.dir, err);
    }
  }

  /**
   * Takes the lock of one name: `NAME.lock` holding the owner's pid and start time, created atomically with
   * its content (written to a temporary file, then hard-linked into place, which fails if the lock exists).
   * A lock whose owner is dead is stale: one taker claims it with a marker file created with O_EXCL, checks
   * that the lock is still that stale one, replaces it, and only then drops the marker, so two takers can
   * never both win. Returns the function that releases the lock.
   */
  /** Whether a live stapfr holds the lock of recorder `name` (a start of it is under way, say). */
  async lockHeld(name: string): Promise<boolean> {
    try {
      const holder = parseLock(await Deno.readTextFile(join(this.dir, `${name}.lock`)));
      return holder !== undefined && (await processAlive(holder.pid, holder.start ?? undefined));
    } catch {
      return false;
    }
  }

  async lock(name: string): Promise<() => Promise<void>> {
    await this.ensureDir();
    const path = join(this.dir, `${name}.lock`);
    const mine = JSON.stringify({ pid: Deno.pid, start: (await processStartTime(Deno.pid)) ?? null });
    const temp = join(this.dir, `.${name}.lock.${Deno.pid}.${crypto.randomUUID()}`);
    try {
      await Deno.writeTextFile(temp, mine, { mode: 0o600 });
    } catch (err) {
      throw stateDirError(this.dir, err);
    }
    const release = async (): Promise<void> => {
      await Deno.remove(path).catch(() => {});
    };
    const linkLock = async (): Promise<boolean> => {
      try {
        await Deno.link(temp, path);
        return true;
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) return false;
        throw stateDirError(this.dir, err);
      }
    };
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        if (await linkLock()) return release;
        const text = await Deno.readTextFile(path).catch(() => undefined);
        if (text === undefined) continue; // Released meanwhile.
        const holder = parseLock(text);
        if (holder && (await processAlive(holder.pid, holder.start ?? undefined))) {
          throw new StapfrError(`Recorder "${name}" is being changed by another stapfr (pid ${holder.pid})`, {
            code: "busy",
            hint: "Wait for it to finish and try again",
          });
        }
        // Stale: claim the takeover of exactly this stale lock.
        const marker = `${path}.takeover.${holder ? `${holder.pid}.${holder.start}` : "unreadable"}`;
        if (!(await claim(marker))) {
          await new Promise((r) => setTimeout(r, 10 + attempt * 5));
          continue;
        }
        try {
          if ((await Deno.readTextFile(path).catch(() => undefined)) === text) await Deno.remove(path);
          if (await linkLock()) return release;
        } finally {
          await Deno.remove(marker).catch(() => {});
        }
      }
    } finally {
      await Deno.remove(temp).catch(() => {});
    }
    throw new StapfrError(`Cannot take the lock of recorder "${name}" ("${path}")`, {
      code: "busy",
      hint: "Remove the lock file if no stapfr is running",
    });
  }
}

/**
 * Whether an existing state directory should be made 0700: it holds the scripts and the paths of what is
 * recorded, so nobody else should look, but stapfr changes only a directory of the user it runs as, never a
 * shared one (sticky, like /tmp) nor the user's home (a --state-dir pointed there by mistake).
 */
function mayTighten(st: Deno.FileInfo, dir: string): boolean {
  if (st.mode === null || (st.mode & 0o077) === 0) return false;
  if ((st.mode & 0o1000) !== 0 || st.uid === null) return false;
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch {
    return false;
  }
  if (st.uid !== uid) return false;
  let home: string | undefined;
  try {
    home = Deno.env.get("HOME");
  } catch {
    // No env permission (a library caller): only the root directory is ruled out below.
  }
  return normalize(dir) !== "/" && (!home || normalize(home) !== normalize(dir));
}

function normalize(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}

/** Creates `marker` exclusively; a marker left by a taker that died (older than 10 s) is taken over. */
async function claim(marker: string): Promise<boolean> {
  for (let i = 0; i < 2; i++) {
    try {
      (await Deno.open(marker, { write: true, createNew: true, mode: 0o600 })).close();
      return true;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) return false;
    }
    const st = await Deno.stat(marker).catch(() => undefined);
    if (!st?.mtime || Date.now() - st.mtime.getTime() < 10_000) return false;
    await Deno.remove(marker).catch(() => {});
  }
  return false;
}

function parseLock(text: string): { pid: number; start: number | null } | undefined {
  try {
    const value = JSON.parse(text);
    if (typeof value?.pid === "number") return value;
  } catch {
    // Unreadable: treated as stale, since a lock is never seen half-written.
  }
  return undefined;
}

/**
 * Reads one registry file, given what `lstat` (or the directory listing) says it is. A symbolic link is not
 * followed: the state directory is stapfr's own, and a link in it points at a file that stapfr did not write
 * and that may change under it. Throws only the errors of reading (not found, permission).
 */
async function readEntry(
  name: string,
  path: string,
  kind: { isFile: boolean; isSymlink: boolean },
): Promise<RecorderRecord | CorruptEntry> {
  if (kind.isSymlink) {
    const target = await Deno.readLink(path).catch(() => "?");
    return {
      name,
      path,
      reason: `a symbolic link (to "${target}")`,
      message: `Registry file "${path}" (recorder "${name}") is a symbolic link (to "${target}"): ` +
        "stapfr does not follow links in its state directory",
      modules: [moduleOf(name)],
    };
  }
  if (!kind.isFile) return corruptEntry(name, path, "not a regular file");
  const text = Deno.readTextFileSync(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return corruptEntry(name, path, (err as Error).message);
  }
  const problem = recordProblem(value, name);
  if (problem !== undefined) return corruptEntry(name, path, problem, value);
  return value as RecorderRecord;
}

/** The module a recorder name is given (units.ts moduleName, without its name check). */
function moduleOf(name: string): string {
  return `stap_fr_${name}`;
}

function corruptEntry(name: string, path: string, reason: string, value?: unknown): CorruptEntry {
  const modules = [moduleOf(name)];
  const claimed = (value as { module?: unknown } | null)?.module;
  if (typeof claimed === "string" && /^stap_[A-Za-z0-9_]+$/.test(claimed) && claimed !== modules[0]) {
    modules.push(claimed);
  }
  return {
    name,
    path,
    reason,
    message: `Corrupt registry file "${path}" (recorder "${name}"): ${reason}`,
    modules,
  };
}
