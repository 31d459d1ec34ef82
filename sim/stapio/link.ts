/**
 * stapio's connection to a simulated module: the control socket `.cmd` and the relay sockets `traceN` that the
 * module host serves under `ROOT/proc/systemtap/MODULE/` (framing in `sim/kernel/transport.ts`). One place for the
 * socket details, so the stapio logic in `reader.ts` stays about 4.8's behaviour.
 * @module
 */
import { join } from "../../lib/path.ts";
import {
  CMD_ATTACHED,
  ControlDecoder,
  type ControlMessage,
  encodeControl,
  encodeTraceRequest,
  type RelayRecord,
  TRACE_PARKED,
  type TraceAnswer,
  TraceAnswerDecoder,
} from "../kernel/transport.ts";
import { ReadAhead, ReaderThread } from "./relay_reader.ts";

/** What a 4.8 reader thread prints when its header read finds its relay file empty (SIGUSR2, 4.6). */
export const BUFHDR_NO_DATA =
  "stapio:reader_thread:204: ERROR: bufhdr read error, attempting resync: No data available\n";

/** What stapio gets from a module. */
export interface LinkEvents {
  control(message: ControlMessage): void;
  /** The module closed `.cmd` (unloaded, host gone, or refused a second reader). */
  controlClosed(): void;
  /** A record a reader thread read (its header as read, the payload bytes it writes). */
  record(cpu: number, record: RelayRecord): void;
  /** A reader thread's message (the `bufhdr read error` of a short header read). */
  diagnostic?(cpu: number, text: string): void;
  /** The module closed `traceN` (drained at exit, or gone). */
  traceClosed(cpu: number): void;
}

