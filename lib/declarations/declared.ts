/**
 * A declared flag's default and range as numbers in its unit (milliseconds, bytes, a count), for the library
 * checks and defaults that are the command line's too (lib/declarations/declarations.ts): `tail`'s line count, the
 * watcher's interval, the health check's, `plan`'s measurement.
 * @module
 */
import type { FlagDeclaration } from "./declaration.ts";
import { declaredFlag } from "./declarations.ts";
import { parseDuration, parseSize } from "../units.ts";

/** What the library needs of a declared flag. */
export interface Declared {
  /** The default in the flag's unit. */
  default: number | undefined;
  /** The smallest value it takes. */
  min: number;
  /** The largest value it takes. */
  max: number;
}

/** A flag's default and range in numbers. */
export function numbersOf(flag: FlagDeclaration): Declared {
  const text = flag.default;
  const value = text === undefined
    ? undefined
    : flag.kind === "duration"
    ? parseDuration(text, `--${flag.long}`)
    : flag.kind === "size"
    ? parseSize(text, `--${flag.long}`)
    : Number(text);
  return { default: value, min: flag.min ?? 0, max: flag.max ?? Number.MAX_SAFE_INTEGER };
}

/**
 * A command's flag, in numbers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(declared("watch", "interval"), { default: 1000, min: 100, max: 24 * 86_400_000 });
 * ```
 */
export function declared(command: string, long: string): Declared {
  return numbersOf(declaredFlag(command, long));
}

/**
 * A trigger's own flag (`--on exit-status --interval`), in numbers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(declaredTrigger("exit-status", "interval").default, 10_000);
 * ```
 */
export function declaredTrigger(trigger: string, long: string): Declared {
  const choice = declaredFlag("watch", "on").choices?.find((c) => c.word === trigger);
  const flag = choice?.flags?.find((f) => f.long === long);
  if (!flag) throw new RangeError(`"--on ${trigger}" declares no "--${long}"`);
  return numbersOf(flag);
}
