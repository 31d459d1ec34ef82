/**
 * The snapshot operations behind `snapshot`, `snapshots`, `snapshots show` and `snapshots prune`, over an
 * {@linkcode Engine} and a {@linkcode SnapshotStore}.
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { type Engine, getRecord } from "../recorder/engine.ts";
import { type CaptureOptions, captureSnapshot } from "./capture.ts";
import { hasBounds, type RetentionBounds } from "../units.ts";
import { selectPrunable } from "./retention.ts";
import type { BrokenSnapshot, SnapshotStore, StoredSnapshot } from "./store.ts";
import { isOsError, StoreError, storeError } from "./store_errors.ts";
import { fullCheck, quickCheck, serveChecked } from "./verify.ts";
import { idTime } from "./id.ts";
import { isUnshipped, removeShipRecord } from "./ship_record.ts";

/** One snapshot in a listing (`snapshots --json` uses these keys). */
export interface SnapshotSummary {
  /** The snapshot ID. */
  id: string;
  /** The recorder's name. */
  recorder: string;
  /** The recorder's mode. */
  mode: "memory" | "file";
  /** Capture start (ISO 8601). */
  time: string;
  /** Why it was taken (`--reason`). */
  reason: string | null;
  /** Who asked: `user` or a trigger kind. */
  trigger: string;
  /** Bytes of data. */
  bytes: number;
  /** Lines of data. */
  lines: number;
  /** Older data was lost before its window. */
  wrapped: boolean;
  /** It continues the previous snapshot with nothing lost. */
  contiguous: boolean;
  /** Why not, when not contiguous. */
  gap_reason: string | null;
  /** The snapshot's directory. */
  path: string;
  /**
   * What is wrong with its data files, in a listing: one missing, a link, or of another size than its
   * manifest says (a size check; `snapshots verify` hashes). Null when they look intact, or were not checked.
   */
  damaged: string | null;
  /** Shipping (docs/fleet.md): `pending` (asked for, not in the store yet), `shipped`, or null (never asked). */
  shipping?: "pending" | "shipped" | null;
}

/** What a prune removed (or, with `dryRun`, would remove). */
export interface PruneResult {
  /** The snapshots removed (with `dryRun`: that would be). */
  removed: SnapshotSummary[];
  /** Snapshots a bound wanted gone that are being read: left for a later prune. */
  kept_in_use: SnapshotSummary[];
  /** Snapshots a count or age bound wanted gone that are not shipped yet: kept (docs/fleet.md "Retention"). */
  kept_unshipped: SnapshotSummary[];
  /** Nothing was removed, only chosen. */
  dry_run: boolean;
  /** Directories of the store that were not read (a link, an unreadable manifest): nothing there was removed. */
  broken: BrokenSnapshot[];
}

/** The listing row of a stored snapshot; `damaged` as a check found it. */
export function summarize(s: StoredSnapshot, damaged: string | null = null): SnapshotSummary {
  const m = s.manifest;
  return {
    id: m.id,
    recorder: m.recorder,
    mode: m.mode,
    time: m.capture_started_at,
    reason: m.reason,
    trigger: m.trigger?.kind ?? "user",
    bytes: m.bytes,
    lines: m.lines,
    wrapped: m.wrapped,
    contiguous: m.contiguous,
    gap_reason: m.gap_reason,
    path: s.path,
    damaged,
  };
}

/** The listing of the store (of one recorder, or all), each snapshot's data files checked by their sizes. */
export async function listSnapshots(
  store: SnapshotStore,
  name?: string,
): Promise<{ snapshots: SnapshotSummary[]; broken: BrokenSnapshot[] }> {
  const { snapshots, broken } = await store.list(name);
  const rows: SnapshotSummary[] = [];
  for (const s of snapshots) rows.push(summarize(s, await quickCheck(s)));
  return { snapshots: rows, broken };
}

/** One snapshot's full check in {@linkcode VerifyResult}. */
export interface VerifiedSnapshot {
  /** The snapshot ID. */
  id: string;
  /** The recorder's name. */
  recorder: string;
  /** The snapshot's directory. */
  path: string;
  /** Every data file matches its manifest (size and SHA-256). */
  ok: boolean;
  /** What does not match, one entry per file. */
  problems: string[];
}

/** What `snapshots verify` found. */
export interface VerifyResult {
  /** The snapshots checked, in the order asked (all: oldest first). */
  snapshots: VerifiedSnapshot[];
  /** Directories of the store that could not be read as snapshots (only when the whole store was checked). */
  broken: BrokenSnapshot[];
  /** Every snapshot checked is intact, and (for the whole store) nothing is broken. */
  ok: boolean;
}

/**
 * Reads and hashes every data file of the snapshots given by reference (`ID` or `NAME/ID`), or of the whole
 * store, against their manifests; each is leased meanwhile, so retention does not delete it under the check.
 */
