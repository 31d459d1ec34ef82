#!/usr/bin/env -S deno run --quiet --no-config --unstable-lazy-dynamic-imports --allow-all
/**
 * The stapfr command line: `main(args, io)` returns the exit code. Only the command table is loaded up front;
 * each command's code is imported when it runs.
 *
 * The first line is for the bundle (`deno task bundle`, which keeps it): an executable `stapfr.js` runs as a
 * command wherever `deno` is on PATH, with the permissions lib/self.ts names and no `deno.json` (the bundle
 * needs none, and one in a directory above it must not change how it runs). From source, run `deno run` or a
 * task instead: this tree's `deno.json` holds the import map.
 *
 * @module
 */
import type { CommandDeclaration } from "./lib/declarations/declaration.ts";
import { COMMANDS } from "./lib/declarations/declarations.ts";
import { LOADERS } from "./lib/cli/loaders.ts";
import { type GlobalOptions, type Io, makeContext } from "./lib/cli/context.ts";
import { ExitCode, Interrupted, UsageError } from "./lib/errors.ts";
import { defaultKnobs, type Knobs, readKnobs } from "./lib/knobs.ts";
import { refuseInspectorSignal } from "./lib/inspector_refuse.ts";
import denoJson from "./deno.json" with { type: "json" };

/** The version printed by `--version`. */
export const VERSION: string = denoJson.version;

/** Reads one global option at `args[i]` into `global`; returns how many words it took (0: not one). */
function globalOption(args: string[], i: number, global: GlobalOptions): number {
  const arg = args[i];
  if (arg === "--sim") global.sim = true;
  else if (arg === "--json") global.json = true;
  else if (arg === "--state-dir" || arg.startsWith("--state-dir=")) {
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[i + 1];
    if (value === undefined || value === "") throw new UsageError(`Missing value for "--state-dir"`);
    return arg.includes("=") ? 1 : 2;
  } else return 0;
  return 1;
}

/**
 * Whether `word` is a flag of the command (of any of its forms, or of the commands it takes flags from) whose
 * value is `next`, so that a value spelled like a global option stays the command's.
 */
function takesValue(command: CommandDeclaration, word: string, next: string): boolean {
  for (const name of [command.name, ...(command.flagsFrom ?? [])]) {
    for (const form of COMMANDS[name].forms) {
      for (const f of form.flags) {
        if (f.value === undefined || (word !== `--${f.long}` && word !== `-${f.short}`)) continue;
        if (f.optionalPrefix === undefined || next.startsWith(f.optionalPrefix)) return true;
      }
    }
  }
  return false;
}

/**
 * Splits the global options from the command name and its arguments. The global options may also follow the
 * command (`stapfr list --json`, as people type them): they are taken from its arguments up to a `--`, except
 * where a word is the value of one of the command's own flags. `sim` passes every argument on as it is.
 */
function parseGlobal(
  args: string[],
  knobs: Knobs,
): { global: GlobalOptions; rest: string[]; flag?: string } {
  const global: GlobalOptions = { sim: knobs.sim, json: false, stateDir: knobs.stateDir, knobs };
  const take = (i: number): number => {
    const n = globalOption(args, i, global);
    if (n === 2) global.stateDir = args[i + 1];
    else if (n === 1 && args[i].startsWith("--state-dir=")) global.stateDir = args[i].slice(12);
    return n;
  };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    const n = take(i);
    if (n > 0) i += n - 1;
    else if (["-h", "--help", "-V", "--version"].includes(arg)) return { global, rest: [], flag: arg };
    else if (arg.startsWith("-")) throw new UsageError(`Unknown option "${arg}"`);
    else break;
  }
  const name = args[i];
  if (name === undefined || !Object.hasOwn(COMMANDS, name) || COMMANDS[name].passThrough) {
    return { global, rest: args.slice(i) };
  }
  const rest = [name];
  for (let j = i + 1; j < args.length; j++) {
    if (args[j] === "--") {
      rest.push(...args.slice(j));
      break;
    }
    const n = take(j);
    if (n > 0) {
      j += n - 1;
      continue;
    }
    rest.push(args[j]);
    if (j + 1 < args.length && takesValue(COMMANDS[name], args[j], args[j + 1])) rest.push(args[++j]);
  }
  return { global, rest };
}

/** Whether the options ask for JSON (known even when they are otherwise wrong, to report it as JSON). */
function wantsJson(args: string[]): boolean {
  try {
    return parseGlobal(args, defaultKnobs()).global.json;
  } catch {
    // A bad global option: as far as the options before it say.
    for (let i = 0; i < args.length && args[i].startsWith("-"); i++) {
      if (args[i] === "--json") return true;
      if (args[i] === "--state-dir") i++;
    }
    return false;
  }
}

/**
 * Runs the command line and returns the exit code: 0 ok, 1 failure, 2 usage error, 130 interrupted.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.length) };
 * const io = { stdout: sink, stderr: sink, env: () => undefined };
 * assertEquals(await main(["--version"], io), 0);
 * assertEquals(await main(["no-such-command"], io), 2);
 * ```
 */
