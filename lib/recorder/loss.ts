/**
 * Loss accounting of a read, from the records' own sequence numbers (docs/loss-accounting.md): which numbers
 * the read passed on (`first_seq` … `last_seq`, `records`), and which are missing, by cause:
 *
 * - `before_read`: numbers between the previous read of the run (or the run's start) and this read's first:
 *   overwritten by the ring while nobody read it (a wrap), rotated away with a file recorder's old files, or
 *   taken by a reader that did not finish (a killed dump);
 * - `during_read`: numbers missing between this read's first and last: dropped while reading (the ring was
 *   full while attached, the kernel skipped them, a record was cut short); of them, `backlog` counts those
 *   written before the read began (the backlog it started with, overwritten or dropped by stapio with it);
 * - `unreserved`: records the module could not reserve at all, since the previous read: they got no number, so
 *   no gap shows them; the module's own counter does (null where the module has no counters);
 * - `other_reads` (snapshots): numbers that other reads (dump, tail, attach) took since the previous snapshot:
 *   not lost, but in no snapshot.
 * @module
 */
import type { SeqRange } from "../read_path/ledger.ts";
import type { PipelineReport } from "../read_path/record_pipeline.ts";

/** At most this many missing ranges are listed (the counts are always whole). */
export const RANGES_CAP = 32;

/** What a read lost, by cause. */
export interface MissingRecords {
  /** Overwritten (or taken by a reader that did not finish) between the previous read and this one. */
  before_read: number;
  /** Missing between this read's first and last sequence numbers. */
  during_read: number;
  /**
   * Of `during_read`, the numbers written before the read began (at most the module's last number when it
   * attached): the backlog the read started with, which the ring overwrote or stapio 4.8 dropped with a backlog
   * it could not frame, not records lost while it read. Null where the module has no counters, or for files.
   */
  backlog: number | null;
  /** Records the module could not reserve since the previous read (no number); null when it cannot say. */
  unreserved: number | null;
  /** Snapshots: numbers other reads took since the previous snapshot (not lost; in no snapshot). */
  other_reads: number;
  /** All of the above. */
  total: number;
  /** The missing numbers, as ranges (both ends included), the first {@linkcode RANGES_CAP} of them. */
  ranges: SeqRange[];
  /** More ranges were missing than are listed. */
  ranges_capped: boolean;
}

/** The sequence accounting of a read (the `loss` field of `--json` results; a manifest's fields). */
export interface LossReport {
  /** The first sequence number passed on (null when none was). */
  first_seq: number | null;
  /** The last one passed on. */
  last_seq: number | null;
  /** Records passed on. */
  records: number;
  /** What is missing, by cause. */
  missing: MissingRecords;
  /** Records that came after a later one (passed on out of order; live reads only). */
  late: number;
  /** Bytes the framing skipped to stay in frame (torn and cut-short records). */
  skipped_bytes: number;
  /**
   * Numbers missing after the last one some CPU passed on: that CPU's reader stopped first, and its ring may
   * still hold them (the next read passes them on, or counts them missing). Not in `missing`; live reads of
   * several CPUs only.
   */
  pending?: SeqRange[];
}

/** What a read knows of before it began. */
export interface LossContext {
  /** The sequence number the read should start at: the previous read's last plus one, or 1 for a new run. */
  expect: number;
  /** The module's count of unreserved records when the previous read ended (0 for a new run); null: unknown. */
  failuresBefore: number | null;
  /** The module's count when this read ended; null: unknown. */
  failuresAfter: number | null;
  /** Numbers other reads took since the previous snapshot, as ranges (snapshots only). */
  otherReads?: readonly SeqRange[];
  /**
   * The module's last sequence number when the read began (its counters), when known: a read that passed
   * nothing on still knows what was written before it and is not in it.
   */
  sequenceBefore?: number;
  /**
   * A live read of several CPUs: numbers missing after the last one some CPU passed on are pending, not lost
   * (that CPU's reader may have stopped before them: docs/loss-accounting.md "What stapfr cannot know").
   */
  settleTail?: boolean;
  /** The previous read's pending numbers: missing before this read unless it passed them on (`settled`). */
  pendingBefore?: readonly SeqRange[];
  /** Snapshots: how many of the previous snapshot's pending numbers other reads passed on since. */
  otherSettled?: number;
}

