/**
 * Units the command line takes: sizes, rotation specs and recorder names, with the constraints of
 * the real SystemTap host and of the simulator (docs/architecture.md, "The command line").
 *
 * Pure functions: each parse either returns a value or throws a {@linkcode UsageError} with a one-line reason.
 * @module
 */
import { UsageError } from "./errors.ts";

/** One mebibyte, the unit of `stap -s`, `staprun -b` and `-S`. */
export const MiB = 1024 * 1024;
/** The simulator's granularity: one relay sub-buffer, a page. */
export const PAGE = 4096;

/** Which host a value is meant for: the real one needs whole MiB, the simulator takes multiples of 4K. */
export type HostKind = "real" | "sim";

const SIZE_RE = /^(\d+(?:\.\d+)?)([KMG]?)(i?B)?$/i;
const UNIT: Record<string, number> = { "": MiB, K: 1024, M: MiB, G: 1024 * MiB };

/**
 * Parses a size: `512K`, `16M`, `1G` (binary units), a bare number being MiB as in stap.
 *
 * @example Sizes in bytes
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseSize("512K"), 524288);
 * assertEquals(parseSize("16"), 16 * 1024 * 1024);
 * ```
 */
export function parseSize(text: string, what = "size"): number {
  const m = SIZE_RE.exec(text.trim());
  if (!m && /^-\d/.test(text.trim())) {
    throw new UsageError(`Invalid ${what} "${text}": a size cannot be negative`);
  }
  if (!m) throw new UsageError(`Invalid ${what} "${text}": expected a number with K, M or G, like "16M"`);
  // "100B" is bytes; a bare number is MiB, as in stap.
  const bytes = Number(m[1]) * (m[2] === "" && m[3] ? 1 : UNIT[m[2].toUpperCase()]);
  if (!Number.isInteger(bytes)) {
    throw new UsageError(`Invalid ${what} "${text}": not a whole number of bytes`);
  }
  return bytes;
}

/**
 * Formats a byte count the way the size flags take it (`16M`, `512K`, `1.5G`, `100B`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals([formatSize(16 * 1024 * 1024), formatSize(4096), formatSize(100)], ["16M", "4K", "100B"]);
 * ```
 */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [["G", 1024 * MiB], ["M", MiB], ["K", 1024]] as const) {
    if (bytes >= size && bytes % (size / 16) === 0) return `${+(bytes / size).toFixed(4)}${unit}`;
  }
  return `${bytes}B`;
}

function checkGranularity(bytes: number, text: string, what: string, host: HostKind): void {
  if (host === "real" && bytes % MiB !== 0) {
    throw new UsageError(`Invalid ${what} "${text}": SystemTap takes whole MiB, like "1M" or "16M"`);
  }
  if (host === "sim" && bytes % PAGE !== 0) {
    throw new UsageError(`Invalid ${what} "${text}": the simulator takes multiples of 4K`);
  }
}

/**
 * Parses the per-CPU buffer size of a memory recorder (`stap -s`): 1–4095 MiB on a real host; on the
 * simulator also multiples of 4K down to one page.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(parseBufferSize("16M", "real"), 16 * 1024 * 1024);
 * assertEquals(parseBufferSize("64K", "sim"), 65536);
 * assertThrows(() => parseBufferSize("1.5M", "real"));
 * ```
 */
export function parseBufferSize(text: string, host: HostKind): number {
  const bytes = parseSize(text, "buffer size");
  checkGranularity(bytes, text, "buffer size", host);
  const min = host === "real" ? MiB : PAGE;
  if (bytes < min || bytes > 4095 * MiB) {
    throw new UsageError(`Invalid buffer size "${text}": expected ${formatSize(min)} to 4095M per CPU`);
  }
  return bytes;
}

/** A file recorder's rotation: switch files at `size` bytes, keep at most `count` (undefined: keep all). */
export interface RotateSpec {
  /** Bytes per file before switching to the next. */
  size: number;
  /** Files kept per stream; older ones are deleted at each switch. Undefined keeps every file. */
  count?: number;
}

/**
 * Parses `SIZE[,COUNT]` for `--rotate`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseRotate("1M,2", "real"), { size: 1048576, count: 2 });
 * assertEquals(parseRotate("64K", "sim"), { size: 65536, count: undefined });
 * ```
 */
export function parseRotate(text: string, host: HostKind): RotateSpec {
  const [sizeText, countText, ...rest] = text.split(",");
  if (rest.length > 0 || sizeText === "") {
    throw new UsageError(`Invalid rotation "${text}": expected SIZE[,COUNT], like "1M,2"`);
  }
  const size = parseSize(sizeText, "rotation size");
  checkGranularity(size, sizeText, "rotation size", host);
  if (size === 0 || size > 4095 * MiB) {
    throw new UsageError(
      `Invalid rotation size "${sizeText}": expected ${host === "real" ? "1M" : "4K"} to 4095M`,
    );
  }
  if (countText === undefined) return { size, count: undefined };
  if (!/^\d+$/.test(countText) || Number(countText) < 1 || Number(countText) > 100_000) {
    throw new UsageError(`Invalid rotation count "${countText}": expected a whole number from 1 to 100000`);
  }
  return { size, count: Number(countText) };
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const DURATION_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration (`500ms`, `10s`, `5m`, `2h`; a bare number is seconds) into milliseconds.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseDuration("500ms"), 500);
 * assertEquals(parseDuration("2h"), 7_200_000);
 * ```
 */
export function parseDuration(text: string, what = "duration"): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) {
    throw new UsageError(`Invalid ${what} "${text}": expected a number with ms, s, m, h or d, like "10s"`);
  }
  const ms = Number(m[1]) * DURATION_UNIT[m[2] ?? "s"];
  if (!Number.isInteger(ms)) {
    throw new UsageError(`Invalid ${what} "${text}": not a whole number of milliseconds`);
  }
  return ms;
}

/** The longest recorder name: `stap_fr_` plus 40 stays within the kernel's 55-character module names. */
export const MAX_NAME_LENGTH = 40;
const NAME_RE = /^[a-z][a-z0-9_]*$/;

/**
 * Checks a recorder name: `[a-z][a-z0-9_]*`, at most 40 characters. Returns it unchanged.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * validateName("vfs_watch");
 * assertThrows(() => validateName("../x"));
 * ```
 */
export function validateName(name: string): string {
  if (name.length > MAX_NAME_LENGTH) {
    throw new UsageError(`Invalid recorder name "${name}": at most ${MAX_NAME_LENGTH} characters`);
  }
  if (!NAME_RE.test(name)) {
    throw new UsageError(
      `Invalid recorder name "${name}": use a lower-case letter, then lower-case letters, digits or "_"`,
    );
  }
  return name;
}

/**
 * The kernel module name of a recorder, predictable so `gc` and a person with `staprun -A` can find it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(moduleName("io"), "stap_fr_io");
 * ```
 */
export function moduleName(name: string): string {
  return `stap_fr_${name}`;
}

/** Retention bounds of a recorder's snapshots (lib/snapshots/retention.ts applies them); an absent one does not apply. */
export interface RetentionBounds {
  /** Keep at most this many snapshots. */
  keep?: number;
  /** Delete snapshots older than this (milliseconds). */
  maxAgeMs?: number;
  /** Keep at most this many bytes of snapshots. */
  maxSize?: number;
}

/** Whether any bound is set. */
export function hasBounds(bounds: RetentionBounds | undefined): bounds is RetentionBounds {
  return bounds !== undefined &&
    (bounds.keep !== undefined || bounds.maxAgeMs !== undefined || bounds.maxSize !== undefined);
}
