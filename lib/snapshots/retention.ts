/**
 * Retention: which snapshots to delete so that every bound holds: keep at most N, none older than a duration,
 * at most S bytes in all. Oldest go first; a bound holds per recorder. A pure choice, so that `snapshots prune`,
 * `--dry-run` and the bounds applied after each new snapshot agree. See docs/snapshots.md "Retention".
 * @module
 */
import type { RetentionBounds } from "../units.ts";

/** What retention needs to know of a snapshot. */
export interface RetentionItem {
  /** The snapshot ID. */
  id: string;
  /** Capture time, ms since the epoch. */
  time: number;
  /** Its size in bytes. */
  bytes: number;
  /**
   * Held back: not shipped yet to where it was meant to go (docs/fleet.md "Retention"). Only the size bound
   * may take it (a full disk loses the recording too); the count and age bounds leave it.
   */
  held?: boolean;
}

/**
 * The snapshots to delete (a subset of `items`, which are oldest first), oldest first.
 *
 * @example Keep two, and nothing older than an hour
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const now = Date.UTC(2026, 11, 1, 12);
 * const items = [90, 50, 20, 5].map((min, i) => ({ id: `s${i}`, time: now - min * 60_000, bytes: 10 }));
 * assertEquals(selectPrunable(items, { keep: 2, maxAgeMs: 3_600_000 }, now).map((s) => s.id), ["s0", "s1"]);
 * ```
 *
 * @example A snapshot not shipped yet is held back from the count and age bounds, not from the size bound
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const now = Date.UTC(2026, 11, 1, 12);
 * const items = [90, 50, 20, 5].map((min, i) => ({ id: `s${i}`, time: now - min * 60_000, bytes: 10, held: i === 0 }));
 * assertEquals(selectPrunable(items, { keep: 2 }, now).map((s) => s.id), ["s1", "s2"]);
 * assertEquals(selectPrunable(items, { maxSize: 30 }, now).map((s) => s.id), ["s0"]);
 * ```
 */
export function selectPrunable<T extends RetentionItem>(
  items: readonly T[],
  bounds: RetentionBounds,
  now: number,
): T[] {
  let total = items.reduce((s, i) => s + i.bytes, 0);
  let left = items.length;
  const doomed: T[] = [];
  for (const item of items) {
    const tooMany = bounds.keep !== undefined && left > bounds.keep;
    const tooOld = bounds.maxAgeMs !== undefined && now - item.time > bounds.maxAgeMs;
    const tooBig = bounds.maxSize !== undefined && total > bounds.maxSize;
    if (!tooMany && !tooOld && !tooBig) continue;
    if (item.held && !tooBig) continue;
    doomed.push(item);
    total -= item.bytes;
    left--;
  }
  return doomed;
}
