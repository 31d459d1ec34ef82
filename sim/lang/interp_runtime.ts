/**
 * The state of one running script (a module instance): session state, limits, error accounting, the per-CPU
 * print buffer and the context of the probe hit being run. Shared by the compiled closures.
 * @module
 */
import type { ProbeSink, RuntimeCounters } from "../kernel/program.ts";
import type { SimTask, WorkloadEvent } from "../workload/workload.ts";
import type { Expr, Statement } from "./ast.ts";

/** A node that can be named in a message. */
export type Node = Expr | Statement;

/** `STAP_SESSION_*`. */
export const STARTING = 0, RUNNING = 1, ERROR = 2, STOPPING = 3, STOPPED = 4;

/** stap's limits (`runtime_defines.h`), settable with `-D NAME=VALUE`. */
export interface Limits {
  MAXACTION: number;
  /** Begin and end probes run interruptible: MAXACTION_INTERRUPTIBLE = MAXACTION * 10. */
  MAXACTION_INTERRUPTIBLE: number;
  MAXMAPENTRIES: number;
  MAXERRORS: number;
  MAXNESTING: number;
  MAXSTRINGLEN: number;
}

/** The defaults of stap 4.8 on x86_64. */
export const DEFAULT_LIMITS: Limits = {
  MAXACTION: 1000,
  MAXACTION_INTERRUPTIBLE: 10000,
  MAXMAPENTRIES: 2048,
  MAXERRORS: 0,
  MAXNESTING: 10,
  MAXSTRINGLEN: 512,
};

/** The per-CPU print buffer size (`STP_BUFFER_SIZE`). */
export const STP_BUFFER_SIZE = 8192;

/** How stap names a node in "near …" messages (`token::operator<<`): `operator '/' at f.stp:2:27`. */
export function describeNode(node: Node): string {
  const where = `${node.loc.file}:${node.loc.line}:${node.loc.column}`;
  switch (node.kind) {
    case "binary":
    case "comparison":
    case "logical":
    case "assignment":
    case "unary":
    case "incdec":
    case "regex_match":
      return `operator '${node.op}' at ${where}`;
    case "concat":
      return `operator '.' at ${where}`;
    case "ternary":
      return `operator '?' at ${where}`;
    case "stat_op":
      return `operator '@${node.op}' at ${where}`;
    case "histogram":
      return `operator '@hist_${node.type}' at ${where}`;
    case "symbol":
      return `identifier '${node.name}' at ${where}`;
    case "array_index":
      return node.base.kind === "symbol"
        ? `identifier '${node.base.name}' at ${where}`
        : `operator '@hist_${node.base.type}' at ${where}`;
    case "call":
    case "print_format":
      return `identifier '${node.name}' at ${where}`;
    case "number":
      return `number '${node.text}' at ${where}`;
    case "string":
      return `string '${node.raw}' at ${where}`;
    case "block":
      return `operator '{' at ${where}`;
    case "target_symbol":
      return `identifier '${node.name}' at ${where}`;
    default:
      return `keyword at ${where}`;
  }
}

/** A run-time error of the script (`c->last_error`), with the statement it happened near. */
export class ScriptRuntimeError extends Error {
  constructor(message: string, readonly near: Node | string | null) {
    super(message);
    this.name = "ScriptRuntimeError";
  }

  /** The text of the `ERROR:` message, as `_stp_softerror("%s near %s", …)` prints it. */
  text(): string {
    if (this.near === null) return this.message;
    return `${this.message} near ${typeof this.near === "string" ? this.near : describeNode(this.near)}`;
  }
}

/** `abort()`: leave the handler without an error. */
export class AbortSignal_ extends Error {}

