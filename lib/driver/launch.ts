/**
 * Starting a flight recorder with `stap -F`: memory mode (`staprun -L`, the module keeps its ring in the
 * kernel) and file mode (`staprun -D -o FILE`, a stapio daemon writes rotated files). Parses what stap prints
 * (docs/systemtap-4.8.md sections 2.1 and 2.2) and waits for evidence that the recording really runs.
 * A prebuilt module (`stapfr build`) skips stap: the same `staprun` command line that stap would run is run
 * directly, and it prints the same lines, so everything after it is shared.
 * @module
 */
import { join } from "../path.ts";
import { Interrupted, StapfrError } from "../errors.ts";
import type { Host } from "../host.ts";
import { MiB, type RotateSpec } from "../units.ts";
import { explainFailure } from "./stap_failure.ts";
import { listModules, moduleState, processAlive, processStartTime } from "./kernel.ts";
import { runCommand, sleep } from "./run.ts";
import { unloadModule } from "./unload.ts";
import { listRunFiles } from "../read_path/files.ts";

/** The script: a file, or text given with `-e`. */
export type ScriptSource = { file: string } | { text: string };

const RECONNECT = /^To reconnect, type "staprun -A ([A-Za-z0-9_]+)"$/m;
const PID_LINE = /^([0-9]+)\r?\n/;

/**
 * The module name in stapio's detach message (`To reconnect, type "staprun -A NAME"`), if there is one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const stderr = '\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A stap_fr_io"\n';
 * assertEquals(parseReconnectHint(stderr), "stap_fr_io");
 * ```
 */
export function parseReconnectHint(stderr: string): string | undefined {
  return RECONNECT.exec(stderr)?.[1];
}

/**
 * The daemon pid that `stap -F -o FILE` prints first on stdout, if there is one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parsePidLine("10606\n"), 10606);
 * assertEquals(parsePidLine(""), undefined);
 * ```
 */
