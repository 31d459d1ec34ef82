/**
 * What the command adapters share: the {@linkcode Recorders} for the global options, sinks to stdout, and
 * the small formatters of the human output.
 * @module
 */
import type { Context } from "../cli/context.ts";
import { writeAll } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { Recorders } from "../recorder.ts";
import type { ByteSink } from "../readers/concat.ts";
import { borrowing } from "../api/sink.ts";
import { formatSize, validateName } from "../units.ts";
import { terminalText } from "../terminal_text.ts";
import { damageMessage, type DamageReport } from "../readers/clean_sink.ts";
import { lossLine, type LossReport } from "../recorder/loss.ts";

/**
 * Tells people on stderr what a read lost, counted from the sequence numbers (docs/loss-accounting.md), and
 * what the line cleaner cut from text: one line each, only when there is something to say.
 */
export async function readReport(
  ctx: Context,
  result: DamageReport & { loss?: LossReport | null },
  what: string,
): Promise<void> {
  const cut = damageMessage(result);
  if (cut) await ctx.err(cut);
  const lost = result.loss ? lossLine(result.loss, what) : undefined;
  if (lost) await ctx.err(lost);
}

/** The recorders for the global options (`--sim`, `--state-dir`) and, for snapshots, `--store`. */
export function recordersFor(ctx: Context, store?: string): Recorders {
  return new Recorders({ sim: ctx.sim, stateDir: ctx.stateDir, env: ctx.io.env, knobs: ctx.knobs, store });
}

/** A sink writing to stdout (at once: it borrows the engine's buffers, no copy). */
export function stdoutSink(ctx: Context): ByteSink {
  return borrowing((chunk) => writeAll(ctx.io.stdout, chunk));
}

/** Forwards stapio's diagnostics (module warnings and errors) to stderr. */
export function diagnostics(ctx: Context): (line: string) => void {
  return (line) => void ctx.err(line).catch(() => {});
}

/** The one recorder name a command takes. */
export function oneName(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError("Missing recorder name");
  return validateName(positionals[0]);
}

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
