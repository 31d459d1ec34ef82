/**
 * One `staprun -A MODULE` reader (docs/systemtap-4.8.md 2.3 to 2.5). It runs in a session of its own (setsid), so a
 * Ctrl-C at the terminal reaches stapfr only; stapfr then decides: SIGQUIT detaches (the recording goes on),
 * SIGTERM unloads (end probes run, their output arrives here). Because stapio 4.8 can lose a signal under
 * `-A`, each signal is resent after a bounded wait, and a stapio that ignores every one is killed: that
 * detaches without unloading.
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { Host } from "../host.ts";
import { diagnosticLines, explainFailure } from "./stap_failure.ts";
import { moduleState } from "./kernel.ts";
import { type LiveReader, liveReaders } from "./live_readers.ts";
import { sleep, spawn, within } from "./run.ts";
import { signalUntilGone } from "./signal_until_gone.ts";
import { decideWait, type TrickleWindow, type WaitLimits, type WaitOutcome } from "./drain_wait.ts";
import { concatBytes } from "../bytes.ts";

/** Options of {@linkcode AttachSession.open}. */
export interface SessionOptions {
  host: Host;
  module: string;
  /** The recorder's name, for messages. */
  recorder?: string;
  /**
   * Receives what stapio prints on stdout, chunk by chunk. When it throws `Deno.errors.BrokenPipe` the
   * session stops passing data on (and the caller detaches).
   */
  sink: (chunk: Uint8Array) => Promise<void>;
  /** Receives stapio's diagnostic lines (module warnings and errors), without the detach message. */
  onDiagnostic?: (line: string) => void;
  /** How long to wait for stapio to react to a signal before sending it again (default 3 s). */
  signalWaitMs?: number;
  /** How many times to send a signal before giving up (default 3). */
  signalAttempts?: number;
  /**
   * Called with staprun's pid right after it is spawned, in the same turn of the event loop (the reader record,
   * docs/strays.md); the function it returns is called once staprun has exited.
   */
  register?: (pid: number) => () => void;
  /**
   * A bulk module: stapio writes each CPU's raw records to its own output (`-o DIR/cpu` gives `DIR/cpu_N`),
   * which the session makes named pipes and reads as they come, instead of stapio's stdout
   * (docs/loss-accounting.md "The read path").
   */
  bulk?: BulkOutputs;
}

/** Where a bulk read's per-CPU outputs go. */
export interface BulkOutputs {
  /** A private, empty directory (0700) for the named pipes; the caller removes it. */
  dir: string;
  /** How many CPUs (the module's relay channels, `traceN`). */
  cpus: number;
  /** One CPU's bytes, in order; awaited before more is read (a slow consumer slows stapio down). */
  onData(cpu: number, chunk: Uint8Array): Promise<void>;
  /** One CPU's output ended (stapio closed it, or never opened it). */
  onEnd(cpu: number): Promise<void>;
}

/** The path of CPU `cpu`'s output in a bulk read's directory (stapio names them `F_N` for `-o F`). */
export function bulkOutputPath(dir: string, cpu: number): string {
  return `${dir}/cpu_${cpu}`;
}

export type { WaitOutcome } from "./drain_wait.ts";

/** The longest a drain waits for stapio to attach before its clocks start anyway. */
export const ATTACH_WAIT_MS = 15_000;

/** A running `staprun -A`. */
export class AttachSession {
  /** The pid of staprun, which is also stapio's (staprun execs it). */
  readonly pid: number;
  /** Bytes stapio printed on stdout so far. */
  bytes = 0;
  /** When the last byte arrived (or the session opened). */
  lastDataAt: number = Date.now();
  /** Whether the sink refused more data (a closed pipe, or a failed write). */
  sinkClosed = false;
  /** The error of a failed write (not a closed pipe): the caller detaches, then reports it. */
  sinkError: Error | undefined;
  /** Resolves when staprun has exited and its output has been passed on. */
  readonly done: Promise<Deno.CommandStatus>;
  #exitStatus: Deno.CommandStatus | undefined;
  #child: Deno.ChildProcess;
  #options: SessionOptions;
  #stderr = "";
  #stderrPartial = "";
  // stapio's diagnostics are held until it delivers data or ends well: if the attach fails they are the
  // detail of the explained error instead, so they never come before stapfr's explanation, nor twice.
  #held: string[] | null = [];
  /** Signals stapfr sent to staprun. */
  #sent = new Set<Deno.Signal>();