export async function main(args: string[], io: Io): Promise<number> {
  const signal = io.signal ?? new AbortController().signal;
  let commandName: string | undefined;
  try {
    // Read and checked once, whatever the command, as a configuration file would be.
    const knobs = readKnobs(io.env);
    const { global, rest, flag } = parseGlobal(args, knobs);
    const ctx = makeContext(io, global, signal);
    if (flag === "-V" || flag === "--version") {
      await ctx.out(`stapfr ${VERSION}\n`);
      return ExitCode.ok;
    }
    if (flag || rest.length === 0) {
      const { topHelp } = await import("./lib/cli/help.ts");
      await (flag ? ctx.out : ctx.err)(topHelp(VERSION));
      return flag ? ExitCode.ok : ExitCode.usage;
    }
    const [name, ...commandArgs] = rest;
    if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`Unknown command "${name}"`);
    commandName = name;
    // `sim` passes every argument through to the stand-in (stap's own -h and -V among them).
    if (!COMMANDS[name].passThrough && (commandArgs[0] === "--help" || commandArgs[0] === "-h")) {
      const { commandHelp } = await import("./lib/cli/help.ts");
      await ctx.out(commandHelp(COMMANDS[name]));
      return ExitCode.ok;
    }
    const command = await LOADERS[name]();
    return await command.run(commandArgs, ctx);
  } catch (err) {
    // Loaded only now: a command that succeeds needs neither.
    const { failureOf, humanLines, jsonError } = await import("./lib/cli/failure.ts");
    const { GLOBAL_USAGE, usageOf } = await import("./lib/cli/help.ts");
    const failure = failureOf(err, {
      aborted: signal.aborted,
      usage: commandName ? `stapfr ${usageOf(COMMANDS[commandName])}` : GLOBAL_USAGE,
      operation: commandName ?? "start stapfr",
    });
    if (failure.silent) return failure.exitCode;
    const ctx0 = makeContext(io, { sim: false, json: false, knobs: defaultKnobs() }, signal);
    try {
      if (wantsJson(args)) await ctx0.json_out(jsonError(failure));
    } catch {
      // stdout is gone: stderr still says it.
    }
    // Error reports go to a stderr that may be gone (a dropped SSH connection): never fail on them.
    for (const line of humanLines(failure)) await ctx0.err(line).catch(() => {});
    return failure.exitCode;
  }
}

/**
 * The process-level guards of the command line (docs/strays.md): SIGINT, SIGQUIT (Ctrl-\, SystemTap's own
 * key for detaching), SIGTERM and SIGHUP ask the running command to finish cleanly (a reader detaches with
 * SIGQUIT); a second one resends that SIGQUIT at once when a reader is still attached, and otherwise exits, as
 * does a third; SIGTSTP (Ctrl-Z) in a live command (`suspendable`) detaches its reader before the process stops
 * (lib/cli/suspend.ts); an error nothing caught exits through `Deno.exit`, whose unload event detaches any
 * reader. Commands marked ownSignals (the simulator's stand-ins)
 * handle SIGINT, SIGTERM, SIGHUP and their own failures themselves, as stapio does. SIGUSR1 opens no debugger
 * port in any of them: it is blocked (lib/inspector_guard.ts).
 */
async function guardProcess(
  controller: AbortController,
  command: CommandDeclaration | undefined,
): Promise<void> {
  const ownSignals = command?.ownSignals ?? false;
  // Every command that may outlive Deno's 500 ms grace restarts itself with SIGUSR1 blocked.
  if (command && !command.quick) (await import("./lib/inspector_guard.ts")).blockInspectorSignal();
  else refuseInspectorSignal();
  let received = 0;
  for (const sig of ownSignals ? [] : ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {
      received++;
      // The reason every operation rejects with (exit code 130): an interrupt, not an error.
      if (!controller.signal.aborted) return controller.abort(new Interrupted(sig));
      // The readers this process runs: loaded by the driver when it started one (none otherwise).
      void import("./lib/driver/live_readers.ts").then(({ liveReaders }) => {
        if (received === 2 && liveReaders.size > 0) {
          for (const reader of liveReaders) {
            reader.hurry();
            const line =
              `stapfr: Detaching stapio (pid ${reader.pid}); once more exits at once and leaves it ` +
              `attached until "stapfr gc"\n`;
            Deno.stderr.write(new TextEncoder().encode(line)).catch(() => {});
          }
          return;
        }
        Deno.exit(ExitCode.interrupted);
      });
    });
  }
  if (ownSignals) return;
  if (command?.suspendable) {
    // Loaded only by the commands that show live output.
    const suspend = import("./lib/cli/suspend.ts");
    Deno.addSignalListener("SIGTSTP", () => void suspend.then((s) => s.suspendRequested()));
  }
  const fail = (reason: unknown): void => {
    void import("./lib/terminal_text.ts").then(({ terminalText }) => {
      const text = `stapfr: ${terminalText(reason instanceof Error ? reason.message : String(reason))}\n`;
      return Deno.stderr.write(new TextEncoder().encode(text));
    }).catch(() => {}).finally(() => Deno.exit(ExitCode.failure));
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    fail(e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    fail(e.error);
  });
}

if (import.meta.main) {
  const controller = new AbortController();
  let command: CommandDeclaration | undefined;
  try {
    const name = parseGlobal(Deno.args, defaultKnobs()).rest[0];
    if (name !== undefined && Object.hasOwn(COMMANDS, name)) command = COMMANDS[name];
  } catch {
    // A usage error: main reports it.
  }
  await guardProcess(controller, command);
  const code = await main(Deno.args, {
    stdout: Deno.stdout,
    stderr: Deno.stderr,
    env: (name) => Deno.env.get(name),
    signal: controller.signal,
    isTerminal: Deno.stdout.isTerminal(),
  });
  Deno.exit(code);
}
