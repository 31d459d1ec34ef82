/**
 * The small helpers of the command adapters that need no library, so that the quick commands (`list`,
 * `status`) load them without it: the formatters of the human output (sizes, ages, tables, how to name
 * stapfr in a hint) and the one recorder name a command takes.
 * @module
 */
import type { Context } from "../cli/context.ts";
import { formatSize, validateName } from "../units.ts";
import { UsageError } from "../errors.ts";
import { terminalText } from "../terminal_text.ts";

/** A byte count for people: `512B`, `1.5M`. */
export function humanBytes(bytes: number | null): string {
  if (bytes === null) return "-";
  if (bytes < 1024) return `${bytes}B`;
  for (const [unit, size] of [["G", 1 << 30], ["M", 1 << 20], ["K", 1 << 10]] as const) {
    if (bytes >= size) return `${+(bytes / size).toFixed(bytes >= 10 * size ? 0 : 1)}${unit}`;
  }
  return formatSize(bytes);
}

/**
 * How long ago an ISO time was, compactly: `45s`, `12m`, `3h`, `2d`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(age("2026-01-01T00:00:00Z", Date.parse("2026-01-01T03:10:00Z")), "3h");
 * ```
 */
export function age(iso: string | null, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Lays out rows as left-aligned columns separated by two spaces, control characters escaped. */
export function table(header: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map(terminalText));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** `stapfr` or `stapfr --sim`, for hints that name a command. */
export function self(ctx: Context): string {
  return ctx.sim ? "stapfr --sim" : "stapfr";
}

/** The one recorder name a command takes. */
export function oneName(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError("Missing recorder name");
  return validateName(positionals[0]);
}