export async function verifySnapshots(
  store: SnapshotStore,
  refs: readonly string[],
  signal?: AbortSignal,
): Promise<VerifyResult> {
  let targets: StoredSnapshot[];
  let broken: BrokenSnapshot[] = [];
  if (refs.length > 0) {
    targets = [];
    for (const ref of refs) targets.push(await store.find(ref));
  } else {
    ({ snapshots: targets, broken } = await store.list());
  }
  const checked: VerifiedSnapshot[] = [];
  for (const s of targets) {
    // Between snapshots: a cancelled check stops without a lease left behind.
    signal?.throwIfAborted();
    const release = await store.lease(s);
    try {
      const problems = await fullCheck(s);
      const { id, recorder } = s.manifest;
      checked.push({ id, recorder, path: s.path, ok: problems.length === 0, problems });
    } finally {
      await release();
    }
  }
  return { snapshots: checked, broken, ok: broken.length === 0 && checked.every((s) => s.ok) };
}

/**
 * A capture's failure, said as the store's when the store's file system failed: what stapfr was doing, where
 * and what to do, with what the reader's own hint adds (a memory recorder's drained data is lost).
 */
function captureFailure(store: SnapshotStore, name: string, err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof StapfrError && err.cause instanceof StoreError) {
    const inner = err.cause;
    return new StoreError(inner.message, {
      code: inner.code,
      hint: err.hint ? `${inner.hint}. ${err.hint}` : inner.hint,
      cause: inner.cause,
    });
  }
  if (isOsError(err)) return storeError(`take snapshot of "${name}" into`, store.recorderDir(name), err);
  return err;
}

/** Captures a snapshot of recorder `name`, then applies the recorder's retention bounds (set at start). */
export async function takeSnapshot(
  engine: Engine,
  store: SnapshotStore,
  name: string,
  options: CaptureOptions & {
    retention?: RetentionBounds;
    /** Runs before retention looks at the new snapshot (shipping marks it pending, so retention keeps it). */
    beforeRetention?: (snapshot: StoredSnapshot) => Promise<void>;
  } = {},
): Promise<{ snapshot: StoredSnapshot; pruned: SnapshotSummary[] }> {
  const record = await getRecord(engine, name);
  let snapshot: StoredSnapshot;
  try {
    snapshot = await captureSnapshot(engine, store, record, options);
  } catch (err) {
    throw captureFailure(store, name, err);
  }
  await options.beforeRetention?.(snapshot);
  const pruned: SnapshotSummary[] = [];
  for (const bounds of [record.snapshotRetention ?? undefined, options.retention]) {
    // Never the snapshot just taken: a bound it breaks on its own would make taking it pointless.
    const spare = snapshot.manifest.id;
    if (hasBounds(bounds)) pruned.push(...(await pruneSnapshots(store, bounds, { name, spare })).removed);
  }
  return { snapshot, pruned };
}

/**
 * Deletes the oldest snapshots (per recorder) until every bound holds; never one being written or read, nor
 * the one named `spare` (of recorder `name`: the snapshot just taken). A snapshot another prune deleted first
 * is not counted: the bound holds all the same.
 */
export async function pruneSnapshots(
  store: SnapshotStore,
  bounds: RetentionBounds,
  options: { name?: string; dryRun?: boolean; now?: number; spare?: string } = {},
): Promise<PruneResult> {
  const { snapshots: all, broken } = await store.list(options.name);
  const result: PruneResult = {
    removed: [],
    kept_in_use: [],
    kept_unshipped: [],
    dry_run: options.dryRun ?? false,
    broken,
  };
  const now = options.now ?? Date.now();
  for (const recorder of new Set(all.map((s) => s.manifest.recorder))) {
    const items = await Promise.all(
      all.filter((s) => s.manifest.recorder === recorder).map(async (s) => ({
        id: s.manifest.id,
        time: Date.parse(s.manifest.capture_started_at) || idTime(s.manifest.id),
        bytes: s.manifest.bytes,
        held: await isUnshipped(store.dir, recorder, s.manifest.id),
        s,
      })),
    );
    const doomed = selectPrunable(items, bounds, now);
    // What the bounds would take if nothing were held: the held ones among them are kept, and said.
    for (const wanted of selectPrunable(items.map((i) => ({ ...i, held: false, item: i })), bounds, now)) {
      if (wanted.item.held && !doomed.includes(wanted.item)) {
        result.kept_unshipped.push({ ...summarize(wanted.s), shipping: "pending" });
      }
    }
    for (const item of doomed) {
      if (item.id === options.spare && recorder === options.name) continue;
      if (await store.leased(item.s)) {
        result.kept_in_use.push(summarize(item.s));
        continue;
      }
      if (!result.dry_run) {
        if (!(await store.remove(item.s))) continue;
        await removeShipRecord(store.dir, recorder, item.id);
      }
      result.removed.push({ ...summarize(item.s), ...(item.held ? { shipping: "pending" as const } : {}) });
    }
  }
  return result;
}

/**
 * A snapshot's data as one ordered stream: memory mode its data file; file mode the files oldest to newest,
 * bulk per-CPU files merged by sequence number as `dump` does; checked against the manifest as it goes (a
 * damaged file is a `DamagedSnapshot` error that says how much went out unverified). A read lease keeps
 * retention away meanwhile.
 */
export async function snapshotData(
  store: SnapshotStore,
  ref: string,
  sink: ByteSink,
): Promise<{ snapshot: StoredSnapshot; bytes: number }> {
  const snapshot = await store.find(ref);
  const release = await store.lease(snapshot);
  try {
    return { snapshot, bytes: await serveChecked(snapshot, sink) };
  } finally {
    await release();
  }
}