/** The numbers from `a` to `b` (modulo 2^32, `b` after `a`), or 0 when `b` comes before `a`. */
function span(a: number, b: number): number {
  const d = (b - a) | 0;
  return d < 0 ? 0 : d + 1;
}

/**
 * The loss report of a read from its pipeline's report and what came before it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SequenceLedger } from "../read_path/ledger.ts";
 * const ledger = new SequenceLedger();
 * for (const s of [5, 6, 9]) ledger.note(s);
 * const report = {
 *   ledger,
 *   framing: { skipped_bytes: 0, resyncs: 0 },
 *   leftOut: { records: 0, bytes: 0 },
 *   lastRead: 9,
 *   lastByCpu: [9],
 *   settled: [],
 * };
 * const loss = lossReport(report, { expect: 1, failuresBefore: 0, failuresAfter: 2 });
 * assertEquals([loss.missing.before_read, loss.missing.during_read, loss.missing.unreserved], [4, 2, 2]);
 * assertEquals(loss.missing.ranges, [[1, 4], [7, 8]]);
 * ```
 */
export function lossReport(report: PipelineReport, context: LossContext): LossReport {
  const { ledger } = report;
  const first = ledger.first ?? null;
  const ranges: SeqRange[] = [];
  let beforeRead = 0;
  let otherReads = 0;
  // The read's first number, or (nothing read) one after the last the module had written when it began.
  const next = first ?? (context.sequenceBefore !== undefined ? (context.sequenceBefore + 1) >>> 0 : null);
  if (next !== null) {
    const first = next;
    const gap = span(context.expect, (first - 1) >>> 0);
    // Of the numbers before this read, those another read took since the previous snapshot are not lost.
    let taken = 0;
    for (const [a, b] of context.otherReads ?? []) {
      const from = ((a - context.expect) | 0) < 0 ? context.expect : a;
      const to = ((b - first) | 0) >= 0 ? (first - 1) >>> 0 : b;
      taken += span(from, to);
    }
    otherReads = Math.min(taken, gap);
    beforeRead = gap - otherReads;
    otherReads += context.otherSettled ?? 0;
    if (gap > 0) ranges.push([context.expect >>> 0, (first - 1) >>> 0]);
  }
  // Of the previous read's pending numbers, those this read did not pass on are missing before it.
  const settled = new Set(report.settled);
  let unsettled = 0;
  for (const [a, b] of context.pendingBefore ?? []) {
    let runStart: number | null = null;
    for (let n = a, i = 0; i < span(a, b); n = (n + 1) >>> 0, i++) {
      if (settled.has(n)) {
        if (runStart !== null) ranges.push([runStart, (n - 1) >>> 0]);
        runStart = null;
        continue;
      }
      unsettled++;
      runStart ??= n;
    }
    if (runStart !== null) ranges.push([runStart, b]);
  }
  beforeRead += unsettled;
  // Numbers missing after the last one some CPU passed on may still be in that CPU's ring: pending.
  let pending: SeqRange[] = [];
  if (context.settleTail) {
    const lasts = report.lastByCpu.filter((n): n is number => n !== undefined);
    if (lasts.length > 1) {
      const cutoff = lasts.reduce((m, n) => (((n - m) | 0) < 0 ? n : m));
      pending = ledger.missingAfter(cutoff);
    }
  }
  const pendingCount = pending.reduce((n, [a, b]) => n + span(a, b), 0);
  const inside = ledger.missingRanges(RANGES_CAP);
  ranges.push(...inside.ranges.flatMap(([a, b]): SeqRange[] => {
    // The pending part of a range is not missing (yet).
    const cut = pending.find(([pa]) => ((pa - a) | 0) >= 0 && ((b - pa) | 0) >= 0);
    if (!cut) return [[a, b]];
    return cut[0] === a ? [] : [[a, (cut[0] - 1) >>> 0]];
  }));
  const unreserved = context.failuresAfter !== null && context.failuresBefore !== null
    ? Math.max(0, context.failuresAfter - context.failuresBefore)
    : null;
  const during = ledger.missingCount - pendingCount;
  // Of those, the numbers the module had written before the read began (docs/loss-accounting.md, items 2, 3).
  let backlog: number | null = null;
  if (context.sequenceBefore !== undefined && first !== null) {
    const limit = context.sequenceBefore;
    let pendingBacklog = 0;
    for (const [a, b] of pending) pendingBacklog += span(a, ((b - limit) | 0) > 0 ? limit : b);
    backlog = ledger.missingUpTo(limit) - pendingBacklog;
  }
  const missing: MissingRecords = {
    before_read: beforeRead,
    during_read: during,
    backlog,
    unreserved,
    other_reads: otherReads,
    total: beforeRead + during + (unreserved ?? 0) + otherReads,
    ranges: ranges.slice(0, RANGES_CAP),
    ranges_capped: inside.capped || ranges.length > RANGES_CAP,
  };
  return {
    first_seq: first,
    last_seq: ledger.last ?? null,
    records: ledger.records,
    missing,
    late: ledger.late,
    skipped_bytes: report.framing.skipped_bytes,
    pending,
  };
}

