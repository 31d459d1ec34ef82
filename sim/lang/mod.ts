/**
 * The SystemTap script language of the simulator: `compileScript(source)` parses and analyses a script and
 * returns a {@linkcode CompiledScript} whose instances run on the synthetic workload.
 *
 * What runs: probes `begin`/`end`/`error` (with sequence numbers), `never`, `timer.ms/s/us/ns/hz/jiffies`
 * (`.randomize`), `timer.profile`, `procfs("NAME").read` (its `$value`, read by the module host), and the
 * workload's catalogue (`vfs.*`, `syscall.*`, `nd_syscall.*`,
 * `kernel.function("…")` with `@file`, `kernel.trace("sched_switch")`, `process("…").function("…")`,
 * `scheduler.*`, each with `.return` where it exists), script aliases (`=` and `+=`), wildcards, `?`, `!`
 * and `if` conditions; all statements; globals, locals, multi-key arrays (declared sizes, `%` wrap,
 * MAXMAPENTRIES), statistics with @count/@sum/@min/@max/@avg/@variance and @hist_log/@hist_linear printing;
 * the print family and printf conversions; the tapset functions in `tapset.ts` and `tapset_script.ts`, and
 * those of `-I` tapsets (`CompileOptions.tapsets`; stapfr's embedded-C ones natively, `tapset_natives.ts`);
 * MAXACTION, MAXNESTING, MAXERRORS, `exit()`, `error()`, `abort()`, try/catch.
 *
 * What does not (listed in `unsupported`, so instantiate refuses the script): probe points outside the
 * catalogue, tapset functions the simulator lacks, target variables a point does not offer, `$var->field`,
 * `@cast`, embedded C.
 *
 * Known differences from a real module: one merged statistic instead of per-CPU ones (the variance of a merge
 * can differ in the last digit); no real memory behind addresses (only the current call's buffer reads);
 * time is virtual (gettimeofday starts at 2026-01-01 unless `epochNs` is given).
 *
 * ```ts
 * import { compileScript } from "./mod.ts";
 * const out: string[] = [];
 * const run = compileScript('probe begin { printf("hi\\n") }').instantiate({
 *   cpus: 1, seed: 1, rate: 0,
 *   sink: { print: (_c, b) => out.push(new TextDecoder().decode(b)), warning() {}, error() {}, exit() {} },
 * });
 * run.begin();
 * run.end();
 * console.log(out.join("")); // "hi\n"
 * ```
 * @module
 */
import type { CompiledScript, Unsupported } from "../kernel/program.ts";
import type { Script } from "./ast.ts";
import { formatDiagnostics, parseScript } from "./parser.ts";
import { libraryMacros } from "./check.ts";
import { DEFAULT_LIMITS, type Limits } from "./interp_runtime.ts";
import { Program, Run, SemanticError, type SimRunOptions } from "./interp.ts";
import { parseTapsets, type TapsetFile, withTapsetFunctions } from "./tapset_script.ts";
import { StapfrError } from "../../lib/errors.ts";

export { Run, SemanticError, type SimRunOptions };
export type { CompiledScript, RunOptions, ScriptRun, Unsupported } from "../kernel/program.ts";

/** Options of {@linkcode compileScript}. */
export interface CompileOptions {
  /** The file name used in messages (`<input>` for `-e` scripts, as stap does). */
  file?: string;
  /** Guru mode (`-g`). */
  guru?: boolean;
  /** Positional arguments (`$1`, `@1`). */
  args?: readonly string[];
  /** `uname -r` of the simulated target. */
  kernelRelease?: string;
  /** stap's architecture name of the simulated target (`x86_64`). */
  arch?: string;
  /** Where the tapset `.stpm` macro files are (default: the installed tapset, else a built-in set). */
  tapsetDir?: string | null;
  /** `-D NAME=VALUE` settings: MAXACTION, MAXMAPENTRIES, MAXERRORS, MAXNESTING. */
  defines?: Record<string, string | number>;
  /** `stap -E SCRIPT`: scripts run in addition to the main one (stapfr's counters probe). */
  extraScripts?: readonly string[];
  /** The tapsets of `stap -I DIR`: their functions are pulled in when called. */
  tapsets?: readonly TapsetFile[];
}

export type { TapsetFile };

/**
 * A script that does not parse, or that stap would reject in pass 2 (message with file:line:column;
 * `code: "compile_failed"`).
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * const err = assertThrows(() => compileScript("probe begin {"), ScriptError);
 * if ((err as ScriptError).code !== "compile_failed") throw new Error("a script error has its code");
 * ```
 */
export class ScriptError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "ScriptError";
  /** The error as stap prints it (with source lines for parse errors). */
  readonly text: string;
  /** `text` is the error as stap prints it (with source lines for parse errors). */
  constructor(message: string, text: string) {
    super(message, { code: "compile_failed" });
    this.text = text;
  }
}

/**
 * A script with probes or functions the simulator cannot run (listed in `unsupported`; `code: "unsupported"`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new UnsupportedScriptError([{ file: "x.stp", line: 1, column: 7, message: "not simulated" }]);
 * assertEquals([err.code, err.message], ["unsupported", "The simulator cannot run this script:\nx.stp:1:7: not simulated"]);
 * ```
 */
