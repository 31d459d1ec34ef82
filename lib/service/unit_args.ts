/**
 * Sorting `stapfr unit`'s arguments into what goes on the unit's `start` line, what goes on its `watch` line,
 * and what `unit` keeps for itself. Which flag is whose comes from the declarations (lib/declarations/declarations.ts):
 * `unit`'s own, then those of the commands it takes flags from (`start`, `watch`). Values are passed on as
 * given except paths (a flag whose value is a file, a directory or a path), made absolute because a service
 * runs in `/`.
 * @module
 */
import type { FlagDeclaration } from "../declarations/declaration.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import { UsageError } from "../errors.ts";
import { resolve } from "../path.ts";

/** The script source: exactly one of a file, `-e` or `--module`. */
const SOURCE = new Set(["script", "module"]);
/** What every unit's lines say anyway: the start line adopts, the watcher runs in service mode. */
const IMPLIED = new Set(["--adopt", "--service"]);
/** The kinds of value that name a path, made absolute. */
const PATH_KINDS = new Set(["file", "dir", "path"]);

/** Where the recorder's code comes from. */
export type UnitSource = { file: string } | { text: string } | { module: string };

/** `stapfr unit`'s arguments, sorted. */
export interface UnitArgs {
  name: string;
  source: UnitSource;
  /** Flags for `start` (after NAME and the source), in the order given, with their values. */
  start: string[];
  /** Raw values of the start flags by long name, for checking them now rather than at boot. */
  startValues: Record<string, string | true>;
  /** Arguments for stap (after `--` on the start line). */
  stapArgs: string[];
  /** Flags and triggers for `watch` (after NAME), in the order given. */
  watch: string[];
  /** The command of an `--on exit-status` trigger (after `--` on the watch line). */
  watchCommand: string[];
  install: boolean;
  unitDir?: string;
  force: boolean;
  daemonReload: boolean;
  /** `--aws-env-file FILE`: the service's AWS_* variables (EnvironmentFile=). */
  awsEnvFile?: string;
  /** `--aws-credentials FILE`: an AWS shared credentials file, as a systemd credential (LoadCredential=). */
  awsCredentials?: string;
}

type Owner = "start" | "watch" | "unit" | "source";

/** Every flag `unit` takes and whose it is: `unit`'s own, then those of the commands it takes flags from. */
function flagTable(): { flag: FlagDeclaration; owner: Owner }[] {
  const table: { flag: FlagDeclaration; owner: Owner }[] = [];
  const rows: [string, Owner][] = [
    ["unit", "unit"],
    ...(COMMANDS.unit.flagsFrom ?? []).map((c) => [c, c] as [string, Owner]),
  ];
  for (const [command, owner] of rows) {
    for (const flag of COMMANDS[command].forms[0].flags) {
      if (IMPLIED.has(`--${flag.long}`)) continue;
      // A flag two commands share (-e, --script) keeps the first owner.
      if (table.some((t) => t.flag.long === flag.long || (flag.short && t.flag.short === flag.short))) {
        continue;
      }
      table.push({ flag, owner: SOURCE.has(flag.long) ? "source" : owner });
    }
  }
  return table;
}

/**
 * Sorts the arguments of `stapfr unit` (relative paths resolved against `cwd`). A trigger's words run as
 * `watch` reads them: up to the next flag, `exit-status` keeping its `--interval D`; after `--` comes the
 * exit-status trigger's command when there is one, else arguments for stap.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const a = parseUnitArgs(["io", "io.stp", "--buffer", "4M", "--cooldown", "5m", "--on", "signal"], "/srv");
 * assertEquals([a.source, a.start, a.watch], [{ file: "/srv/io.stp" }, ["--buffer", "4M"], ["--cooldown", "5m", "--on", "signal"]]);
 * ```
 */
export function parseUnitArgs(args: readonly string[], cwd: string): UnitArgs {
  const table = flagTable();
  const isFlag = (word: string): boolean =>
    word.startsWith("--") || table.some((t) => t.flag.short && `-${t.flag.short}` === word);
  // How each flag was spelled, for "needs" (lib/declarations/declarations.ts).
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  const out: Omit<UnitArgs, "name" | "source"> = {
    start: [],
    startValues: {},
    stapArgs: [],
    watch: [],
    watchCommand: [],
    install: false,
    force: false,
    daemonReload: false,
  };
  const sources: UnitSource[] = [];
  let rest: string[] = [];
  let exitStatus = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const word = eq > 0 ? arg.slice(0, eq) : arg;
    if (IMPLIED.has(word)) continue;
    const entry = table.find((t) =>
      `--${t.flag.long}` === word || (t.flag.short && `-${t.flag.short}` === word)
    );
    if (!entry) throw new UsageError(`Unknown option "${word}"`);
    const { flag, owner } = entry;
    const long = `--${flag.long}`;
    spelled.set(flag.long, word);
    let value: string | undefined;
    if (flag.value && flag.optionalPrefix !== undefined && eq < 0) {
      // `--ship [URL]`: the next word is its value only when it is a URL.
      if (args[i + 1]?.startsWith(flag.optionalPrefix)) value = args[++i];
    } else if (flag.value) {
      value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`Missing value for "${long}"`);
      if (PATH_KINDS.has(flag.kind ?? "text")) value = resolve(cwd, value);
    } else if (eq > 0) throw new UsageError(`Option "${long}" takes no value`);
    if (owner === "source") {
      sources.push(long === "--module" ? { module: value! } : { text: value! });
    } else if (owner === "start") {
      out.start.push(long, ...(value !== undefined ? [value] : []));
      out.startValues[long] = value ?? true;
    } else if (owner === "unit") {
      if (long === "--install") out.install = true;
      else if (long === "--force") out.force = true;
      else if (long === "--daemon-reload") out.daemonReload = true;
      else if (long === "--unit-dir") out.unitDir = value;
      else if (long === "--aws-env-file") out.awsEnvFile = value;
      else if (long === "--aws-credentials") out.awsCredentials = value;
    } else if (long === "--on") {
      const words: string[] = [];
      while (i + 1 < args.length) {
        const w = args[i + 1];
        const interval = value === "exit-status" && (w === "--interval" || words.at(-1) === "--interval");
        if (isFlag(w) && !interval) break;
        words.push(w);
        i++;
      }
      if (value === "exit-status") exitStatus = true;
      // A followed file: absolute, as the service runs in / ("-" is standard input).
      if (value === "log" && words.length > 0 && words[0] !== "-") words[0] = resolve(cwd, words[0]);
      out.watch.push(long, value!, ...words);
    } else {
      out.watch.push(long, ...(value !== undefined ? [value] : []));
    }
  }
  if (exitStatus) out.watchCommand = rest;
  else out.stapArgs = rest;
  if (positionals.length === 0) throw new UsageError("Missing recorder name");
  const [name, file, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`);
  if (file !== undefined) sources.push({ file: resolve(cwd, file) });
  if (sources.length !== 1) {
    throw new UsageError(
      sources.length === 0
        ? "Missing script: give SCRIPT_FILE, -e SCRIPT or --module FILE.ko"
        : "Give one of SCRIPT_FILE, -e SCRIPT or --module FILE.ko",
    );
  }
  for (const { flag } of table) {
    if (flag.needs !== undefined && spelled.has(flag.long) && !spelled.has(flag.needs)) {
      throw new UsageError(`"${spelled.get(flag.long)}" needs "--${flag.needs}"`);
    }
  }
  return { name, source: sources[0], ...out };
}
