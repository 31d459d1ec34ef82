/**
 * A snapshot's data checked against its manifest: the cheap check (each file is there, a regular file, not a
 * link, of the size the manifest says) for listings, the full check (SHA-256 of every byte) for `snapshots
 * verify`, and serving the data while checking it for `snapshots show --data`. A flipped byte is found only
 * at the end of its file, after the file was served: the error then says how much output is unverified.
 * See docs/snapshots.md "Checking".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { join } from "../path.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { classify, type RunFile, streamsOf } from "../read_path/files.ts";
import { mergeStreams } from "../read_path/merge.ts";
import { Digest } from "./digest.ts";
import type { SnapshotFile } from "./manifest.ts";
import type { StoredSnapshot } from "./store.ts";
import { storeError } from "./store_errors.ts";
import { NotFollowed, openNoFollow } from "./store_trust.ts";

/**
 * A snapshot whose data does not match its manifest (`code: "damaged"`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { Manifest } from "./manifest.ts";
 * const snapshot = { path: "/s/io/X", manifest: { recorder: "io", id: "X" } as Manifest };
 * const err = new DamagedSnapshot(snapshot, 'data file "io.out" has 9 bytes, its manifest says 10', 0);
 * assertEquals([err.code, err.message], ["damaged", 'Snapshot "io/X" is damaged: data file "io.out" has 9 bytes, its manifest says 10']);
 * ```
 */
export class DamagedSnapshot extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "DamagedSnapshot";
  /** The damaged snapshot. */
  readonly snapshot: StoredSnapshot;
  /** What is wrong, without the snapshot's name (`data file "r1.out" has 100 bytes, …`). */
  readonly problem: string;
  /** Bytes already handed to the sink when the damage was found (they are unverified). */
  readonly served: number;
  /**
   * Damage found in `snapshot` after `served` bytes went out; `where` says where they are, when somewhere
   * else than the output (`kept in "FILE.1"`).
   */
  constructor(snapshot: StoredSnapshot, problem: string, served: number, where = "already written") {
    const { recorder, id } = snapshot.manifest;
    super(`Snapshot "${recorder}/${id}" is damaged: ${problem}`, {
      code: "damaged",
      hint: served > 0
        ? `The ${served} bytes ${where} are unverified: do not trust them. ` +
          '"stapfr snapshots verify" checks every snapshot'
        : 'Nothing was written. "stapfr snapshots verify" checks every snapshot',
    });
    this.snapshot = snapshot;
    this.problem = problem;
    this.served = served;
  }
}

function sizeProblem(f: SnapshotFile, size: number): string | undefined {
  return size === f.bytes
    ? undefined
    : `data file "${f.name}" has ${size} bytes, its manifest says ${f.bytes}`;
}

/** The cheap check of one file: there, a regular file and not a link, of the manifest's size. */
async function statProblem(dir: string, f: SnapshotFile): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(join(dir, f.name));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return `data file "${f.name}" is missing`;
    throw err;
  }
  if (st.isSymlink) return `data file "${f.name}" is a symbolic link, not followed`;
  if (!st.isFile) return `data file "${f.name}" is not a regular file`;
  return sizeProblem(f, st.size);
}

/**
 * Reads one data file without following a link, handing each block to `each`; returns what is wrong with it
 * (size or SHA-256), or undefined when it matches its manifest entry.
 */
async function readChecked(
  dir: string,
  f: SnapshotFile,
  each?: (block: Uint8Array) => Promise<void>,
): Promise<string | undefined> {
  let file: Deno.FsFile;
  try {
    file = await openNoFollow(join(dir, f.name));
  } catch (err) {
    if (err instanceof NotFollowed) return `data file "${f.name}" ${err.why}`;
    if (err instanceof Deno.errors.NotFound) return `data file "${f.name}" is missing`;
    throw err;
  }
  using _ = file;
  const size = sizeProblem(f, (await file.stat()).size);
  if (size) return size;
  const digest = new Digest();
  const buf = new Uint8Array(1 << 20);
  for (let n; (n = await file.read(buf)) !== null;) {
    const block = buf.subarray(0, n);
    digest.update(block);
    // A copy: the sink may keep the block while the buffer is reused.
    if (each) await each(block.slice());
  }
  if (digest.bytes !== f.bytes) return sizeProblem(f, digest.bytes);
  return digest.hex() === f.sha256
    ? undefined
    : `data file "${f.name}" does not match its manifest's SHA-256`;
}