export class UnsupportedScriptError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "UnsupportedScriptError";
  /** What the simulator cannot run, with its place. */
  readonly unsupported: readonly Unsupported[];
  /** Lists every entry as `FILE:LINE:COLUMN: message` in the message. */
  constructor(unsupported: readonly Unsupported[]) {
    super(
      "The simulator cannot run this script:\n" +
        unsupported.map((u) => `${u.file}:${u.line}:${u.column}: ${u.message}`).join("\n"),
      { code: "unsupported" },
    );
    this.unsupported = unsupported;
  }
}

function limitsOf(defines: Record<string, string | number> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(defines ?? {})) {
    const n = Number(v);
    if (!Number.isInteger(n)) continue;
    if (k === "MAXACTION") {
      limits.MAXACTION = n;
      if (!("MAXACTION_INTERRUPTIBLE" in (defines ?? {}))) limits.MAXACTION_INTERRUPTIBLE = n * 10;
    } else if (k in limits) (limits as unknown as Record<string, number>)[k] = n;
  }
  return limits;
}

function analyse(source: string, options: CompileOptions): Program {
  const file = options.file ?? "<input>";
  const target = {
    guru: options.guru ?? false,
    ...(options.kernelRelease ? { kernelRelease: options.kernelRelease } : {}),
    ...(options.arch ? { arch: options.arch } : {}),
  };
  const parseOne = (text: string, name: string): Script => {
    const parsed = parseScript(text, {
      file: name,
      args: options.args,
      ...target,
      // The tapset's library macros (@choose_defined, @define'd helpers), as stap loads them in pass 1.
      libraryMacros: libraryMacros(options.tapsetDir, target),
    });
    if (parsed.errors.length > 0) {
      const d = parsed.errors[0];
      const text2 = formatDiagnostics(parsed.errors, new Map([[name, text]]));
      throw new ScriptError(`${d.file}:${d.line}:${d.column}: parse error: ${d.message}`, text2);
    }
    return parsed.script;
  };
  const script = parseOne(source, file);
  // `-E` scripts join the main one, as stap parses each as a file of the same session.
  for (const extra of options.extraScripts ?? []) merge(script, parseOne(extra, "<input>"));
  let tapsets: Script[];
  try {
    tapsets = parseTapsets(options.tapsets ?? []);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ScriptError(message, message + "\n");
  }
  try {
    return new Program(withTapsetFunctions(script, tapsets), limitsOf(options.defines));
  } catch (err) {
    if (err instanceof SemanticError) throw new ScriptError(err.message, err.message + "\n");
    throw err;
  }
}

/** Adds what `extra` declares to `script`. */
function merge(script: Script, extra: Script): void {
  script.probes.push(...extra.probes);
  script.aliases.push(...extra.aliases);
  script.functions.push(...extra.functions);
  script.globals.push(...extra.globals);
  script.embeds.push(...extra.embeds);
  script.items.push(...extra.items);
}

function sameArgs(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [], y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * What the simulator cannot run in a parsed script (for `checkScript`'s `unsupported` option); a script stap
 * would reject in pass 2 gives one entry with its semantic error.
 */
export function unsupportedIn(
  script: Script,
  options: { defines?: Record<string, string | number> } = {},
): Unsupported[] {
  try {
    return [...new Program(withTapsetFunctions(script), limitsOf(options.defines)).unsupported];
  } catch (err) {
    if (!(err instanceof SemanticError)) throw err;
    return [{ ...err.loc, message: err.message.replace(/^.*?:\d+:\d+: /, "") }];
  }
}

/**
 * Parses and analyses a script; throws {@linkcode ScriptError} on parse or semantic errors. Positional
 * arguments (`$1`, `@1`) are substituted while parsing: give them here, or in `instantiate({ args })`, which
 * parses again when they differ (errors then come from instantiate).
 */
export function compileScript(source: string, options: CompileOptions = {}): CompiledScript {
  let program: Program;
  try {
    program = analyse(source, options);
  } catch (err) {
    // A script that uses $1/@1 without arguments yet: parse it when instantiate brings them.
    if (
      !(err instanceof ScriptError) || options.args !== undefined ||
      !/command line argument/.test(err.message)
    ) throw err;
    return {
      unsupported: [],
      instantiate(runOptions: SimRunOptions): Run {
        const p = analyse(source, {
          ...options,
          args: runOptions.args ?? [],
          guru: runOptions.guru ?? options.guru,
        });
        if (p.unsupported.length > 0) throw new UnsupportedScriptError(p.unsupported);
        return new Run(p, runOptions);
      },
    };
  }
  return {
    unsupported: program.unsupported,
    instantiate(runOptions: SimRunOptions): Run {
      let p = program;
      const guru = runOptions.guru ?? options.guru ?? false;
      if (
        (runOptions.args !== undefined && !sameArgs(runOptions.args, options.args)) ||
        guru !== (options.guru ?? false)
      ) {
        p = analyse(source, { ...options, args: runOptions.args ?? options.args, guru });
      }
      if (p.unsupported.length > 0) throw new UnsupportedScriptError(p.unsupported);
      return new Run(p, runOptions);
    },
  };
}
