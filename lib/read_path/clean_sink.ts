/**
 * The line cleaner around a byte sink, as the read operations use it (`dump`, `attach`, `tail`, `stop`), and
 * the report of what it cut: fields for `--json` and one line for people (docs/real-ring.md "What stapfr
 * cuts"). With `raw` the bytes pass as stapio wrote them and nothing is counted.
 * @module
 */
import type { ByteSink } from "./concat.ts";
import { type DamageReason, LineCleaner } from "./clean.ts";

/** What was cut from a read's output (the `--json` fields). */
export interface DamageReport {
  /** Lines cut from the output. */
  damaged_lines: number;
  /** Bytes cut from the output. */
  damaged_bytes: number;
  /** Lines cut, by reason: `binary` bytes, `invalid_utf8`, `stale` (the torn start of a wrapped ring). */
  damage: Record<DamageReason, number>;
  /** The output was passed on raw (nothing cut, nothing counted). */
  raw: boolean;
}

/** A sink that cleans what it is given before passing it on. */
export interface CleanedSink {
  sink: ByteSink;
  /** Passes on a clean last line that had no newline; call once, when the stream has ended. */
  finish(): Promise<void>;
  /** What was cut so far. */
  report(): DamageReport;
}

/**
 * Wraps `sink` in a {@linkcode LineCleaner} (or nothing, with `raw`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * let text = "";
 * const cleaned = cleanedSink((c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
 * await cleaned.sink(new TextEncoder().encode("ok\nbad\0\nok"));
 * await cleaned.finish();
 * assertEquals(text, "ok\nok");
 * assertEquals(cleaned.report().damaged_lines, 1);
 * ```
 */
export function cleanedSink(sink: ByteSink, options: { raw?: boolean } = {}): CleanedSink {
  const raw = options.raw ?? false;
  const cleaner = raw ? undefined : new LineCleaner();
  let finished = false;
  return {
    sink: async (chunk, more) => {
      if (!cleaner) return await sink(chunk);
      for (const piece of cleaner.pieces(chunk, more)) if (piece.length > 0) await sink(piece);
    },
    finish: async () => {
      if (!cleaner || finished) return;
      finished = true;
      const out = cleaner.finish();
      if (out.length > 0) await sink(out);
    },
    report: () => {
      const counts = cleaner?.counts;
      return {
        damaged_lines: counts?.damaged_lines ?? 0,
        damaged_bytes: counts?.damaged_bytes ?? 0,
        damage: counts?.reasons ?? { binary: 0, invalid_utf8: 0, stale: 0 },
        raw,
      };
    },
  };
}

/**
 * The line for people when something was cut, else undefined.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const report = { damaged_lines: 3, damaged_bytes: 412, damage: { binary: 1, invalid_utf8: 0, stale: 2 }, raw: false };
 * assertEquals(
 *   damageMessage(report),
 *   'stapfr: Cut 3 damaged lines (412 bytes) from the output: 1 with binary bytes, 2 stale or torn at the start of a wrapped ring; "--raw" shows the bytes as stapio wrote them',
 * );
 * ```
 */
export function damageMessage(report: DamageReport): string | undefined {
  if (report.damaged_lines === 0) return undefined;
  const lines = (n: number): string => `${n} damaged ${n === 1 ? "line" : "lines"}`;
  const why = [
    report.damage.binary ? `${report.damage.binary} with binary bytes` : "",
    report.damage.invalid_utf8 ? `${report.damage.invalid_utf8} not UTF-8` : "",
    report.damage.stale ? `${report.damage.stale} stale or torn at the start of a wrapped ring` : "",
  ].filter((s) => s !== "").join(", ");
  return `stapfr: Cut ${
    lines(report.damaged_lines)
  } (${report.damaged_bytes} bytes) from the output: ${why}; ` +
    `"--raw" shows the bytes as stapio wrote them`;
}
