/**
 * What the snapshot commands share: the store for the global options and `--store`, retention flags, and the
 * listing table.
 * @module
 */
import type { Context } from "../cli/context.ts";
import type { Parsed } from "../cli/parse.ts";
import { UsageError } from "../errors.ts";
import type { RetentionBounds } from "../units.ts";
import type { SnapshotSummary } from "../snapshots/ops.ts";
import type { BrokenSnapshot } from "../snapshots/store.ts";
import { parseDuration, parseSize } from "../units.ts";
import { age, humanBytes, recordersFor, table } from "./common.ts";
import type { Recorders } from "../api/recorders.ts";

/** The recorders with the store given by `--store`, `$STAPFR_STORE`, else `STATE_DIR/snapshots`. */
export function recordersWithStore(ctx: Context, values: Parsed["values"]): Recorders {
  const store = values.store as string | undefined;
  if (store === "") throw new UsageError(`Invalid "--store": an empty path`);
  return recordersFor(ctx, store);
}

/**
 * Reads the three retention flags (named as each command names them); undefined when none is given. A bound
 * of zero is refused unless `zero` allows it: applied after each new snapshot (start, watch) it would delete
 * every snapshot as soon as it is taken, after draining the ring for it. `snapshots prune` allows it: there
 * it is the explicit request to delete what is there now (docs/snapshots.md "Retention").
 */
export function retentionFlags(
  values: Parsed["values"],
  names: { keep: string; maxAge: string; maxSize: string },
  options: { zero?: boolean } = {},
): RetentionBounds | undefined {
  const { keep, maxAge, maxSize } = names;
  const bounds: RetentionBounds = {};
  const nonZero = (flag: string, value: number): number => {
    if (value === 0 && !options.zero) {
      throw new UsageError(
        `Invalid "--${flag}" "${values[flag]}": it would delete every snapshot as soon as it is taken`,
      );
    }
    return value;
  };
  if (values[keep] !== undefined) {
    const text = values[keep] as string;
    if (!/^\d+$/.test(text)) throw new UsageError(`Invalid "--${keep}" "${text}": expected a whole number`);
    bounds.keep = nonZero(keep, Number(text));
  }
  if (values[maxAge] !== undefined) {
    bounds.maxAgeMs = nonZero(maxAge, parseDuration(values[maxAge] as string, `"--${maxAge}"`));
  }
  if (values[maxSize] !== undefined) {
    bounds.maxSize = nonZero(maxSize, parseSize(values[maxSize] as string, `"--${maxSize}"`));
  }
  return Object.keys(bounds).length > 0 ? bounds : undefined;
}

/**
 * The flags column of a listing: `W` wrapped (older data lost), `G` a gap before it, `D` its data files are
 * damaged (missing, a link, or of the wrong size; `snapshots verify` says which), then `U` not shipped yet or
 * `S` shipped (docs/fleet.md).
 */
function flags(s: SnapshotSummary): string {
  const shipped = s.shipping === "pending" ? "U" : s.shipping === "shipped" ? "S" : "-";
  return `${s.wrapped ? "W" : "-"}${s.contiguous ? "-" : "G"}${s.damaged ? "D" : "-"}${shipped}`;
}

/** The human listing of snapshots. */
export function snapshotTable(rows: readonly SnapshotSummary[]): string {
  return table(
    ["ID", "RECORDER", "TIME", "AGE", "SIZE", "FLAGS", "REASON"],
    rows.map((s) => [
      s.id,
      s.recorder,
      s.time.replace(/\.\d+Z$/, "Z"),
      age(s.time),
      humanBytes(s.bytes),
      flags(s),
      s.reason ?? (s.trigger === "user" ? "-" : `(${s.trigger})`),
    ]),
  );
}

/** The stderr lines for directories of the store that were not read (nothing in them was listed or changed). */
export function brokenLines(broken: readonly BrokenSnapshot[]): string[] {
  return broken.map((b) => `stapfr: skipped "${b.path}": ${b.reason}`);
}
