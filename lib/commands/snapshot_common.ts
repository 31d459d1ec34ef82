/**
 * What the snapshot commands share: the store for the global options and `--store`, retention flags, and the
 * listing table.
 * @module
 */
import type { Context } from "../cli/context.ts";
import type { Parsed } from "../cli/args.ts";
import { UsageError } from "../errors.ts";
import type { RetentionBounds } from "../snapshots/retention.ts";
import type { SnapshotSummary } from "../snapshots/ops.ts";
import { parseDuration, parseSize } from "../units.ts";
import { age, humanBytes, recordersFor, table } from "./common.ts";
import type { Recorders } from "../recorder.ts";

/** The `--store DIR` flag, for the commands that take it. */
export const STORE_FLAG = { store: { type: "string" } } as const;

/** The recorders with the store given by `--store`, `$STAPFR_STORE`, else `STATE_DIR/snapshots`. */
export function recordersWithStore(ctx: Context, values: Parsed["values"]): Recorders {
  const store = values.store as string | undefined;
  if (store === "") throw new UsageError(`Invalid "--store": an empty path`);
  return recordersFor(ctx, store);
}

/** Reads the three retention flags (named as each command names them); undefined when none is given. */
export function retentionFlags(
  values: Parsed["values"],
  keep: string,
  maxAge: string,
  maxSize: string,
): RetentionBounds | undefined {
  const bounds: RetentionBounds = {};
  if (values[keep] !== undefined) {
    const text = values[keep] as string;
    if (!/^\d+$/.test(text)) throw new UsageError(`Invalid "--${keep}" "${text}": expected a whole number`);
    bounds.keep = Number(text);
  }
  if (values[maxAge] !== undefined) {
    bounds.maxAgeMs = parseDuration(values[maxAge] as string, `"--${maxAge}"`);
  }
  if (values[maxSize] !== undefined) bounds.maxSize = parseSize(values[maxSize] as string, `"--${maxSize}"`);
  return Object.keys(bounds).length > 0 ? bounds : undefined;
}

/**
 * The flags column of a listing: `W` wrapped (older data lost), `G` a gap before it, then `U` not shipped yet
 * or `S` shipped (docs/fleet.md).
 */
function flags(s: SnapshotSummary): string {
  const shipped = s.shipping === "pending" ? "U" : s.shipping === "shipped" ? "S" : "-";
  return `${s.wrapped ? "W" : "-"}${s.contiguous ? "-" : "G"}${shipped}`;
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
