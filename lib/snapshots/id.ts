/**
 * Snapshot IDs: the UTC time of the capture to the second, then a sequence number for captures of one recorder
 * within the same second (`20261201T051200Z-001`). They sort by time as plain strings, name a directory, and
 * are safe in a shell without quoting.
 * @module
 */
import { UsageError } from "../errors.ts";

const ID_RE = /^(\d{8}T\d{6}Z)-(\d{3,})$/;

/**
 * The time part of an ID for a moment.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(idStamp(Date.UTC(2026, 11, 1, 5, 12, 0, 250)), "20261201T051200Z");
 * ```
 */
export function idStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

/**
 * The ID with the given time part and sequence number.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(formatId("20261201T051200Z", 2), "20261201T051200Z-002");
 * ```
 */
export function formatId(stamp: string, seq: number): string {
  return `${stamp}-${String(seq).padStart(3, "0")}`;
}

/**
 * Whether a name is a snapshot ID (and not a temporary directory or another file of the store).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * assert(isId("20261201T051200Z-001"));
 * assert(!isId(".partial-20261201T051200Z-001-4242"));
 * ```
 */
export function isId(name: string): boolean {
  return ID_RE.test(name);
}

/** The capture time of an ID in milliseconds since the epoch. */
export function idTime(id: string): number {
  const m = ID_RE.exec(id);
  if (!m) return NaN;
  const s = m[1];
  return Date.UTC(
    +s.slice(0, 4),
    +s.slice(4, 6) - 1,
    +s.slice(6, 8),
    +s.slice(9, 11),
    +s.slice(11, 13),
    +s.slice(13, 15),
  );
}

/** Compares two IDs by time, then sequence (sequence numbers may pass 999 and grow a digit). */
export function compareIds(a: string, b: string): number {
  const [sa, na] = [a.slice(0, 16), Number(a.slice(17))];
  const [sb, nb] = [b.slice(0, 16), Number(b.slice(17))];
  return sa < sb ? -1 : sa > sb ? 1 : na - nb;
}

/** A snapshot reference as given to `snapshots show` and `verify`: `ID` or `NAME/ID`. */
export interface SnapshotRef {
  /** The recorder's name, when given. */
  name?: string;
  /** The snapshot ID. */
  id: string;
}

const REF_RE = /^(?:([a-z][a-z0-9_]{0,39})\/)?(\d{8}T\d{6}Z-\d{3,})$/;

/**
 * Reads a snapshot reference, `ID` or `NAME/ID` and nothing else: anything more (`r1/ID/../../etc`) is refused
 * whole, never cut down to what looks right.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(parseRef("web/20261201T051200Z-001"), { name: "web", id: "20261201T051200Z-001" });
 * assertEquals(parseRef("20261201T051200Z-001"), { id: "20261201T051200Z-001" });
 * assertThrows(() => parseRef("web/20261201T051200Z-001/../../etc"));
 * ```
 */
export function parseRef(ref: string): SnapshotRef {
  const m = REF_RE.exec(ref);
  if (!m) {
    throw new UsageError(
      `Invalid snapshot reference "${ref}": expected ID or NAME/ID, like "web/20261201T051200Z-001"`,
    );
  }
  return m[1] === undefined ? { id: m[2] } : { name: m[1], id: m[2] };
}
