/**
 * The regular expressions of `--on log FILE REGEX` and `--on marker REGEX`, matched by RE2 (lib/deps/re2.ts):
 * the pattern comes from the operator, the lines from anyone who can write to the log, and a backtracking
 * engine (JavaScript's RegExp) lets one line of a few dozen bytes hold the watcher at full CPU for good
 * (`(a+)+$` against `aaa…a!`). RE2 matches in time linear in the line, and the triggers split lines of at
 * most 1 MiB, so one line costs the watcher a fraction of a second at worst (milliseconds for a log line's
 * usual length) and its loop stays responsive to signals. RE2's syntax is JavaScript's without backreferences and lookaround; a pattern
 * it cannot take is refused with RE2's reason. Loaded only by the commands that parse triggers.
 * @module
 */
import { RE2JS } from "../deps/re2.ts";
import { UsageError } from "../errors.ts";

/** How much of a match a trigger's detail keeps (the manifest, the log line, the listing). */
export const DETAIL_MAX = 500;

/** A compiled pattern. */
export interface Pattern {
  /** The pattern as the operator wrote it. */
  readonly source: string;
  /** The text the pattern matched in `line` (its first match, at most {@linkcode DETAIL_MAX} characters), if any. */
  find(line: string): string | undefined;
}

/**
 * Compiles a trigger's pattern; a pattern RE2 cannot take is a usage error naming the trigger.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const p = compilePattern("ERROR (\\w+)", "log");
 * assertEquals(p.find("12:00 ERROR disk full"), "ERROR disk");
 * assertEquals(p.find("all fine"), undefined);
 * ```
 */
export function compilePattern(text: string, trigger: string): Pattern {
  let re: ReturnType<typeof RE2JS.compile>;
  try {
    re = RE2JS.compile(text);
  } catch (err) {
    const why = (err as Error).message.replace(/^error parsing regexp: /, "");
    throw new UsageError(
      `Invalid regular expression "${text}" for "--on ${trigger}": ${why} (RE2 syntax: no backreferences or lookaround)`,
    );
  }
  return {
    source: text,
    find(line) {
      const m = re.matcher(line);
      return m.find() ? (m.group() ?? "").slice(0, DETAIL_MAX) : undefined;
    },
  };
}
