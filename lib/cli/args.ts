/**
 * Per-command flag parsing on top of `parseArgs`, turning its errors into one-line usage errors.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "../deps/args.ts";
import { UsageError } from "../errors.ts";

/** The flag table of one command, as `parseArgs` takes it. */
export type Flags = NonNullable<ParseArgsConfig["options"]>;

/** The result of {@linkcode parseCommandArgs}. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--`. */
  rest: string[];
}

const quoted = (m: string): string => /'([^']+)'/.exec(m)?.[1] ?? m;
// The flag in "Option '-o, --output <value>' argument missing": prefer its long form.
const flagOf = (m: string): string => /--[\w-]+/.exec(m)?.[0] ?? /-\w/.exec(m)?.[0] ?? m;

const MESSAGES: Record<string, (m: string) => string> = {
  ERR_PARSE_ARGS_UNKNOWN_OPTION: (m) => `Unknown option "${quoted(m)}"`,
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: (m) =>
    m.includes("argument missing")
      ? `Missing value for "${flagOf(m)}"`
      : `Option "${flagOf(m)}" takes no value`,
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: (m) => `Unexpected argument "${quoted(m)}"`,
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

/** Parses a command's arguments; unknown flags, missing values and extra arguments become usage errors. */
export function parseCommandArgs(args: string[], flags: Flags, maxPositionals = Infinity): Parsed {
  const dash = args.indexOf("--");
  const head = joinDashValues(dash < 0 ? args : args.slice(0, dash), flags);
  const rest = dash < 0 ? [] : args.slice(dash + 1);
  let parsed;
  try {
    parsed = parseArgs({ args: head, options: flags, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    const make = MESSAGES[code];
    if (make) throw new UsageError(make((err as Error).message));
    throw err;
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  return { values: { ...parsed.values } as Parsed["values"], positionals: parsed.positionals, rest };
}
