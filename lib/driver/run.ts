/**
 * Running `stap` and `staprun` as child processes from argv arrays (never a shell string), collecting their
 * output, with bounded waits so that a background process holding a pipe open cannot hang stapfr.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { joinBytes } from "../bytes.ts";

/** What a finished command printed and how it ended. */
export interface RunResult {
  /** Exit code (128+N after a signal, as a shell reports it). */
  code: number;
  /** The signal that ended it, if one did. */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Options of {@linkcode runCommand}. */
export interface RunOptions {
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** After the process exits, how long to wait for its pipes to close (a daemon may keep a copy). */
  pipeGraceMs?: number;
  /** Aborting it sends SIGTERM to the child (stap forwards it and unloads what it loaded). */
  signal?: AbortSignal;
  /**
   * Run the child under umask 077. stapio creates its files 0666 minus its umask (docs/systemtap-4.8.md 4.1)
   * and restricts nothing itself; its daemon outlives stapfr and creates a file at every rotation, so no
   * watcher could chmod them all, and a chmod after the fact leaves a window. The umask is inherited by stap,
   * staprun and the stapio daemon, so every file the daemon ever creates is 0600 from the start, on the real
   * host and on the simulator (whose stapio applies the umask the same way). It is set in the child, through
   * `sh` (a fixed script; the argv is passed as arguments, never as shell text), not with `Deno.umask`: that
   * would change it for the whole calling process, a program's own files included, while stap runs.
   */
  privateUmask?: boolean;
}

/** Spawns argv, or explains that the program is missing or not executable. */
export function spawn(argv: readonly string[], options: Deno.CommandOptions): Deno.ChildProcess {
  try {
    return new Deno.Command(argv[0], { ...options, args: argv.slice(1) }).spawn();
  } catch (err) {
    throw spawnError(argv[0], err);
  }
}

/** The stapfr error for a program that cannot be started. */
export function spawnError(program: string, err: unknown): Error {
  if (err instanceof Deno.errors.NotFound) {
    return new StapfrError(`Cannot run "${program}": not found`, {
      code: "missing_program",
      hint: program.endsWith("staprun")
        ? "Install SystemTap's runtime (apt install systemtap-runtime), or try the simulator with --sim"
        : "Install SystemTap (apt install systemtap), or try the simulator with --sim",
      cause: err,
    });
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new StapfrError(`Cannot run "${program}": permission denied`, {
      code: "permission",
      hint: program.endsWith("staprun")
        ? "staprun is only for root and the members of group stapusr: run as root or join stapusr"
        : "Check the permissions of the program, or run as root",
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Reads a stream to its end, or until `stop` resolves; returns what was read as text. */
export async function readAllText(
  stream: ReadableStream<Uint8Array>,
  stop?: Promise<unknown>,
): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let stopped = false;
  stop?.then(() => {
    stopped = true;
    reader.cancel().catch(() => {});
  });
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done || stopped) break;
      chunks.push(value);
    }
  } catch {
    // Cancelled after the grace period: keep what was read.
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(joinBytes(chunks));
}

/** Sleeps `ms` milliseconds (ends early, without error, when `signal` aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Waits for `work`, at most `ms` milliseconds (its timer cleared either way); whether it ended in time. A
 * rejection of `work` is thrown.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(await within(Promise.resolve(), 1000), true);
 * assertEquals(await within(new Promise(() => {}), 10), false);
 * ```
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs argv to its end and returns its exit code and output. stdin is closed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const result = await runCommand(["sh", "-c", "echo out; echo err >&2; exit 3"]);
 * assertEquals([result.code, result.stdout, result.stderr], [3, "out\n", "err\n"]);
 * ```
 */
export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  // Cancelled before it ran: nothing is started (an abort event would not come again to stop it).
  options.signal?.throwIfAborted();
  const program = argv[0];
  if (options.privateUmask) argv = ["sh", "-c", 'umask 077 && exec "$@"', "sh", ...argv];
  const child = spawn(argv, {
    cwd: options.cwd,
    env: options.env ? { ...options.env } : undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const onAbort = (): void => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const exited = child.status;
  const graceOver = exited.then(() =>
    new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, options.pipeGraceMs ?? 2000);
    })
  );
  try {
    const [status, stdout, stderr] = await Promise.all([
      exited,
      readAllText(child.stdout, graceOver),
      readAllText(child.stderr, graceOver),
    ]);
    if (options.privateUmask && (status.code === 127 || status.code === 126)) {
      // sh could not exec the program: said as a spawn of it would say it.
      if (stderr.includes(`exec: ${program}: not found`)) {
        throw spawnError(program, new Deno.errors.NotFound(stderr.trim()));
      }
      if (/Permission denied/.test(stderr)) {
        throw spawnError(program, new Deno.errors.PermissionDenied(stderr.trim()));
      }
    }
    return { code: status.code, signal: status.signal, stdout, stderr };
  } finally {
    clearTimeout(graceTimer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
