/**
 * The snapshot operations behind `snapshot`, `snapshots`, `snapshots show` and `snapshots prune`, over an
 * {@linkcode Engine} and a {@linkcode SnapshotStore}.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { type ByteSink, copyFiles } from "../readers/concat.ts";
import { listRunFiles, streamsOf } from "../readers/files.ts";
import { mergeStreams } from "../readers/merge.ts";
import { type Engine, getRecord } from "../recorder/engine.ts";
import { type CaptureOptions, captureSnapshot } from "./capture.ts";
import type { Manifest } from "./manifest.ts";
import { hasBounds, type RetentionBounds, selectPrunable } from "./retention.ts";
import type { SnapshotStore, StoredSnapshot } from "./store.ts";
import { idTime } from "./id.ts";
import { isUnshipped, removeShipRecord } from "../fleet/ship_state.ts";

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
}

/** The listing row of a stored snapshot. */
export function summarize(s: StoredSnapshot): SnapshotSummary {
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
  };
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
  const snapshot = await captureSnapshot(engine, store, record, options);
  await options.beforeRetention?.(snapshot);
  const pruned: SnapshotSummary[] = [];
  for (const bounds of [record.snapshotRetention ?? undefined, options.retention]) {
    if (hasBounds(bounds)) pruned.push(...(await pruneSnapshots(store, bounds, { name })).removed);
  }
  return { snapshot, pruned };
}

/** Deletes the oldest snapshots (per recorder) until every bound holds; never one being written or read. */
export async function pruneSnapshots(
  store: SnapshotStore,
  bounds: RetentionBounds,
  options: { name?: string; dryRun?: boolean; now?: number } = {},
): Promise<PruneResult> {
  const result: PruneResult = {
    removed: [],
    kept_in_use: [],
    kept_unshipped: [],
    dry_run: options.dryRun ?? false,
  };
  const all = (await store.list(options.name)).snapshots;
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
      if (await store.leased(item.s)) {
        result.kept_in_use.push(summarize(item.s));
        continue;
      }
      if (!result.dry_run) {
        await store.remove(item.s);
        await removeShipRecord(store.dir, recorder, item.id);
      }
      result.removed.push({ ...summarize(item.s), ...(item.held ? { shipping: "pending" as const } : {}) });
    }
  }
  return result;
}

/**
 * A snapshot's data as one ordered stream: memory mode its data file; file mode the files oldest to newest,
 * bulk per-CPU files merged by sequence number as `dump` does. A read lease keeps retention away meanwhile.
 */
export async function snapshotData(
  store: SnapshotStore,
  ref: string,
  sink: ByteSink,
): Promise<{ snapshot: StoredSnapshot; bytes: number }> {
  const snapshot = await store.find(ref);
  const release = await store.lease(snapshot);
  try {
    const m: Manifest = snapshot.manifest;
    const files = await listRunFiles(snapshot.path, `${m.recorder}.out`);
    if (files.length !== m.files.length) {
      throw new StapfrError(`Snapshot "${m.recorder}/${m.id}" is missing data files`, {
        hint: `Its manifest lists ${m.files.length}, its directory "${snapshot.path}" has ${files.length}`,
      });
    }
    let bytes = 0;
    const counting: ByteSink = async (chunk) => {
      bytes += chunk.length;
      await sink(chunk);
    };
    const bulk = m.files.some((f) => f.cpu !== null);
    if (bulk) await mergeStreams(streamsOf(files), counting);
    else await copyFiles(files, counting);
    return { snapshot, bytes };
  } finally {
    await release();
  }
}