  private constructor(child: Deno.ChildProcess, options: SessionOptions) {
    this.#child = child;
    this.#options = options;
    this.pid = child.pid;
    const unregister = options.register?.(child.pid) ?? (() => {});
    // Recording the reader reads /proc (a short helper process without --allow-all): the idle clock starts
    // after it, so that it does not eat into the time stapio has to start.
    this.lastDataAt = Date.now();
    // If stapfr exits while attached (a third Ctrl-C, an error nothing caught), stapio must not stay attached:
    // with its reader gone it would hang with overwrite off (docs/systemtap-4.8.md section 6, item 4). Detach it
    // on the way out; should that signal be lost, the reader record lets list and gc find the stray.
    const onExit = (): void => {
      try {
        if (!this.#exitStatus) Deno.kill(child.pid, "SIGQUIT");
      } catch {
        // Already gone.
      }
    };
    globalThis.addEventListener("unload", onExit);
    const live: LiveReader = { pid: child.pid, hurry: onExit };
    liveReaders.add(live);
    const pumps = Promise.all([
      this.#pumpStdout(),
      this.#pumpStderr(),
      ...Array.from({ length: options.bulk?.cpus ?? 0 }, (_, cpu) => this.#pumpOutput(cpu)),
    ]);
    this.done = child.status.then(async (status) => {
      globalThis.removeEventListener("unload", onExit);
      liveReaders.delete(live);
      unregister();
      await pumps;
      this.#exitStatus = status;
      if (this.#failedAttach()) this.#held = null;
      else this.#release();
      return status;
    });
  }

  /** Starts `staprun -A MODULE` in its own session (with per-CPU named pipes for a bulk module). */
  static async open(options: SessionOptions): Promise<AttachSession> {
    const outputs: string[] = [];
    if (options.bulk) {
      const paths = Array.from(
        { length: options.bulk.cpus },
        (_, cpu) => bulkOutputPath(options.bulk!.dir, cpu),
      );
      await makeFifos(paths);
      outputs.push("-o", `${options.bulk.dir}/cpu`);
    }
    const child = spawn([...options.host.staprun, "-A", ...outputs, options.module], {
      env: { ...options.host.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // setsid(): the terminal's Ctrl-C must not reach stapio, whose SIGINT handler unloads the module.
      detached: true,
    });
    return new AttachSession(child, options);
  }

  /**
   * The consumer closed its end (a `BrokenPipe`) or failed: what comes from now on is read and dropped, and the
   * waits return, so that the caller detaches (a failure is kept in {@linkcode sinkError} for it to report).
   */
  stopSink(err: unknown): void {
    if (!(err instanceof Deno.errors.BrokenPipe)) {
      this.sinkError ??= err instanceof Error ? err : new Error(String(err));
    }
    this.sinkClosed = true;
  }

  /** Everything stapio printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The exit status once staprun has exited. */
  get exitStatus(): Deno.CommandStatus | undefined {
    return this.#exitStatus;
  }

  #diagnostic(line: string): void {
    if (this.#held) this.#held.push(line);
    else this.#options.onDiagnostic?.(line);
  }

  /** Passes the held diagnostics on; from now on they go straight through. */
  #release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const line of held) this.#options.onDiagnostic?.(line);
  }

  /** Whether staprun ended in a failure that {@linkcode throwIfFailed} explains. */
  #failedAttach(): boolean {
    const status = this.#exitStatus;
    if (!status || status.code === 0) return false;
    // Killed by our own SIGQUIT before it could handle it (a slow start under load): it never attached, or
    // its death closed the control channel, which detaches. Either way the recording goes on.
    if (status.signal === "SIGQUIT" && this.#sent.has("SIGQUIT")) return false;
    // Killed by us after it ignored every SIGQUIT: a detach (see #signalUntilExit).
    if (status.signal === "SIGKILL" && this.#sent.has("SIGKILL")) return false;
    return this.bytes === 0 || /Cannot attach to module/.test(this.#stderr);
  }

  async #pumpStdout(): Promise<void> {
    // What follows the last newline is held back until its line is complete: if stapfr has to kill stapio
    // (it ignored every signal), the line it was writing is cut short and must not be passed on as a line.
    let tail: Uint8Array = new Uint8Array(0);
    const pass = async (chunk: Uint8Array): Promise<void> => {
      if (this.sinkClosed || chunk.length === 0) return;
      try {
        await this.#options.sink(chunk);
      } catch (err) {
        // Keep draining stapio's stdout so it never blocks or sees EPIPE itself (4.8 would hang: section 6). A
        // failed write (a full disk, /dev/full) is kept for the caller to report once it has detached.
        if (!(err instanceof Deno.errors.BrokenPipe)) {
          this.sinkError = err instanceof Error ? err : new Error(String(err));
        }
        this.sinkClosed = true;
      }
    };
    for await (const chunk of this.#child.stdout) {
      if (this.#held) this.#release();
      this.bytes += chunk.length;
      this.lastDataAt = Date.now();
      const nl = chunk.lastIndexOf(10);
      if (nl < 0) {
        tail = tail.length === 0 ? chunk.slice() : concatBytes(tail, chunk);
        continue;
      }
      await pass(
        tail.length === 0 ? chunk.subarray(0, nl + 1) : concatBytes(tail, chunk.subarray(0, nl + 1)),
      );
      tail = chunk.slice(nl + 1);
    }
    const status = await this.#child.status;
    if (tail.length > 0 && status.signal === "SIGKILL" && this.#sent.has("SIGKILL")) {
      this.#options.onDiagnostic?.(
        `stapfr: Left out ${tail.length} bytes of a line stapio was writing when it was killed`,
      );
      return;
    }
    await pass(tail);
  }

  /**
   * Reads CPU `cpu`'s named pipe until stapio closes it. Opening a pipe waits for its writer: if stapio ends
   * without opening it (a failed attach), the session opens it for writing itself, so that the read ends.
   */
  async #pumpOutput(cpu: number): Promise<void> {
    const bulk = this.#options.bulk!;
    const path = bulkOutputPath(bulk.dir, cpu);
    let opened = false;
    void this.#child.status.then(async () => {
      if (opened) return;
      try {
        (await Deno.open(path, { write: true })).close();
      } catch {
        // Opened meanwhile, or gone.
      }
    });
    try {
      using file = await Deno.open(path, { read: true });
      opened = true;
      const buf = new Uint8Array(256 * 1024);
      while (true) {
        const n = await file.read(buf);
        if (n === null) break;
        if (this.#held) this.#release();
        this.bytes += n;
        this.lastDataAt = Date.now();
        // Passed on even once the consumer is gone: the pipeline still counts what this read took from the ring.
        try {
          await bulk.onData(cpu, buf.slice(0, n));
        } catch (err) {
          this.stopSink(err);
        }
      }
    } finally {
      await bulk.onEnd(cpu).catch((err) => {
        this.sinkError ??= err instanceof Error ? err : new Error(String(err));
      });
    }
  }

  async #pumpStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderr += text;
      const parts = (this.#stderrPartial + text).split("\n");
      this.#stderrPartial = parts.pop()!;
      for (const line of diagnosticLines(parts.join("\n"))) this.#diagnostic(line);
    }
    for (const line of diagnosticLines(this.#stderrPartial)) this.#diagnostic(line);
  }

  /**
   * Waits until the backlog is drained, or another reason to stop comes first (see {@linkcode decideWait}):
   * staprun exited, the sink closed, `signal` aborted, `maxBytes` read, or `maxMs` passed. A failed attach
   * (staprun exits non-zero before printing anything) is thrown as a stapfr error.
   */
  async waitIdle(options: WaitLimits & { signal?: AbortSignal }): Promise<WaitOutcome> {
    await this.#untilAttached(options.signal);
    const startedAt = Date.now();
    let window: TrickleWindow = { start: startedAt, bytes: this.bytes };
    while (true) {
      const decision = decideWait({
        now: Date.now(),
        startedAt,
        // Silence before stapio attached is not an empty ring.
        lastDataAt: Math.max(this.lastDataAt, startedAt),
        bytes: this.bytes,
        window,
        exited: this.#exitStatus !== undefined,
        sinkClosed: this.sinkClosed,
        aborted: options.signal?.aborted ?? false,
      }, options);
      if (decision.outcome === "exited") await this.throwIfFailed();
      if (decision.outcome) return decision.outcome;
      window = decision.window;
      await within(this.done, Math.min(25, decision.wakeInMs));
    }
  }

  /**
   * Waits (at most {@linkcode ATTACH_WAIT_MS}) until stapio shows it is attached (the module's reader count in
   * /proc/modules), data came, or it ended: a drain's clocks start there, so that a slow start on a loaded
   * machine is not taken for an empty ring, nor spends the time limit.
   */
  async #untilAttached(signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + ATTACH_WAIT_MS;
    while (this.bytes === 0 && !this.#exitStatus && !signal?.aborted && Date.now() < deadline) {
      const state = await moduleState(this.#options.host.procRoot, this.#options.module).catch(() =>
        "absent"
      );
      if (state !== "detached") return;
      await within(this.done, 50);
    }
  }

  /** Waits for staprun to end (or for `signal`); a failed attach is thrown as a stapfr error. */
  async waitExit(signal?: AbortSignal): Promise<WaitOutcome> {
    while (!this.#exitStatus) {
      if (signal?.aborted) return "aborted";
      if (this.sinkClosed) return "closed";
      const stop = new AbortController();
      const onAbort = (): void => stop.abort();
      signal?.addEventListener("abort", onAbort, { once: true });
      await Promise.race([this.done, sleep(100, stop.signal)]);
      stop.abort();
      signal?.removeEventListener("abort", onAbort);
    }
    await this.throwIfFailed();
    return "exited";
  }

  /** Throws the explained error if staprun ended with a failure before delivering anything. */
  async throwIfFailed(): Promise<void> {
    const status = this.#exitStatus;
    if (!status || !this.#failedAttach()) return;
    throw explainFailure(this.#stderr, {
      operation: "attach",
      recorder: this.#options.recorder,
      module: this.#options.module,
      moduleState: await moduleState(this.#options.host.procRoot, this.#options.module),
      program: "staprun",
      code: status.code,
    });
  }

  /** Sends `signal` until stapio ends, SIGKILL as the last resort (lib/driver/signal_until_gone.ts). */
  async #signalUntilExit(signal: "SIGQUIT" | "SIGTERM"): Promise<Deno.CommandStatus> {
    const attempts = this.#options.signalAttempts ?? 3;
    // The process's own exit, not `done`: `done` also waits for its output to be passed on, which a slow
    // consumer can hold up long after stapio reacted.
    const ending = await signalUntilGone(
      {
        send: (sig) => {
          try {
            this.#sent.add(sig);
            this.#child.kill(sig);
            return true;
          } catch {
            return false; // Already gone.
          }
        },
        ended: this.#child.status,
      },
      signal,
      { attempts, waitMs: this.#options.signalWaitMs ?? 3000, killWaitMs: 60_000 },
    );
    const status = await this.#child.status;
    if (ending === "killed") {
      this.#options.onDiagnostic?.(
        `stapfr: stapio (pid ${this.pid}) ignored ${attempts} ${signal} signals (SystemTap 4.8 loses them while ` +
          "its readers are busy); it was killed, which detaches without unloading: output it had read but " +
          `not yet written is lost${
            signal === "SIGTERM" ? ", and the end probes' output cannot be read" : ""
          }`,
      );
    }
    return status;
  }

  /** Detaches with SIGQUIT (the module keeps recording); resends a lost signal. */
  async detach(): Promise<Deno.CommandStatus> {
    if (this.#exitStatus) return this.#exitStatus;
    return await this.#signalUntilExit("SIGQUIT");
  }

  /** Ends the recording with SIGTERM: end probes run, their output arrives, the module is unloaded. */
  async unload(): Promise<Deno.CommandStatus> {
    if (this.#exitStatus) return this.#exitStatus;
    return await this.#signalUntilExit("SIGTERM");
  }
}

/** Makes named pipes (0600) with `mkfifo`: Deno has no call for it. */
async function makeFifos(paths: readonly string[]): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: ["-m", "600", "--", ...paths], stdin: "null" })
    .output()
    .catch((err) => {
      throw new StapfrError(`Cannot make the named pipes a bulk read needs: ${(err as Error).message}`, {
        code: "missing_program",
        hint: "mkfifo (GNU coreutils) must be on PATH",
      });
    });
  if (out.code !== 0) {
    throw new StapfrError(`Cannot make the named pipes a bulk read needs in "${paths[0]}"`, {
      code: "io",
      detail: new TextDecoder().decode(out.stderr).trim().split("\n"),
    });
  }
}