/** An error of the sink, carried past {@linkcode reading} unchanged: it is the output's, not the store's. */
class SinkFailure extends Error {
  constructor(readonly error: unknown) {
    super("sink failed");
  }
}

/** Runs `fn`, saying which snapshot an OS error of the store came from; the sink's errors pass as they are. */
async function reading<T>(snapshot: StoredSnapshot, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SinkFailure) throw err.error;
    const { recorder, id } = snapshot.manifest;
    throw storeError(`read snapshot ${recorder}/${id}`, snapshot.path, err);
  }
}

/**
 * The cheap check of a snapshot (for listings): the first problem a `stat` of each data file shows, or null.
 */
export async function quickCheck(snapshot: StoredSnapshot): Promise<string | null> {
  return await reading(snapshot, async () => {
    for (const f of snapshot.manifest.files) {
      const problem = await statProblem(snapshot.path, f);
      if (problem) return problem;
    }
    return null;
  });
}

/** The full check of a snapshot: every data file read and hashed. Returns every problem found (none: intact). */
export async function fullCheck(snapshot: StoredSnapshot): Promise<string[]> {
  return await reading(snapshot, async () => {
    const problems: string[] = [];
    for (const f of snapshot.manifest.files) {
      const problem = await readChecked(snapshot.path, f);
      if (problem) problems.push(problem);
    }
    return problems;
  });
}

/**
 * Hands a snapshot's data to `sink` as one ordered stream, checked against the manifest: every file's type
 * and size before the first byte goes out; the SHA-256 of concatenated files as they are served (a mismatch
 * is a {@linkcode DamagedSnapshot} that says how much went out), and of bulk per-CPU files before their merge
 * starts (a merge interleaves them, so it cannot hash as it goes). Returns the bytes served.
 */
export async function serveChecked(snapshot: StoredSnapshot, sink: ByteSink): Promise<number> {
  const m = snapshot.manifest;
  const base = `${m.recorder}.out`;
  const files: (RunFile & { entry: SnapshotFile })[] = [];
  for (const f of m.files) {
    const c = classify(f.name, base);
    if (!c) throw new DamagedSnapshot(snapshot, `its manifest names "${f.name}", not a data file`, 0);
    files.push({ path: join(snapshot.path, f.name), name: f.name, ...c, entry: f });
  }
  // Oldest to newest within each stream, as a run's files are read.
  files.sort((a, b) => (a.cpu ?? -1) - (b.cpu ?? -1) || a.index - b.index);
  let served = 0;
  const out: ByteSink = async (chunk) => {
    try {
      await sink(chunk);
    } catch (err) {
      throw new SinkFailure(err);
    }
    served += chunk.length;
  };
  return await reading(snapshot, async () => {
    for (const f of files) {
      const problem = await statProblem(snapshot.path, f.entry);
      if (problem) throw new DamagedSnapshot(snapshot, problem, 0);
    }
    if (files.some((f) => f.cpu !== null)) {
      for (const f of files) {
        const problem = await readChecked(snapshot.path, f.entry);
        if (problem) throw new DamagedSnapshot(snapshot, problem, 0);
      }
      await mergeStreams(streamsOf(files), out);
      return served;
    }
    for (const f of files) {
      const problem = await readChecked(snapshot.path, f.entry, out);
      if (problem) throw new DamagedSnapshot(snapshot, problem, served);
    }
    return served;
  });
}
