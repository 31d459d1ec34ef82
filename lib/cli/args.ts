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

/** Parses a command's arguments; unknown flags, missing values and extra arguments become usage errors. */
export function parseCommandArgs(args: string[], flags: Flags, maxPositionals = Infinity): Parsed {
  const dash = args.indexOf("--");
  const head = dash < 0 ? args : args.slice(0, dash);
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
