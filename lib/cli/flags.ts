/**
 * The flags, keywords and positionals of a command, read from its row of the command table (its usage line and
 * the flag lines of its help), so that the table stays the one place that says what a command takes: `unit`
 * sorts its arguments with it and the shell completions are generated from it.
 * @module
 */
import type { CommandInfo } from "./commands.ts";

/** One flag a command takes. */
export interface FlagSpec {
  /** The long form (`--buffer`), when there is one. */
  long?: string;
  /** The short form (`-e`), when there is one. */
  short?: string;
  /** The placeholder of its value (`SIZE`, `PATH`); undefined for a switch. */
  value?: string;
}

/** What a command's table row says it takes. */
export interface CommandShape {
  flags: FlagSpec[];
  /** Literal words of the usage (subcommands like `show`, choices like `bash`). */
  keywords: string[];
  /** Whether a recorder name is among its positionals (`NAME` in the usage). */
  takesName: boolean;
}

// A flag with an optional placeholder: `--rotate SIZE[,COUNT]`, `-e SCRIPT`, `--bulk`.
const FLAG = /(?<![\w-])(--?[A-Za-z][\w-]*)(?: ([A-Z][A-Z0-9_]*(?:\.[a-z]+)?(?:\[[^\]\s]*\])?…?))?/g;
// A help line that documents a flag: `  -e, --script SCRIPT   the script text…`.
const HELP_LINE =
  /^ {2}(?:(-[A-Za-z]), )?(--?[A-Za-z][\w-]*)(?: ([A-Z][A-Z0-9_]*(?:\.[a-z]+)?(?:\[[^\]\s]*\])?…?))?(?:\s|$)/;

/**
 * Reads a command's flags, keywords and whether it takes a recorder name from its table row.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const shape = commandShape({
 *   summary: "",
 *   usage: "tail NAME [-n N] [-f]",
 *   help: "  -n, --lines N         how many lines\n  -f, --follow          keep printing",
 * });
 * assertEquals(shape.flags, [{ short: "-n", long: "--lines", value: "N" }, { short: "-f", long: "--follow" }]);
 * assertEquals(shape.takesName, true);
 * ```
 */
export function commandShape(info: Omit<CommandInfo, "load">): CommandShape {
  const flags: FlagSpec[] = [];
  const add = (short: string | undefined, long: string | undefined, value: string | undefined): void => {
    const same = flags.find((f) => (short && f.short === short) || (long && f.long === long));
    if (same) {
      if (short) same.short ??= short;
      if (long) same.long ??= long;
      if (value) same.value ??= value;
      return;
    }
    const flag: FlagSpec = {};
    if (short) flag.short = short;
    if (long) flag.long = long;
    if (value) flag.value = value;
    flags.push(flag);
  };
  for (const line of (info.help ?? "").split("\n")) {
    const m = HELP_LINE.exec(line);
    if (!m) continue;
    const [, short, flag, value] = m;
    if (flag.startsWith("--")) add(short, flag, value);
    else add(flag, undefined, value);
  }
  for (const m of info.usage.matchAll(FLAG)) {
    const [, flag, value] = m;
    if (flag.startsWith("--")) add(undefined, flag, value);
    else add(flag, undefined, value);
  }
  const words = info.usage.split(/[\s()[\]|]+/).filter((w) => w !== "");
  const command = words[0];
  const keywords = [...new Set(words.slice(1).filter((w) => /^[a-z][a-z0-9-]*$/.test(w) && w !== command))];
  return { flags, keywords, takesName: words.includes("NAME") };
}

/** Finds a flag by its long or short form. */
export function findFlag(flags: readonly FlagSpec[], word: string): FlagSpec | undefined {
  return flags.find((f) => f.long === word || f.short === word);
}
