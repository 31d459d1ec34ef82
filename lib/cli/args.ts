/**
 * Per-command flag parsing on top of `@std/cli`'s `parseArgs`, made strict: unknown flags, missing values,
 * values given to flags that take none and extra arguments are one-line usage errors.
 * @module
 */
import { parseArgs } from "@std/cli";
import { UsageError } from "../errors.ts";

/** One flag of a command: a string or a boolean, with an optional one-letter `short` name. */
export interface Flag {
  type: "string" | "boolean";
  short?: string;
  /** Given several times, the values are collected into an array. */
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
}

/** The flag table of one command, by long name. */
export type Flags = Record<string, Flag>;

/** The result of {@linkcode parseCommandArgs}. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--`. */
  rest: string[];
}

/** What the parse found wrong, by kind; each makes the message the user sees. */
const MESSAGES = {
  unknown: (flag: string) => `Unknown option "${flag}"`,
  missingValue: (flag: string) => `Missing value for "${flag}"`,
  // A string flag followed by something that looks like a flag (`--buffer -1`): the flag got no value.
  valueLooksLikeFlag: (flag: string) => `Option "${flag}" takes no value`,
  noValue: (flag: string) => `Option "${flag}" takes no value`,
  unexpected: (arg: string) => `Unexpected argument "${arg}"`,
};

/** The long name of a flag that takes a value (`--lines` or `-n`), if `arg` is one given without `=`. */
function valueFlag(arg: string, flags: Flags): string | undefined {
  if (arg.startsWith("--") && !arg.includes("=")) {
    const name = arg.slice(2);
    return flags[name]?.type === "string" ? name : undefined;
  }
  if (/^-\w$/.test(arg)) {
    return Object.entries(flags).find(([, f]) => f.short === arg[1] && f.type === "string")?.[0];
  }
  return undefined;
}

/**
 * A value that starts with a dash: parseArgs calls `--buffer -1` ambiguous and would make us say "takes no
 * value". A negative number is the value (the command's own check then says what is wrong with it); anything
 * else is the next option, so the value is missing.
 */
function joinDashValues(head: string[], flags: Flags): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.length; i++) {
    const name = valueFlag(head[i], flags);
    const next = head[i + 1];
    if (name === undefined || next === undefined || !next.startsWith("-") || next === "-") {
      out.push(head[i]);
      continue;
    }
    if (!/^-\d/.test(next)) {
      throw new UsageError(
        `Missing value for "--${name}" ("${next}" is an option; write "--${name}=${next}" if it is the value)`,
      );
    }
    out.push(`--${name}=${next}`);
    i++;
  }
  return out;
}

/**
 * Parses a command's arguments; unknown flags, missing values and extra arguments become usage errors. Words
 * after a literal `--` are returned as `rest` only to a command that takes them (`options.rest`: stap's
 * arguments of `start`, `build` and `plan`); to any other they are refused, not silently ignored.
 */
export function parseCommandArgs(
  args: string[],
  flags: Flags,
  maxPositionals = Infinity,
  options: { rest?: boolean } = {},
): Parsed {
  const entries = Object.entries(flags);
  const names = (test: (flag: Flag) => boolean): string[] =>
    entries.filter(([, f]) => test(f)).map(([n]) => n);
  const defaults = Object.fromEntries(
    entries.filter(([, f]) => f.default !== undefined).map(([n, f]) => [n, f.default]),
  );
  const dash = args.indexOf("--");
  const head = joinDashValues(dash < 0 ? args : args.slice(0, dash), flags);
  const rest = dash < 0 ? [] : args.slice(dash + 1);
  if (rest.length > 0 && !options.rest) {
    throw new UsageError(
      `Unexpected argument "${rest[0]}" after "--": this command takes no command or stap arguments`,
    );
  }
  let unknownFlag: string | undefined;
  const parsed: Record<string, unknown> = parseArgs(head, {
    string: [...names((f) => f.type === "string"), "_"],
    boolean: names((f) => f.type === "boolean"),
    collect: names((f) => f.multiple === true),
    alias: Object.fromEntries(entries.filter(([, f]) => f.short).map(([n, f]) => [n, f.short!])),
    default: defaults,
    unknown: (arg, key) => {
      if (key === undefined) return true; // a positional
      unknownFlag ??= arg.startsWith("--") ? `--${key}` : `-${key}`;
      return false;
    },
  });

  for (const [name, flag] of entries) {
    const value = parsed[name];
    if (flag.type === "boolean") {
      // std reads `--bulk=3` as true and `-f5` as 5; a flag without a value takes none.
      const inline = head.some((a) => a.startsWith(`--${name}=`) || a.startsWith(`--no-${name}=`));
      const values = Array.isArray(value) ? value : [value];
      if (inline || values.some((v) => typeof v !== "boolean")) {
        throw new UsageError(MESSAGES.noValue(`--${name}`));
      }
    } else if (value === "" || (Array.isArray(value) && value.includes(""))) {
      // std gives "" to a string flag at the end, before "", or before an argument starting with "-".
      const at = head.findLastIndex((a) =>
        a === `--${name}` || (flag.short !== undefined && /^-[^-]/.test(a) && a.endsWith(flag.short))
      );
      const next = at < 0 ? undefined : head[at + 1];
      const make = next !== undefined && next.startsWith("-")
        ? MESSAGES.valueLooksLikeFlag
        : MESSAGES.missingValue;
      throw new UsageError(make(`--${name}`));
    }
  }
  if (unknownFlag !== undefined) throw new UsageError(MESSAGES.unknown(unknownFlag));

  const positionals = (parsed._ as unknown[]).map(String);
  if (positionals.length > maxPositionals) {
    throw new UsageError(MESSAGES.unexpected(positionals[maxPositionals]));
  }
  const values: Parsed["values"] = {};
  for (const [name, flag] of entries) {
    const value = parsed[name] as Parsed["values"][string];
    const absent = value === undefined || (flag.type === "boolean" && value === false) ||
      (Array.isArray(value) && value.length === 0);
    if (!absent || name in defaults) values[name] = value;
  }
  return { values, positionals, rest };
}