/** An open control channel, with relay readers that start on demand. */
export interface ModuleLink {
  /** Relay files, one per CPU online at load. */
  readonly cpus: number;
  send(type: number, payload?: Uint8Array): Promise<void>;
  /** Opens the relay files and starts one reader per CPU (idempotent). */
  startReaders(): Promise<void>;
  /** Stops reading one CPU (a reader thread that died on a write error). */
  stopReader(cpu: number): void;
  /**
   * Stops the readers as a detach or an exit does: each finishes the round it is in (a record whose header
   * it read is read to its end and passed on), passes on what it had read ahead, and reads nothing more.
   * What it did not read stays in the ring.
   */
  stopReaders(): Promise<void>;
  /** How many reader threads wait in ppoll (their ring is empty). */
  readonly parked: number;
  /**
   * SIGUSR2 to the reader threads (docs/systemtap-4.8.md 4.6): returns how many wait in ppoll now (each reads a
   * header from its empty relay file at once, fails and says so). Each of the others takes the signal at its
   * next ppoll and says so then if its ring is empty (with data to read, its header read succeeds).
   */
  interruptReaders(): number;
  /**
   * Whether some reader thread is outside ppoll (reading, or writing what it read): a signal the kernel hands
   * to such a thread is lost under `-A` (docs/systemtap-4.8.md 2.5). A reader waits in ppoll only while its
   * ring is empty.
   */
  readonly busy: boolean;
  /**
   * Closes everything; pending reads end. Resolves once the module shows the reader gone (as the close of
   * `.cmd` does in the kernel), or after a bounded wait. With `drain` (a detach), `.cmd` is closed first and the
   * relay streams are read to their end before they are closed: what the module had already handed over is
   * delivered, not dropped.
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** The module's directory under the simulator's root. */
export function moduleDir(root: string, name: string): string {
  return join(root, "proc", "systemtap", name);
}

/** Counts `trace0 … traceN-1` in the module's directory (staprun probes them in order, docs/systemtap-4.8.md 6 item 13). */
export async function countRelayFiles(dir: string): Promise<number> {
  let n = 0;
  for (;;) {
    try {
      await Deno.lstat(join(dir, `trace${n}`));
      n++;
    } catch {
      return n;
    }
  }
}

/** Thrown when `.cmd` cannot be opened: the module is absent (or its host is gone). */
export class NotRunningError extends Error {
  override name = "NotRunningError";
}

/**
 * Connects to a module served over Unix sockets. `backpressure`, if given, is awaited before each relay read of
 * a CPU (stapio's write to a slow output blocks that CPU's reader thread the same way).
 */
export async function connectModule(
  dir: string,
  events: LinkEvents,
  backpressure?: (cpu: number) => Promise<void>,
): Promise<ModuleLink> {
  let ctl: Deno.UnixConn;
  try {
    ctl = await Deno.connect({ transport: "unix", path: join(dir, ".cmd") });
  } catch (err) {
    throw new NotRunningError(`Cannot connect to "${join(dir, ".cmd")}"`, { cause: err });
  }
  // The host's verdict, as the kernel's open() of .cmd: this stapio is the reader, or another one is.
  const verdict = new Uint8Array(1);
  const n = await ctl.read(verdict).catch(() => null);
  if (n !== 1 || verdict[0] !== CMD_ATTACHED[0]) {
    ctl.close();
    throw new NotRunningError(`"${join(dir, ".cmd")}" is busy: another reader is attached`);
  }
  const cpus = await countRelayFiles(dir);
  return new SocketLink(dir, cpus, ctl, events, backpressure);
}

class SocketLink implements ModuleLink {
  readonly cpus: number;
  readonly #dir: string;
  readonly #ctl: Deno.UnixConn;
  readonly #events: LinkEvents;
  readonly #traces: (Deno.UnixConn | undefined)[] = [];
  readonly #threads: ReaderThread[] = [];
  /** Per CPU: the reader waits in ppoll (its ring is empty). */
  readonly #parked: boolean[] = [];
  /** Readers a SIGUSR2 found outside ppoll: the signal is pending until their next ppoll. */
  readonly #interrupted = new Set<number>();
  readonly #tasks: Promise<void>[] = [];
  readonly #stopped = new Set<number>();
  #closed = false;
  /** Detaching: `.cmd` is closed and the relay streams are being read to their end. */
  #draining = false;
  #started = false;
  /** The host has written on `.cmd`: it accepted this connection, so this link is its reader. */
  #heard = false;
  /** Resolves when close() begins: a reader parked in the backpressure wait stops waiting. */
  readonly #closing: Promise<void>;
  #markClosing!: () => void;
  /** stopReaders() was called: each reader finishes its round and ends. */
  #stopping = false;
  readonly #stopped_: Promise<void>;
  #markStopped!: () => void;

  readonly #backpressure?: (cpu: number) => Promise<void>;

  constructor(
    dir: string,
    cpus: number,
    ctl: Deno.UnixConn,
    events: LinkEvents,
    backpressure?: (cpu: number) => Promise<void>,
  ) {
    this.#backpressure = backpressure;
    this.cpus = cpus;
    this.#dir = dir;
    this.#ctl = ctl;
    this.#events = events;
    this.#closing = new Promise((resolve) => (this.#markClosing = resolve));
    this.#stopped_ = new Promise((resolve) => (this.#markStopped = resolve));
    this.#tasks.push(this.#readControl());
  }

