/**
 * The watcher's triggers. Each watches one thing and reports to a {@linkcode TriggerSink}: an *event* (a
 * signal, a matching log line, a marker in the recorder's output) or the value of a *condition* (pressure over
 * a threshold, a failing health check, a process gone), which the policies turn into snapshots. They read
 * files and run commands as argv arrays, never a shell string. See docs/watch.md "Triggers".
 * @module
 */
import { join } from "../path.ts";
import { readProcDir, readProcText } from "../driver/kernel.ts";
import { sleep } from "../driver/run.ts";
import { followRun } from "../read_path/follow.ts";
import type { RecorderRecord } from "../registry.ts";
import type { PressureExpr, TriggerSpec } from "./spec.ts";
import type { Pattern } from "./pattern.ts";
import { serveTriggerSocket } from "./trigger_socket.ts";
import { declared } from "../declarations/declared.ts";

/** Where triggers report. */
export interface TriggerSink {
  /** Something happened (`detail` says what); returns what the policies decided, in a few words. */
  event(trigger: Trigger, detail: string): string;
  /** A condition was observed true or false. */
  condition(trigger: Trigger, value: boolean, detail: string): void;
  /** A trigger could not watch (a file it cannot read, a command it cannot run): logged, watching goes on. */
  problem(trigger: Trigger, message: string): void;
}

/** One running trigger. */
export interface Trigger {
  /** The kind (`signal`, `log`, …), as manifests record it. */
  readonly kind: string;
  /** The trigger as given, for logs and status (`log /var/log/app.log ERROR`). */
  readonly label: string;
  /**
   * Gets ready before the watcher says it started (a followed log is opened at its end), so that what happens
   * after "started" is seen; ends early when `signal` aborts.
   */
  prepare?(sink: TriggerSink, signal: AbortSignal): Promise<void>;
  /** Watches until `signal` aborts. */
  run(sink: TriggerSink, signal: AbortSignal): Promise<void>;
}

/** What triggers need to know of the world. */
export interface TriggerContext {
  /** `/proc` of the host (the simulator's under its root). */
  procRoot: string;
  record: RecorderRecord;
  /** The watcher's trigger socket, where `stapfr trigger NAME` sends its requests. */
  triggerSocket: string;
  /** How often conditions are polled (default 1 s). */
  pollMs?: number;
}

const decoder = new TextDecoder();

/** Splits a byte stream into lines, calling `line` for each complete one. */
function lineSplitter(line: (text: string) => void): (chunk: Uint8Array) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = parts.pop()!;
    if (rest.length > 1 << 20) rest = ""; // A "line" this long is not one.
    for (const p of parts) line(p);
  };
}

/**
 * `stapfr trigger NAME [--reason TEXT]`, over the watcher's trigger socket (lib/watch/trigger_socket.ts). Its kind
 * keeps the name `signal` that units and manifests use, though no signal is involved any more: SIGUSR1 would open
 * Deno's debugger port, and it is blocked in every long-running stapfr process.
 */
class SignalTrigger implements Trigger {
  readonly kind = "signal";
  readonly label = "signal";
  #ctx: TriggerContext;
  constructor(ctx: TriggerContext) {
    this.#ctx = ctx;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    await serveTriggerSocket(
      this.#ctx.triggerSocket,
      ({ reason }) => sink.event(this, reason ?? "stapfr trigger"),
      signal,
    );
  }
}

/**
 * A health-check command run every interval; a non-zero status (or no answer within it) is the condition.
 * Each run is a process group of its own (a new session), and the whole group is killed when the run ends,
 * however it ends: a check that does not answer within the interval, a check that left children behind
 * (`sh -c 'sleep 1000 & …'`), and the check that is running when the watcher stops, at once, so that a hung
 * check never holds the watcher's shutdown. Nothing it starts outlives its run (unless it leaves the session
 * itself, as a daemon does).
 */