export function parsePidLine(stdout: string): number | undefined {
  const m = PID_LINE.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** A size in the form stap's `-s` and `-S` take: whole MiB, or (simulator only) `NK`. */
export function stapSize(bytes: number, host: Host): string {
  if (bytes % MiB === 0) return String(bytes / MiB);
  if (host.kind === "sim") return `${bytes / 1024}K`;
  throw new StapfrError(`SystemTap takes whole MiB, not ${bytes} bytes`, { code: "rejected_option" });
}

function scriptArgs(script: ScriptSource): string[] {
  return "file" in script ? [script.file] : ["-e", script.text];
}

/** Options shared by both modes. */
export interface StartCommon {
  host: Host;
  /** The recorder's name, for messages. */
  recorder: string;
  module: string;
  /** The script stap compiles; unused when `prebuilt` is given. */
  script?: ScriptSource;
  /** A prebuilt module file (`stap_fr_NAME.ko`, absolute) to load with staprun instead of compiling. */
  prebuilt?: string;
  /** A directory of stapfr's own: stap writes the `.ko` into its working directory. */
  workDir: string;
  stapArgs?: string[];
  /** stapfr's own stap arguments, before the user's (its counters tapset: lib/driver/counters_tapset.ts). */
  extraArgs?: string[];
  signal?: AbortSignal;
}

/**
 * The argv that starts a memory recorder: `stap -F -b -m MODULE [-s MB] …`, or `staprun -L [-b MB] FILE.ko`.
 * A compiled memory recorder uses bulk transport, so that its records reach a reader with their sequence
 * numbers (docs/loss-accounting.md); a prebuilt module has it compiled in, or not.
 */
export function memoryArgv(options: StartCommon & { buffer?: number }): string[] {
  const { host } = options;
  const size = options.buffer ? stapSize(options.buffer, host) : undefined;
  if (options.prebuilt !== undefined) {
    return [...host.staprun, "-L", ...(size ? ["-b", size] : []), options.prebuilt];
  }
  return [
    ...host.stap,
    "-F",
    "-b",
    "-m",
    options.module,
    ...(size ? ["-s", size] : []),
    ...(options.extraArgs ?? []),
    ...(options.stapArgs ?? []),
    ...scriptArgs(options.script!),
  ];
}

/** Starts a memory-mode recorder; returns the module name stapio reported. */
export async function startMemory(options: StartCommon & { buffer?: number }): Promise<{ module: string }> {
  const argv = memoryArgv(options);
  const result = await runCommand(argv, {
    cwd: options.workDir,
    env: options.host.env,
    signal: options.signal,
  });
  const module = parseReconnectHint(result.stderr);
  if (result.code === 0 && module) return { module };
  if (result.code === 0) {
    throw new StapfrError(
      `Cannot start recorder "${options.recorder}": ${
        options.prebuilt !== undefined ? "staprun" : "stap"
      } ended without the "To reconnect" line of a loaded module`,
      { hint: 'Run the same command with -v after "--" to see what stap did' },
    );
  }
  throw await stapFailed(options, result.stderr, result.code);
}

/** The stapfr error for a stap run that did not start the recorder (docs/systemtap-4.8.md 2.7, 2.8). */
async function stapFailed(options: StartCommon, stderr: string, code: number): Promise<Error> {
  // stap ended because the user interrupted the start (it got our SIGTERM): that is the story, not its lines.
  if (options.signal?.aborted) return new Interrupted();
  return explainFailure(stderr, {
    operation: "start",
    recorder: options.recorder,
    module: options.module,
    moduleState: await moduleState(options.host.procRoot, options.module),
    program: options.prebuilt !== undefined ? "staprun" : "stap",
    prebuilt: options.prebuilt !== undefined,
    code,
  });
}

/** What a started file recorder is. */
export interface FileStart {
  module: string;
  pid: number;
  pidStart: number | null;
}

/** Options of {@linkcode startFile}. */
export interface FileStartOptions extends StartCommon {
  /** The run's own directory. */
  runDir: string;
  /** The file name inside it (`NAME.out`). */
  base: string;
  rotate?: RotateSpec;
  bulk: boolean;
  /** How long to wait for evidence that the probes run (default 30 s). */
  readyTimeoutMs?: number;
  /** The relay buffer per CPU: staprun's `-b MB` for a prebuilt module, stap's `-s MB` for a script. */
  buffer?: number;
  /**
   * Run stap (or staprun) under umask 077, so that every file its stapio daemon ever creates is 0600 (see
   * {@linkcode RunOptions.privateUmask}).
   */
  privateFiles?: boolean;
}

/**
 * The argv that starts a file recorder: `stap -F -m MODULE -o FILE [-S …] [-b] …`, or for a prebuilt module
 * `staprun -D -o FILE [-S …] [-b MB] FILE.ko` (bulk is compiled into the module, staprun has no flag for it).
 */
export function fileArgv(options: FileStartOptions): string[] {
  const { host } = options;
  const rotate = options.rotate
    ? [
      "-S",
      stapSize(options.rotate.size, host) + (options.rotate.count ? `,${options.rotate.count}` : ""),
    ]
    : [];
  const out = join(options.runDir, options.base);
  if (options.prebuilt !== undefined) {
    const size = options.buffer ? ["-b", stapSize(options.buffer, host)] : [];
    return [...host.staprun, "-D", "-o", out, ...rotate, ...size, options.prebuilt];
  }
  return [
    ...host.stap,
    "-F",
    "-m",
    options.module,
    "-o",
    out,
    ...rotate,
    ...(options.bulk ? ["-b"] : []),
    ...(options.buffer ? ["-s", stapSize(options.buffer, host)] : []),
    ...(options.extraArgs ?? []),
    ...(options.stapArgs ?? []),
    ...scriptArgs(options.script!),
  ];
}

/**
 * Starts a file-mode recorder: stap prints the daemon's pid before the probes run and before the files exist
 * (docs/systemtap-4.8.md 2.2), so this waits, bounded, until the module is loaded and the first file exists.
 */
export async function startFile(options: FileStartOptions): Promise<FileStart> {
  const { host } = options;
  const argv = fileArgv(options);
  const result = await runCommand(argv, {
    cwd: options.workDir,
    env: host.env,
    signal: options.signal,
    privateUmask: options.privateFiles,
  });
  const pid = parsePidLine(result.stdout);
  if (result.code !== 0 || pid === undefined) {
    throw await stapFailed(options, result.stderr, result.code === 0 ? 1 : result.code);
  }
  const pidStart = (await processStartTime(pid)) ?? null;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (true) {
    const loaded = (await listModules(host.procRoot)).some((m) => m.name === options.module);
    const files = listRunFiles(options.runDir, options.base);
    const alive = await processAlive(pid, pidStart ?? undefined);
    // The files exist once the probes are about to run; a script that ends at once (exit(), -T) has
    // recorded too, even if its daemon is already gone.
    if (files.length > 0 && (loaded || !alive)) return { module: options.module, pid, pidStart };
    if (!alive) {
      if (loaded) await unloadModule(host, options.module).catch(() => {});
      throw new StapfrError(
        `Cannot start recorder "${options.recorder}": the stapio daemon (pid ${pid}) exited before recording began`,
        {
          code: "failed",
          hint: 'A daemon reports to syslog, not the terminal: see "journalctl -t stapio" ' +
            "(on the simulator, run the same script in memory mode to see the error)",
        },
      );
    }
    if (Date.now() > deadline || options.signal?.aborted) {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch {
        // Gone meanwhile.
      }
      throw new StapfrError(
        `Cannot start recorder "${options.recorder}": no sign of recording from stapio (pid ${pid}) ` +
          `after ${Math.round((options.readyTimeoutMs ?? 30_000) / 1000)} s (module ${
            loaded ? "loaded" : "not loaded"
          }, ${files.length} files)`,
        { code: "timeout", hint: 'It was sent SIGTERM; check "journalctl -t stapio" and "stapfr gc"' },
      );
    }
    await sleep(50, options.signal);
  }
}

/**
 * The SystemTap major version from `stap -V` (which prints to stderr), e.g. 4 for 4.8.
 * Undefined when it cannot be told.
 */
export async function stapMajorVersion(host: Host): Promise<number | undefined> {
  const result = await runCommand([...host.stap, "-V"], { env: host.env });
  const m = /version (\d+)\.(\d+)/.exec(result.stderr + result.stdout);
  return m ? Number(m[1]) : undefined;
}
