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
import { followRun } from "../readers/follow.ts";
import type { RecorderRecord } from "../registry.ts";
import type { PressureExpr, TriggerSpec } from "./spec.ts";
import { serveTriggerSocket } from "./trigger_socket.ts";

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

/** A health-check command run every interval; a non-zero status (or no answer within it) is the condition. */
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
    while (!signal.aborted) {
      const started = Date.now();
      let detail: string;
      let failed: boolean;
      try {
        const child = new Deno.Command(this.#command[0], {
          args: this.#command.slice(1),
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, this.#intervalMs);
        const status = await child.status;
        clearTimeout(timer);
        failed = !status.success;
        detail = status.signal
          ? `${this.#command[0]} was killed by ${status.signal} (no answer within the interval)`
          : `${this.#command[0]} exited with status ${status.code}`;
      } catch (err) {
        failed = true;
        detail = `cannot run ${this.#command[0]}: ${(err as Error).message}`;
      }
      sink.condition(this, failed, detail);
      await sleep(Math.max(0, this.#intervalMs - (Date.now() - started)), signal);
    }
  }
}

/**
 * A regular expression on a followed file: new lines only, across logrotate's rename-and-create (a new inode
 * at the path: the old file is read to its end first) and copytruncate (the file shrinks: read from its start).
 * `-` follows standard input.
 */
class LogTrigger implements Trigger {
  readonly kind = "log";
  readonly label: string;
  #file: string;
  #pattern: RegExp;
  constructor(file: string, pattern: RegExp) {
    this.#file = file;
    this.#pattern = pattern;
    this.label = `log ${file} ${pattern.source}`;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    const split = lineSplitter((line) => {
      if (this.#pattern.test(line)) sink.event(this, `line: ${line.slice(0, 500)}`);
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
    let complained = false;
    try {
      // Lines already in the file are history: start at its end.
      try {
        file = await Deno.open(this.#file, { read: true });
        const st = await file.stat();
        ino = st.ino;
        offset = await file.seek(0, Deno.SeekMode.End);
      } catch (err) {
        sink.problem(this, `cannot read "${this.#file}" yet: ${(err as Error).message}; waiting for it`);
        complained = true;
      }
      while (!signal.aborted) {
        await drain();
        const st = await Deno.stat(this.#file).catch(() => undefined);
        if (st && st.ino !== ino) {
          // Rotated (renamed and created anew), or it appeared: finish the old one, then read the new from its start.
          await drain();
          file?.close();
          file = await Deno.open(this.#file, { read: true }).catch(() => undefined);
          ino = file ? st.ino : null;
          offset = 0;
        } else if (st && file && st.size < offset) {
          // copytruncate: the file was emptied in place.
          offset = await file.seek(0, Deno.SeekMode.Start);
        } else if (!st && !complained) {
          sink.problem(this, `"${this.#file}" is gone; waiting for it to come back`);
          complained = true;
        }
        if (st) complained = false;
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

/** A regular expression on a file recorder's new output, read from its files (which disturbs nothing). */
class MarkerTrigger implements Trigger {
  readonly kind = "marker";
  readonly label: string;
  #record: RecorderRecord;
  #pattern: RegExp;
  constructor(record: RecorderRecord, pattern: RegExp) {
    this.#record = record;
    this.#pattern = pattern;
    this.label = `marker ${pattern.source}`;
  }
  async run(sink: TriggerSink, signal: AbortSignal): Promise<void> {
    const split = lineSplitter((line) => {
      if (this.#pattern.test(line)) sink.event(this, `output: ${line.slice(0, 500)}`);
    });
    const out = this.#record.output!;
    await followRun({
      runDir: out.runDir,
      base: out.base,
      bulk: out.bulk,
      sink: (chunk) => Promise.resolve(split(chunk)),
      signal,
      fromEnd: true,
      isRecording: () => Promise.resolve(!signal.aborted),
    });
  }
}

/** The running trigger for a spec. */
export function makeTrigger(spec: TriggerSpec, ctx: TriggerContext): Trigger {
  const pollMs = ctx.pollMs ?? 1000;
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