class ExitStatusTrigger implements Trigger {
  readonly kind = "exit-status";
  readonly label: string;
  #command: string[];
  #intervalMs: number;
  constructor(command: string[], intervalMs: number) {
    this.#command = command;
    this.#intervalMs = intervalMs;
    this.label = `exit-status -- ${command.join(" ")}`;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    const name = this.#command[0];
    while (!signal.aborted) {
      const started = Date.now();
      let detail: string;
      let failed: boolean;
      try {
        const child = new Deno.Command(name, {
          args: this.#command.slice(1),
          stdin: "null",
          stdout: "null",
          stderr: "null",
          // setsid: the check and everything it starts are one process group, the check's pid its id.
          detached: true,
        }).spawn();
        const killGroup = () => {
          try {
            Deno.kill(-child.pid, "SIGKILL");
          } catch { /* the group is empty */ }
        };
        let late = false;
        const timer = setTimeout(() => {
          late = true;
          killGroup();
        }, this.#intervalMs);
        signal.addEventListener("abort", killGroup, { once: true });
        let status: Deno.CommandStatus;
        try {
          status = await child.status;
        } finally {
          clearTimeout(timer);
          signal.removeEventListener("abort", killGroup);
          // What the check left behind goes with it.
          killGroup();
        }
        if (signal.aborted) break;
        failed = !status.success;
        detail = late
          ? `${name} did not answer within ${this.#intervalMs} ms (killed with its process group)`
          : status.signal
          ? `${name} was killed by ${status.signal}`
          : `${name} exited with status ${status.code}`;
      } catch (err) {
        failed = true;
        detail = `cannot run ${name}: ${(err as Error).message}`;
      }
      sink.condition(this, failed, detail);
      await sleep(Math.max(0, this.#intervalMs - (Date.now() - started)), signal);
    }
  }
}

/** `promise`, or undefined as soon as `signal` aborts (a file opened after that is closed). */
async function unlessAborted(
  promise: Promise<Deno.FsFile>,
  signal: AbortSignal,
): Promise<Deno.FsFile | undefined> {
  if (signal.aborted) {
    promise.then((f) => f.close(), () => {});
    return undefined;
  }
  let onAbort = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const file = await Promise.race([promise, aborted]);
    if (file === undefined) promise.then((f) => f.close(), () => {});
    return file;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A regular expression on a followed file: new lines only, across logrotate's rename-and-create (a new inode
 * at the path: the old file is read to its end first) and copytruncate (the file shrinks: read from its start).
 * `-` follows standard input. The watcher often runs as root and the log's directory is often writable by the
 * application it logs for, so what is found at the path is trusted only as far as it is the log: a symbolic
 * link there is never followed (it could name any file, which would be read from its start), only a regular
 * file is opened (a FIFO would block the open), the file opened must be the one that was checked, and an open
 * that blocks all the same is abandoned when the watcher stops. Of a matching line only what the pattern
 * matched is kept (lib/watch/pattern.ts).
 */
class LogTrigger implements Trigger {
  readonly kind = "log";
  readonly label: string;
  #file: string;
  #pattern: Pattern;
  constructor(file: string, pattern: Pattern) {
    this.#file = file;
    this.#pattern = pattern;
    this.label = `log ${file} ${pattern.source}`;
  }

  /** Opens the path if it is a regular file and no link; the open file and its inode, or why not. */
  async #open(signal: AbortSignal): Promise<{ file: Deno.FsFile; ino: number | null } | string | undefined> {
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(this.#file);
    } catch (err) {
      return err instanceof Deno.errors.NotFound ? `"${this.#file}" does not exist` : (err as Error).message;
    }
    if (st.isSymlink) {
      return `"${this.#file}" is a symbolic link, which is not followed (watch the file itself)`;
    }
    if (!st.isFile) return `"${this.#file}" is not a regular file`;
    let file: Deno.FsFile | undefined;
    try {
      file = await unlessAborted(Deno.open(this.#file, { read: true }), signal);
    } catch (err) {
      return (err as Error).message;
    }
    if (file === undefined) return undefined;
    const opened = await file.stat();
    if (!opened.isFile || opened.ino !== st.ino || opened.dev !== st.dev) {
      file.close();
      return `"${this.#file}" was replaced while it was opened`;
    }
    return { file, ino: opened.ino };
  }

  #first?: { file: Deno.FsFile; ino: number | null } | string;

  async prepare(_sink: TriggerSink, signal: AbortSignal): Promise<void> {
    if (this.#file === "-") return;
    const first = await this.#open(signal);
    // Lines already in the file are history: start at its end.
    if (first && typeof first !== "string") await first.file.seek(0, Deno.SeekMode.End);
    this.#first = first;
  }

  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    const split = lineSplitter((line) => {
      const match = this.#pattern.find(line);
      if (match !== undefined) sink.event(this, `match: ${match}`);
    });
    if (this.#file === "-") return await this.#stdin(split, signal);
    let file: Deno.FsFile | undefined;
    let ino: number | null = null;
    let offset = 0;
    const buf = new Uint8Array(1 << 16);
    const drain = async () => {
      for (let n; file && (n = await file.read(buf)) !== null && n > 0;) {
        offset += n;
        split(buf.subarray(0, n));
      }
    };
    let complaint: string | undefined;
    const complain = (why: string) => {
      if (why !== complaint) sink.problem(this, `cannot read ${why}; waiting for the log file`);
      complaint = why;
    };
    try {
      const first = this.#first ?? await this.#open(signal);
      if (typeof first === "string") complain(first);
      else if (first) {
        ({ file, ino } = first);
        offset = await file.seek(0, this.#first ? Deno.SeekMode.Current : Deno.SeekMode.End);
      }
      while (!signal.aborted) {
        await drain();
        const st = await Deno.lstat(this.#file).catch(() => undefined);
        if (st && (st.ino !== ino || !st.isFile)) {
          // Rotated (renamed and created anew), or it appeared: finish the old one, then read the new from its
          // start, if it is a file that may be read.
          await drain();
          file?.close();
          file = undefined;
          ino = null;
          const next = await this.#open(signal);
          if (typeof next === "string") complain(next);
          else if (next) {
            ({ file, ino } = next);
            offset = 0;
            complaint = undefined;
          }
        } else if (st && file && st.size < offset) {
          // copytruncate: the file was emptied in place.
          offset = await file.seek(0, Deno.SeekMode.Start);
        } else if (!st) {
          complain(`"${this.#file}": it is gone`);
        }
        await sleep(250, signal);
      }
    } finally {
      file?.close();
    }
  }
  async #stdin(split: (chunk: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    const reader = Deno.stdin.readable.getReader();
    const cancel = () => void reader.cancel().catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    try {
      while (!signal.aborted) {
        const { value, done } = await reader.read();
        if (done) break;
        split(value);
      }
    } catch {
      // Cancelled on abort.
    } finally {
      signal.removeEventListener("abort", cancel);
      reader.releaseLock();
    }
  }
}

/**
 * Parses one line of a PSI file (`some avg10=1.23 avg60=0.50 avg300=0.10 total=12345`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const text = "some avg10=41.00 avg60=2.00 avg300=0.50 total=999\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
 * assertEquals(pressureValue(text, "some", "avg10"), 41);
 * assertEquals(pressureValue(text, "full", "total"), 0);
 * ```
 */
export function pressureValue(
  text: string,
  scope: "some" | "full",
  field: PressureExpr["field"],
): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${scope} `));
  const m = line && new RegExp(`\\b${field}=(\\d+(?:\\.\\d+)?)`).exec(line);
  return m ? Number(m[1]) : undefined;
}

/** Whether a measured value passes the threshold. */
export function passes(value: number, expr: PressureExpr): boolean {
  switch (expr.op) {
    case ">":
      return value > expr.value;
    case ">=":
      return value >= expr.value;
    case "<":
      return value < expr.value;
    case "<=":
      return value <= expr.value;
  }
}

/** A kernel PSI threshold, read from `/proc/pressure/RESOURCE` (the simulator's under its root). */
class PressureTrigger implements Trigger {
  readonly kind = "pressure";
  readonly label: string;
  #path: string;
  #scope: "some" | "full";
  #expr: PressureExpr;
  #pollMs: number;
  constructor(
    procRoot: string,
    resource: string,
    scope: "some" | "full",
    expr: PressureExpr,
    pollMs: number,
  ) {
    this.#path = join(procRoot, "pressure", resource);
    this.#scope = scope;
    this.#expr = expr;
    this.#pollMs = pollMs;
    this.label = `pressure ${resource} ${scope} ${expr.text}`;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    let warned = false;
    while (!signal.aborted) {
      const text = await readProcText(this.#path).catch(() => undefined);
      const value = text === undefined ? undefined : pressureValue(text, this.#scope, this.#expr.field);
      if (value === undefined) {
        if (!warned) {
          sink.problem(this, `cannot read ${this.#scope} ${this.#expr.field} from "${this.#path}"`);
        }
        warned = true;
      } else {
        warned = false;
        sink.condition(this, passes(value, this.#expr), `${this.#scope} ${this.#expr.field}=${value}`);
      }
      await sleep(this.#pollMs, signal);
    }
  }
}

/** Whether a process with this pid, or any process with this command name, is running. */
async function processRunning(procRoot: string, target: { pid?: number; name?: string }): Promise<boolean> {
  if (target.pid !== undefined) {
    const stat = await readProcText(join(procRoot, String(target.pid), "stat"));
    return stat !== undefined && !/\) [ZX] /.test(stat);
  }
  const pids = ((await readProcDir(procRoot)) ?? []).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const comm = await readProcText(join(procRoot, pid, "comm")).catch(() => undefined);
    if (comm?.trim() === target.name) return true;
  }
  return false;
}

/** A process that disappears (by pid, or the last one of a name). */
class ProcessTrigger implements Trigger {
  readonly kind = "process";
  readonly label: string;
  #procRoot: string;
  #target: { pid?: number; name?: string };
  #pollMs: number;
  constructor(procRoot: string, target: { pid?: number; name?: string }, pollMs: number) {
    this.#procRoot = procRoot;
    this.#target = target;
    this.#pollMs = pollMs;
    this.label = `process ${target.pid ?? target.name}`;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    const what = this.#target.pid !== undefined ? `pid ${this.#target.pid}` : `"${this.#target.name}"`;
    while (!signal.aborted) {
      const running = await processRunning(this.#procRoot, this.#target);
      sink.condition(this, !running, running ? `${what} is running` : `${what} is gone`);
      await sleep(this.#pollMs, signal);
    }
  }
}

/**
 * A regular expression on a file recorder's new output, read from its files (which disturbs nothing). The
 * follow starts in `prepare`, at the end of the newest files, so that what the recorder writes once the watcher
 * has said it started is seen.
 */
class MarkerTrigger implements Trigger {
  readonly kind = "marker";
  readonly label: string;
  #record: RecorderRecord;
  #pattern: Pattern;
  #following?: Promise<void>;
  constructor(record: RecorderRecord, pattern: Pattern) {
    this.#record = record;
    this.#pattern = pattern;
    this.label = `marker ${pattern.source}`;
  }
  async prepare(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    let started = () => {};
    const ready = new Promise<void>((resolve) => started = resolve);
    this.#following = this.#follow(sink, signal, started);
    // Ends when the follow is positioned, or when it ends first (aborted, or failed: `run` reports that).
    await Promise.race([ready, this.#following.catch(() => {})]);
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    await (this.#following ?? this.#follow(sink, signal, () => {}));
  }
  #follow(sink: TriggerSink, signal: AbortSignal, started: () => void): Promise<void> {
    const split = lineSplitter((line) => {
      const match = this.#pattern.find(line);
      if (match !== undefined) sink.event(this, `output: ${match}`);
    });
    const out = this.#record.output!;
    return followRun({
      runDir: out.runDir,
      base: out.base,
      bulk: out.bulk,
      sink: (chunk) => Promise.resolve(split(chunk)),
      signal,
      fromEnd: true,
      isRecording: () => Promise.resolve(!signal.aborted),
      started,
    });
  }
}

/** The running trigger for a spec. */
export function makeTrigger(spec: TriggerSpec, ctx: TriggerContext): Trigger {
  const pollMs = ctx.pollMs ?? declared("watch", "interval").default!;
  switch (spec.kind) {
    case "signal":
      return new SignalTrigger(ctx);
    case "exit-status":
      return new ExitStatusTrigger(spec.command, spec.intervalMs);
    case "log":
      return new LogTrigger(spec.file, spec.pattern);
    case "pressure":
      return new PressureTrigger(ctx.procRoot, spec.resource, spec.scope, spec.expr, pollMs);
    case "process":
      // Processes are the machine's own, on the simulator too (it simulates SystemTap, not the processes).
      return new ProcessTrigger("/proc", spec, pollMs);
    case "marker":
      return new MarkerTrigger(ctx.record, spec.pattern);
  }
}
