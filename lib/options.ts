/**
 * Checks of library options where they come in: each names the option and its unit and says what it got, as an
 * {@linkcode OptionTypeError} (the wrong type) or an {@linkcode OptionRangeError} (out of range), both with
 * `code: "invalid_option"`, before anything is changed. The command line has checked its flags already; these
 * catch what TypeScript cannot (a value from JSON, a computed one, a caller in plain JavaScript).
 * @module
 */
import { OptionRangeError, OptionTypeError } from "./errors.ts";
import { formatSize } from "./units.ts";

/** How a value reads in a message: strings quoted, numbers as they are, anything else by its kind. */
export function described(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  return `an ${typeof value}`;
}

function typeError(option: string, expected: string, value: unknown): OptionTypeError {
  return new OptionTypeError(
    option,
    `Invalid option "${option}": expected ${expected}, got ${described(value)}`,
  );
}

function rangeError(option: string, expected: string, value: unknown): OptionRangeError {
  return new OptionRangeError(
    option,
    `Invalid option "${option}": expected ${expected}, got ${described(value)}`,
  );
}

/** An options argument: an object, or nothing (then `{}`). */
export function optionsObject<T extends object>(value: T | undefined, what = "options"): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw typeError(what, "an object", value);
  }
  return value;
}

/** A string option (`nonEmpty`: not ""); undefined passes when not `required`. */
export function stringOption(
  value: unknown,
  option: string,
  options: { required?: boolean; nonEmpty?: boolean; what?: string } = {},
): string | undefined {
  if (value === undefined && !options.required) return undefined;
  const what = options.what ?? (options.nonEmpty ? "a non-empty string" : "a string");
  if (typeof value !== "string") throw typeError(option, what, value);
  if (options.nonEmpty && value === "") throw rangeError(option, what, value);
  return value;
}

/** A boolean option; undefined passes. */
export function booleanOption(value: unknown, option: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw typeError(option, "true or false", value);
  return value;
}

/** A function option; undefined passes. */
export function functionOption<T>(value: T | undefined, option: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw typeError(option, "a function", value);
  return value;
}

/** An `AbortSignal` option; undefined passes. */
export function signalOption(value: unknown, option = "signal"): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw typeError(option, "an AbortSignal", value);
  return value;
}

/** An array of strings; undefined passes. */
export function stringsOption(value: unknown, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw typeError(option, "an array of strings", value);
  }
  return value;
}

/** The range of a whole-number option and the unit it is counted in. */
export interface WholeRange {
  /** The smallest value allowed. */
  min: number;
  /** The largest value allowed. */
  max: number;
  /** The unit, plural (`bytes`, `milliseconds`, `lines`). */
  unit: string;
  /** A value must be a multiple of this (sizes on the real host: a MiB). */
  multipleOf?: number;
}

/** How a range reads: `1 to 3600000 milliseconds`, `1048576 to 4293918720 bytes (1M to 4095M) in whole MiB`. */
function rangeText(r: WholeRange): string {
  const bytes = r.unit === "bytes";
  const sizes = bytes ? ` (${formatSize(r.min)} to ${formatSize(r.max)})` : "";
  const multiple = r.multipleOf ? `, a multiple of ${bytes ? formatSize(r.multipleOf) : r.multipleOf}` : "";
  return `a whole number${r.unit ? ` of ${r.unit}` : ""} from ${r.min} to ${r.max}${sizes}${multiple}`;
}

/**
 * A whole-number option within `range`; undefined passes unless `required`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { OptionRangeError, OptionTypeError } from "./errors.ts";
 * const range = { min: 1, max: 100, unit: "lines" };
 * assertEquals(wholeOption(10, "lines", range), 10);
 * assertThrows(() => wholeOption(-3, "lines", range), OptionRangeError, 'Invalid option "lines": expected a whole number of lines from 1 to 100, got -3');
 * assertThrows(() => wholeOption("x", "lines", range), OptionTypeError);
 * ```
 */
export function wholeOption(
  value: unknown,
  option: string,
  range: WholeRange,
  required = false,
): number | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== "number") throw typeError(option, rangeText(range), value);
  if (
    !Number.isInteger(value) || value < range.min || value > range.max ||
    (range.multipleOf !== undefined && value % range.multipleOf !== 0)
  ) {
    throw rangeError(option, rangeText(range), value);
  }
  return value;
}

/** A number option (not necessarily whole) within `[min, max]`; undefined passes. */
export function numberOption(
  value: unknown,
  option: string,
  range: { min: number; max: number; unit: string },
): number | undefined {
  if (value === undefined) return undefined;
  const expected = `a number of ${range.unit} from ${range.min} to ${range.max}`;
  if (typeof value !== "number") throw typeError(option, expected, value);
  if (!Number.isFinite(value) || value < range.min || value > range.max) {
    throw rangeError(option, expected, value);
  }
  return value;
}

/** One of `allowed`; undefined passes unless `required`. */
export function oneOfOption<T extends string>(
  value: unknown,
  option: string,
  allowed: readonly T[],
  required = false,
): T | undefined {
  if (value === undefined && !required) return undefined;
  const expected = `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`;
  if (typeof value !== "string") throw typeError(option, expected, value);
  if (!allowed.includes(value as T)) throw rangeError(option, expected, value);
  return value as T;
}

/** Options that cannot go together, or one that needs another: a type error naming both. */
export function conflict(option: string, message: string): OptionTypeError {
  return new OptionTypeError(option, message);
}

/** An hour, the longest wait a timing option takes (as the `STAPFR_*_MS` knobs). */
export const HOUR_MS = 3_600_000;

/** The range of the engine's timing options (`idleMs`, `signalWaitMs`, `dumpMaxMs`). */
export const TIMING_MS: WholeRange = { min: 1, max: HOUR_MS, unit: "milliseconds" };