  async #readControl(): Promise<void> {
    const decoder = new ControlDecoder();
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#ctl.read(buf);
        if (n === null) break;
        this.#heard = true;
        for (const m of decoder.push(buf.slice(0, n))) this.#events.control(m);
      }
    } catch {
      // closed under us
    }
    if (!this.#closed) this.#events.controlClosed();
  }

  async send(type: number, payload?: Uint8Array): Promise<void> {
    // A message to a channel that has closed (the module exited while stapio was still starting) goes
    // nowhere, as a write to a released .cmd would.
    if (this.#closed) return;
    const bytes = encodeControl(type, payload);
    let done = 0;
    try {
      while (done < bytes.length) done += await this.#ctl.write(bytes.subarray(done));
    } catch (err) {
      if (!this.#closed) throw err;
    }
  }

  async startReaders(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      this.#threads.push(new ReaderThread());
      this.#parked.push(false);
      if (this.#closed) {
        this.#traces.push(undefined);
        continue;
      }
      try {
        const conn = await Deno.connect({ transport: "unix", path: join(this.#dir, `trace${cpu}`) });
        if (this.#closed) {
          conn.close();
          this.#traces.push(undefined);
          continue;
        }
        this.#traces.push(conn);
      } catch {
        this.#traces.push(undefined);
        continue;
      }
      this.#tasks.push(this.#readTrace(cpu));
    }
  }

  /**
   * One reader thread: its ppolls and reads of `traceN`, each a request and its answer (sim/kernel/transport.ts). It
   * ends at the end of the file, when the link closes, or (stopping) once its round is done and nothing it
   * read is left unwritten.
   */
  async #readTrace(cpu: number): Promise<void> {
    const conn = this.#traces[cpu]!;
    const thread = this.#threads[cpu];
    const ahead = new ReadAhead();
    const answers = new TraceAnswerDecoder();
    const queued: TraceAnswer[] = [];
    const input = new Uint8Array(READ_SIZE);
    let ended = false;
    let finalRead = false;
    /** The next answer from the host; undefined at the end of the file. */
    const answer = async (): Promise<TraceAnswer | undefined> => {
      while (queued.length === 0) {
        const n = await conn.read(input);
        if (n === null) return undefined;
        queued.push(...answers.push(input.subarray(0, n)));
      }
      return queued.shift();
    };
    const send = async (count: number, wait: boolean, asIs = false): Promise<void> => {
      const request = encodeTraceRequest(count, wait, asIs);
      for (let done = 0; done < request.length;) done += await conn.write(request.subarray(done));
    };
    /** A ppoll the link stopped waiting for: its answer comes before the next read's. */
    let pollOut: Promise<TraceAnswer | undefined> | undefined;
    /** ppoll: true once the file has data; false at its end, or when the link stops reading meanwhile. */
    const poll = async (): Promise<boolean> => {
      await send(0, true);
      for (;;) {
        const next = answer();
        const a = await Promise.race([next, this.#stopped_.then(() => "stop" as const)]);
        if (a === "stop") {
          pollOut = next;
          return false;
        }
        if (a === undefined) {
          ended = true;
          return false;
        }
        this.#parked[cpu] = a.rc === TRACE_PARKED;
        // A pending SIGUSR2 interrupts the ppoll: the header read of an empty file fails.
        if (a.rc === TRACE_PARKED && this.#interrupted.delete(cpu)) {
          this.#events.diagnostic?.(cpu, BUFHDR_NO_DATA);
        }
        if (a.rc !== TRACE_PARKED) {
          this.#interrupted.delete(cpu);
          return true;
        }
      }
    };
    /** Takes the rest of an abandoned ppoll's answers (the host ends it when the next request comes). */
    const settlePoll = async (): Promise<void> => {
      if (!pollOut) return;
      let a = await pollOut;
      pollOut = undefined;
      while (a !== undefined && a.rc === TRACE_PARKED) a = await answer();
      if (a === undefined) ended = true;
    };
    const read = async (count: number): Promise<Uint8Array | number> => {
      // stapio blocks in its write to a slow output; what it has not read stays in the ring meanwhile.
      if (this.#backpressure && !this.#stopping) {
        await Promise.race([this.#backpressure(cpu), this.#closing, this.#stopped_]);
      }
      if (this.#closed) return 0;
      // Once stopping, the rings are read as they are: every CPU's last read sees the same moment.
      await send(count, false, this.#stopping);
      await settlePoll();
      if (ended) return 0;
      const a = await answer();
      if (a === undefined) {
        ended = true;
        return 0;
      }
      return a.rc > 0 ? a.bytes : a.rc;
    };
    try {
      while (!this.#closed && !ended) {
        if (this.#stopped.has(cpu)) {
          // The thread exited after its write error: its ring is no longer read.
          await Promise.race([this.#closing, this.#stopped_]);
          break;
        }
        const request = thread.next();
        if (request.wait && ahead.held === 0) {
          if (this.#stopping) {
            // A 4.8 reader wakes the moment a record is written, so at a stop it has read what was there:
            // one last read takes what the ring holds now, then the thread ends at the end of its round.
            if (finalRead) break;
            finalRead = true;
          } else if (!(await poll())) {
            if (!this.#stopping) break;
            finalRead = true;
          }
        }
        const got = await ahead.readAsync(request.count, read);
        if (finalRead && typeof got === "number" && ahead.held === 0) break;
        for (const event of thread.got(got)) {
          if (this.#stopped.has(cpu)) break;
          if (event.kind === "record") {
            this.#events.record(cpu, {
              seq: event.seq,
              payload: event.payload,
              ...(event.length !== event.payload.length ? { length: event.length } : {}),
            });
          } else if (event.kind === "diag") this.#events.diagnostic?.(cpu, event.text);
        }
      }
    } catch {
      // closed under us
    }
    this.#parked[cpu] = false;
    if (!this.#closed && !this.#stopping) this.#events.traceClosed(cpu);
  }

  async stopReaders(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#markStopped();
    await bounded(Promise.allSettled(this.#tasks.slice(1)), CLOSE_WAIT_MS);
  }

  stopReader(cpu: number): void {
    this.#stopped.add(cpu);
  }

  interruptReaders(): number {
    let parked = 0;
    this.#traces.forEach((trace, cpu) => {
      if (trace === undefined || this.#stopped.has(cpu)) return;
      if (this.#parked[cpu]) parked++;
      else this.#interrupted.add(cpu);
    });
    return parked;
  }

  get parked(): number {
    return this.#parked.filter((p, cpu) => p && this.#traces[cpu] !== undefined).length;
  }

  get busy(): boolean {
    return this.#traces.some((t, cpu) => t !== undefined && !this.#stopped.has(cpu) && !this.#parked[cpu]);
  }

  async close(options: { drain?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    if (options.drain && this.#tasks.length > 0) {
      // The host ends each relay stream once the writes it had started are out (sim/module_host/server.ts).
      try {
        this.#ctl.close();
      } catch {
        // already closed
      }
      this.#draining = true;
      await bounded(Promise.allSettled(this.#tasks), CLOSE_WAIT_MS);
    }
    this.#closed = true;
    this.#markClosing();
    for (const c of [this.#ctl, ...this.#traces]) {
      try {
        c?.close();
      } catch {
        // already closed
      }
    }
    // In the kernel the refcount drops in the close of .cmd itself; the host sees a socket close a moment
    // later. So the host is asked to answer once it has seen this close and /proc/modules shows it, and
    // stapio exits after that answer. Only a link the host has written to is its reader (a refused or
    // not yet accepted connection has nothing to wait for).
    const question = this.#heard ? await askDetached(this.#dir) : undefined;
    await bounded(Promise.allSettled(this.#tasks), CLOSE_WAIT_MS);
    if (question) await question.answered();
  }
}

/** Bytes taken from a trace socket at once (a read-ahead answer and its rc). */
const READ_SIZE = 256 * 1024 + 4;

/** How long close() waits for the reads to end and for the host's answer (each): never forever. */
const CLOSE_WAIT_MS = 10_000;

/** Resolves when `promise` settles or after `ms`, whichever is first. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * Asks the module host (on `host.sock`) to say when the current reader's close has been seen and the refcount
 * written (`sim/module_host/main.ts`). Undefined when the host cannot be asked (gone): nothing to wait for then.
 */
async function askDetached(dir: string): Promise<{ answered(): Promise<void> } | undefined> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: join(dir, "host.sock") });
  } catch {
    return undefined;
  }
  try {
    const bytes = new TextEncoder().encode("detach\n");
    for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
  } catch {
    conn.close();
    return undefined;
  }
  return {
    async answered(): Promise<void> {
      // Any answer or the end of the connection will do; the host closes it after writing "ok".
      await bounded(conn.read(new Uint8Array(16)).catch(() => null), CLOSE_WAIT_MS);
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