/** Shared state of one script instance. */
export class Runtime {
  state = STARTING;
  errors = 0;
  hits = 0;
  actions = 0;
  nesting = 0;
  /** The CPU the current hit runs on. */
  cpu = 0;
  /** Virtual time of the current hit, ns since load. */
  now = 0;
  /** The workload record of the current hit (for timer, begin and end probes: a synthetic one). */
  ev!: WorkloadEvent;
  /** pp() and pn() of the running handler. */
  pp = "";
  pn = "";
  func = "";
  /** The return value of the function being left. */
  retval: unknown = 0;
  /** tokenize()'s saved position. */
  tokenizeRest: string | null = null;
  exitRequested = false;
  private readonly buf = new Uint8Array(STP_BUFFER_SIZE);
  private len = 0;
  private readonly byteCache = new Map<string, Uint8Array>();
  private readonly views: Uint8Array[] = [];
  /** Wall clock at load, ns since the epoch (gettimeofday_* = this + now). */
  readonly epochNs: bigint;

  constructor(
    readonly sink: ProbeSink,
    readonly limits: Limits,
    readonly cpus: number,
    readonly stapio: SimTask,
    epochNs: bigint,
    /** The runtime's counters (the module's relay), for the natives of stapfr's tapset. */
    readonly counters: () => RuntimeCounters = () => ({ transportFailures: 0, sequence: 0 }),
  ) {
    this.epochNs = epochNs;
  }

  /**
   * Appends output (a byte string), flushing a full 8 KiB buffer mid-probe as `_stp_print` does. (printf
   * output is split the same way; the runtime would flush before a conversion that does not fit.)
   */
  emit(s: string): void {
    const buf = this.buf;
    let len = this.len;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (len === STP_BUFFER_SIZE) {
        this.len = len;
        this.flush();
        len = 0;
      }
      buf[len++] = s.charCodeAt(i);
    }
    this.len = len;
  }

  /**
   * Appends the output of one printf (`_stp_reserve_bytes`): when it does not fit in what is left of the
   * buffer, the buffer is flushed first; output longer than the buffer is cut at STP_BUFFER_SIZE.
   */
  emitReserved(parts: string[], count: number): void {
    let total = 0;
    for (let i = 0; i < count; i++) total += parts[i].length;
    if (total > STP_BUFFER_SIZE) total = STP_BUFFER_SIZE;
    if (this.len + total > STP_BUFFER_SIZE) this.flush();
    const buf = this.buf;
    let len = this.len;
    const end = len + total;
    for (let p = 0; p < count && len < end; p++) {
      const s = parts[p];
      const n = s.length;
      if (n > 8 && len + n <= end) {
        // Longer pieces repeat a lot (names, command lines): their bytes are cached and copied natively.
        let bytes = this.byteCache.get(s);
        if (bytes === undefined && this.byteCache.size < 4096) {
          bytes = new Uint8Array(n);
          for (let i = 0; i < n; i++) bytes[i] = s.charCodeAt(i);
          this.byteCache.set(s, bytes);
        }
        if (bytes !== undefined) {
          buf.set(bytes, len);
          len += n;
          continue;
        }
      }
      for (let i = 0; i < n && len < end; i++) buf[len++] = s.charCodeAt(i);
    }
    this.len = len;
  }

  /** Bytes in the print buffer. */
  get pending(): number {
    return this.len;
  }

  /**
   * Sends the print buffer as one record of the current CPU (`_stp_print_flush`). The bytes are a view of one
   * reused buffer: the sink copies the record (into the relay ring) before returning.
   */
  flush(): void {
    const n = this.len;
    if (n === 0) return;
    this.len = 0;
    // Views of the buffer are made once per length: a flush allocates nothing.
    const view = this.views[n] ?? (this.views[n] = this.buf.subarray(0, n));
    this.sink.print(this.cpu, view);
  }

  /** `exit()`: stop the session (end probes still run) and ask the host to unload. */
  requestExit(): void {
    if (this.state === RUNNING || this.state === STARTING) this.state = STOPPING;
    if (!this.exitRequested) {
      this.exitRequested = true;
      this.sink.exit();
    }
  }

  /** Reports a handler's error and applies MAXERRORS (`probe_epilogue` of the translator). */
  reportError(text: string): void {
    this.sink.error(text);
    this.errors++;
    if (this.errors > this.limits.MAXERRORS) {
      this.state = ERROR;
      if (!this.exitRequested) {
        this.exitRequested = true;
        this.sink.exit();
      }
    }
  }
}
