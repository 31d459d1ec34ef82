/**
 * stap's associative arrays (`map.c`/`map-gen.c`): entries kept in insertion order (new keys go to the
 * tail, so an unsorted foreach sees them oldest first), a fixed capacity (the declared size or
 * MAXMAPENTRIES), and with `%` the oldest entry is reused when full. Setting a value to 0 or "" keeps the key.
 * @module
 */
import type { Scalar } from "./values.ts";
import type { Stat } from "./aggregates.ts";

/** A value stored in an array: a scalar, or a statistic for arrays of statistics. */
export type MapValue = Scalar | Stat;

/** One entry: its keys (one per index) and value. */
export interface MapEntry {
  keys: Scalar[];
  value: MapValue;
}

/** An array is full (the caller raises stap's "Array overflow" error). */
export class MapFullError extends Error {}

/** One global associative array. */
export class StapMap {
  readonly entries = new Map<Scalar, MapEntry>();

  constructor(readonly arity: number, readonly capacity: number, readonly wrap: boolean) {}

  /** The lookup key of a key tuple (the key itself for one index). */
  static keyOf(keys: Scalar[]): Scalar {
    if (keys.length === 1) return keys[0];
    let k = "";
    for (let i = 0; i < keys.length; i++) {
      const v = keys[i];
      k += (typeof v === "string" ? "s" : "n") + String(v) + "\0";
    }
    return k;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry of a lookup key, or undefined. */
  get(key: Scalar): MapEntry | undefined {
    return this.entries.get(key);
  }

  /** The entry of a key, created (with `initial`) when missing; throws MapFullError when full. */
  ensure(key: Scalar, keys: () => Scalar[], initial: () => MapValue): MapEntry {
    let e = this.entries.get(key);
    if (e !== undefined) return e;
    if (this.entries.size >= this.capacity) {
      if (!this.wrap) throw new MapFullError();
      const oldest = this.entries.keys().next().value as Scalar;
      this.entries.delete(oldest);
    }
    e = { keys: keys(), value: initial() };
    this.entries.set(key, e);
    return e;
  }

  delete(key: Scalar): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