function rangesText(ranges: readonly SeqRange[], capped: boolean, limit = 3): string {
  const shown = ranges.slice(0, limit).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  return `seq ${shown.join(", ")}${capped || ranges.length > limit ? ", …" : ""}`;
}

/**
 * The first `count` numbers of sorted `ranges`, and the rest; `complete` is false when the ranges ran out first
 * (they were capped).
 */
function splitRanges(
  ranges: readonly SeqRange[],
  count: number,
): { head: SeqRange[]; tail: SeqRange[]; complete: boolean } {
  const head: SeqRange[] = [];
  const tail: SeqRange[] = [];
  let left = count;
  for (const [a, b] of ranges) {
    const n = span(a, b);
    if (left >= n) head.push([a, b]);
    else if (left === 0) tail.push([a, b]);
    else {
      head.push([a, (a + left - 1) >>> 0]);
      tail.push([(a + left) >>> 0, b]);
    }
    left = Math.max(0, left - n);
  }
  return { head, tail, complete: left === 0 };
}

/** "1 record", "2 records". */
export const records = (n: number): string => `${n} ${n === 1 ? "record" : "records"}`;
/** "was" for one, "were" for more. */
export const were = (n: number): string => n === 1 ? "was" : "were";

/**
 * One line for people (stderr) saying what a read lost and why, or undefined when nothing is missing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const missing = { before_read: 0, during_read: 160, backlog: 158, unreserved: 0, other_reads: 0, total: 160, ranges: [[247, 404], [500, 501]] as [number, number][], ranges_capped: false };
 * assertEquals(
 *   lossLine({ first_seq: 1, last_seq: 631, records: 471, missing, late: 0, skipped_bytes: 0 }, "dump"),
 *   "stapfr: 158 records (seq 247–404), written before this dump began, did not come through: the ring " +
 *     "overwrote them, or stapio dropped them with a backlog it could not frame; 2 records (seq 500–501) were " +
 *     "lost while reading: SystemTap dropped them (docs/loss-accounting.md)",
 * );
 * ```
 */
export function lossLine(loss: LossReport, what = "read"): string | undefined {
  const m = loss.missing;
  if (m.total === 0) return undefined;
  const parts: string[] = [];
  const before = m.ranges.filter(([a]) => loss.first_seq === null || ((a - loss.first_seq) | 0) < 0);
  const inside = m.ranges.filter((r) => !before.includes(r));
  if (m.before_read > 0) {
    parts.push(
      `${records(m.before_read)} (${rangesText(before, false)}) ${
        were(m.before_read)
      } overwritten before this ${what} began ` +
        "(the ring wrapped, or a reader that did not finish took them)",
    );
  }
  if (m.other_reads > 0) {
    parts.push(
      `${records(m.other_reads)} ${were(m.other_reads)} taken by other reads since the previous snapshot`,
    );
  }
  // Inside the read, the numbers written before it began come first (docs/loss-accounting.md, items 2, 3).
  const backlog = m.backlog ?? 0;
  const dropped = m.during_read - backlog;
  const split = splitRanges(inside, backlog);
  if (backlog > 0) {
    parts.push(
      `${records(backlog)} (${
        rangesText(split.head, !split.complete)
      }), written before this ${what} began, ` +
        "did not come through: the ring overwrote them, or stapio dropped them with a backlog it could not frame",
    );
  }
  if (dropped > 0) {
    parts.push(
      `${records(dropped)} (${rangesText(split.tail, m.ranges_capped)}) ${
        were(dropped)
      } lost while reading: SystemTap dropped them`,
    );
  }
  if ((m.unreserved ?? 0) > 0) {
    parts.push(
      `${records(m.unreserved!)} could not be reserved by the module (full ring, no sequence number)`,
    );
  }
  return `stapfr: ${parts.join("; ")} (docs/loss-accounting.md)`;
}
