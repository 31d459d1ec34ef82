/**
 * The module host's sockets: `.cmd` (one attached reader at a time) and `traceN` (one per CPU), around a
 * {@linkcode SimModule}, on real time. The protocol is described in `sim/module_host/host.ts`.
 * @module
 */
import type { Clock } from "../kernel/clock.ts";
import type { QueuedMessage, SimModule } from "../kernel/module.ts";
import { CMD_ATTACHED, CMD_BUSY, ControlDecoder, encodeControl, Msg } from "../kernel/transport.ts";
import { TraceService } from "./trace_server.ts";
import { ProcfsFiles } from "../kernel/procfs_files.ts";

/** Ticks of the real-time loop: often while a reader streams, rarely when idle. */
const TICK_ATTACHED_MS = 10;
const TICK_DETACHED_MS = 50;
/** How long the end of a run waits for the readers to take what the end probes wrote. */
const EXIT_DRAIN_MS = 5_000;

/** How the server reports what happens (to the host log) and changes the lsmod refcount. */
export interface HostEvents {
  log(line: string): void;
  /** A reader attached or detached: the lsmod refcount changes. */
  attachChanged(): void;
}

interface Reader {
  conn: Deno.UnixConn;
  /** Per CPU, the reads of its `traceN`. */
  traces: (TraceService | undefined)[];
  /** Host replies (BULK results) that go before the module's queue. */
  replies: Uint8Array[];
  wake: () => void;
  exitSent: boolean;
  /**
   * The reader is stopping (a detach or an exit: its last reads came): the module waits until it has
   * detached. A 4.8 stapio closes the control channel microseconds after its readers' last reads; here that
   * takes a few milliseconds, in which a module writing fast would fill a small ring while still attached.
   */
  stopping: boolean;
  /**
   * Module messages written since the reader last wrote: if it closes with them unread (the peer's close
   * resets the connection), they go back to the queue, as unread messages stay queued in the kernel.
   */
  unconfirmed: QueuedMessage[];
  /** When the reader sent STP_START (performance.now()), if that was its last message. */
  startedAt?: number;
  /** Resolves when this reader is detached. */
  detached: Promise<void>;
  markDetached: () => void;
}

/**
 * How long a new `.cmd` connection waits for the previous reader's close to arrive before it is refused: the
 * kernel sees a close at once, a socket server a moment later.
 */
const CLOSE_GRACE_MS = 250;

/** A reader that closes this soon after its STP_START is a load-only stapio that never reads the reply. */
const LOAD_ONLY_CLOSE_MS = 200;

/** Serves one module in a directory until {@linkcode ModuleServer.close}. */
export class ModuleServer {
  readonly #module: SimModule;
  readonly #clock: Clock;
  readonly #events: HostEvents;
  readonly #cmd: Deno.UnixListener;
  readonly #traceListeners: Deno.UnixListener[];
  readonly #procfs: ProcfsFiles;
  #reader: Reader | undefined;
  #attachWaiters: (() => void)[] = [];
  /** A new `.cmd` connection waits for the previous reader's close. */
  #cmdWaiting = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #tasks = new Set<Promise<void>>();

  /** Listens on `dir/.cmd` and `dir/traceN` (paths relative to the current directory work too). */
  constructor(module: SimModule, clock: Clock, dir: string, events: HostEvents) {
    this.#module = module;
    this.#clock = clock;
    this.#events = events;
    this.#cmd = Deno.listen({ transport: "unix", path: `${dir}/.cmd` });
    this.#procfs = new ProcfsFiles(module, dir);
    this.#traceListeners = [];
    for (let cpu = 0; cpu < module.config.cpus; cpu++) {
      this.#traceListeners.push(Deno.listen({ transport: "unix", path: `${dir}/trace${cpu}` }));
    }
    module.onControl = () => this.#reader?.wake();
    this.#track(this.#acceptCmd());
    this.#traceListeners.forEach((listener, cpu) => this.#track(this.#acceptTrace(listener, cpu)));
    this.#tick();
  }

  /** Whether a reader is attached. */
  get attached(): boolean {
    return this.#reader !== undefined;
  }

  /**
   * Resolves once the reader attached now (if any) has detached, or after `timeoutMs`: a closing stapio asks
   * through `host.sock` so that its exit comes after the detach, as a close of `.cmd` is in the kernel.
   */
  async readerGone(timeoutMs: number): Promise<void> {
    const reader = this.#reader;
    if (!reader) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([reader.detached, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Stops listening and drops the reader. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#cmd.close();
    this.#traceListeners.forEach((l) => l.close());
    if (this.#reader) this.#detach(this.#reader);
    await Promise.allSettled([...this.#tasks]);
  }

  /** Keeps a task for close() to wait on, until it ends. */
  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  #tick(): void {
    if (this.#closed) return;
    if (!this.#frozen(this.#reader)) this.#module.advance(this.#clock.nowNs());
    if (this.#reader) this.#wakeReaders(this.#reader);
    this.#procfs.refresh();
    this.#timer = setTimeout(() => this.#tick(), this.#reader ? TICK_ATTACHED_MS : TICK_DETACHED_MS);
  }

  /**
   * Whether the module waits for the reader (its time does not advance): the reader is stopping, or it has
   * just sent STP_START without a relay file open (stapio -L, which closes the control channel at once; a
   * kernel sees that close microseconds after the begin probes, this host a few milliseconds later, in which a
   * fast script would fill a small ring with overwrite still off).
   */
  #frozen(reader: Reader | undefined): boolean {
    if (!reader) return false;
    if (reader.stopping) return true;
    return reader.startedAt !== undefined && reader.traces.every((t) => t === undefined) &&
      performance.now() - reader.startedAt < LOAD_ONLY_CLOSE_MS;
  }

  async #acceptCmd(): Promise<void> {
    for await (const conn of this.#cmd) {
      const previous = this.#reader;
      if (previous) {
        this.#cmdWaiting = true;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          previous.detached,
          new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
        ]);
        clearTimeout(timer);
        this.#cmdWaiting = false;
      }
      if (this.#reader || this.#module.state === "unloaded") {
        // 4.8: a second open of .cmd fails with EBUSY.
        this.#events.log("refused a second reader on .cmd (EBUSY)");
        await conn.write(CMD_BUSY).catch(() => {});
        conn.close();
        this.#attachWaiters.splice(0).forEach((wake) => wake());
        continue;
      }
      // The verdict first: the reader opens its relay files only once it knows it is the reader.
      if (!(await conn.write(CMD_ATTACHED).then(() => true, () => false))) {
        conn.close();
        continue;
      }
      this.#module.attach();
      let markDetached = () => {};
      const detached = new Promise<void>((resolve) => (markDetached = resolve));
      const reader: Reader = {
        conn,
        traces: [],
        replies: [],
        wake: () => {},
        exitSent: false,
        stopping: false,
        unconfirmed: [],
        detached,
        markDetached,
      };
      this.#reader = reader;
      this.#attachWaiters.splice(0).forEach((wake) => wake());
      this.#events.attachChanged();
      this.#events.log("reader attached");
      this.#track(this.#readCmd(reader));
      this.#track(this.#writeCmd(reader));
    }
  }

  async #readCmd(reader: Reader): Promise<void> {
    const decoder = new ControlDecoder();
    const buf = new Uint8Array(64 * 1024);
    try {
      for (let n = await reader.conn.read(buf); n !== null; n = await reader.conn.read(buf)) {
        for (const message of decoder.push(buf.subarray(0, n))) {
          reader.unconfirmed = [];
          reader.startedAt = message.type === Msg.START ? performance.now() : undefined;
          const rc = this.#module.handle(message.type, message.payload);
          if (message.type === Msg.BULK) {
            const payload = new Uint8Array(4);
            new DataView(payload.buffer).setInt32(0, rc, true);
            reader.replies.push(encodeControl(Msg.BULK, payload));
            reader.wake();
          }
          if (message.type === Msg.START || message.type === Msg.EXIT) {
            this.#events.log(`got ${message.type === Msg.START ? "STP_START" : "STP_EXIT"}`);
          }
        }
        if (!this.#frozen(reader)) this.#module.advance(this.#clock.nowNs());
        // A start makes the procfs files: they are there by the time the start returns.
        this.#procfs.refresh();
      }
    } catch (err) {
      if (err instanceof Deno.errors.ConnectionReset) {
        // The reader closed with messages unread: they stay queued, as in the kernel.
        this.#keepUnread(reader);
      } else {
        this.#events.log(`.cmd read failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // stapio -L sends STP_START and closes at once without reading the reply (2.1). Its close may look clean
    // (the reset is not always reported), so what was sent after such a START is kept queued too.
    if (reader.startedAt !== undefined && performance.now() - reader.startedAt < LOAD_ONLY_CLOSE_MS) {
      this.#keepUnread(reader);
    }
    if (this.#reader === reader) this.#detach(reader);
  }

  /** Puts the messages the reader did not confirm back at the head of the module's queue. */
  #keepUnread(reader: Reader): void {
    for (const message of reader.unconfirmed.reverse()) this.#module.unread(message);
    if (reader.unconfirmed.length) {
      this.#events.log(`${reader.unconfirmed.length} unread message(s) kept queued`);
    }
    reader.unconfirmed = [];
  }

  /** Sends the module's control messages to the reader, one at a time (the queue stays bounded). */
  async #writeCmd(reader: Reader): Promise<void> {
    while (this.#reader === reader) {
      const reply = reader.replies.shift();
      if (reply) {
        if (!(await this.#send(reader, reply))) return;
        continue;
      }
      const message = this.#module.takeControl();
      if (!message) {
        await new Promise<void>((resolve) => (reader.wake = resolve));
        continue;
      }
      if (message.type === Msg.EXIT) await this.#flushTraces(reader);
      // Counted as unconfirmed before the write completes: the reset of a reader that closed without reading
      // it may be seen first.
      reader.unconfirmed.push(message);
      if (!(await this.#send(reader, encodeControl(message.type, message.payload)))) {
        // The reader went away before reading it: it stays queued for the next one, as in the kernel (unless
        // the reset already put it back).
        const at = reader.unconfirmed.indexOf(message);
        if (at >= 0) {
          reader.unconfirmed.splice(at, 1);
          this.#module.unread(message);
        }
        return;
      }
      if (message.type === Msg.EXIT) {
        reader.exitSent = true;
        this.#events.log("sent STP_EXIT");
      }
    }
  }

  async #send(reader: Reader, bytes: Uint8Array): Promise<boolean> {
    try {
      for (let done = 0; done < bytes.length;) done += await reader.conn.write(bytes.subarray(done));
      return true;
    } catch {
      return false;
    }
  }

  async #acceptTrace(listener: Deno.UnixListener, cpu: number): Promise<void> {
    for await (const conn of listener) {
      // A reader connects `.cmd` first, but its attach may not have been processed yet (or the previous
      // reader's close not seen yet): the trace belongs to the next reader.
      if (!this.#reader || this.#cmdWaiting) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.#attachWaiters.push(resolve)),
          new Promise((resolve) => (timer = setTimeout(resolve, 2 * CLOSE_GRACE_MS))),
        ]);
        clearTimeout(timer);
      }
      const reader = this.#reader;
      if (!reader || reader.traces[cpu] || reader.exitSent) {
        this.#events.log(`refused trace${cpu}: ${!reader ? "no reader attached" : "already open"}`);
        conn.close();
        continue;
      }
      this.#events.log(`trace${cpu} open`);
      const relay = this.#module.relay;
      const trace = new TraceService(conn, {
        hasData: () => relay.hasData(cpu),
        read: (out) => relay.read(cpu, out),
        catchUp: () => {
          if (!this.#frozen(reader)) this.#module.advance(this.#clock.nowNs());
        },
        stopping: () => (reader.stopping = true),
      });
      reader.traces[cpu] = trace;
      this.#track(trace.done.then(() => this.#dropTrace(reader, cpu, trace)));
    }
  }

  #dropTrace(reader: Reader, cpu: number, trace: TraceService): void {
    trace.close();
    if (reader.traces[cpu] !== trace) return;
    reader.traces[cpu] = undefined;
    this.#events.log(`trace${cpu} closed`);
  }

  /** Wakes the reads that wait for data on a ring that now has some. */
  #wakeReaders(reader: Reader): void {
    for (const trace of reader.traces) trace?.wake();
  }

  /**
   * Before STP_EXIT: the readers take what is left in the rings (the end probes' output), and each trace ends
   * once its reader waits on an empty ring; one that does not come back for it in time is closed.
   */
  async #flushTraces(reader: Reader): Promise<void> {
    for (const trace of reader.traces) trace?.end();
    const deadline = performance.now() + EXIT_DRAIN_MS;
    while (reader.traces.some((t) => t !== undefined) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    reader.traces.forEach((trace, cpu) => trace && this.#dropTrace(reader, cpu, trace));
  }

  #detach(reader: Reader): void {
    this.#reader = undefined;
    reader.traces.forEach((trace, cpu) => trace && this.#dropTrace(reader, cpu, trace));
    try {
      reader.conn.close();
    } catch { /* already closed */ }
    reader.wake();
    reader.markDetached();
    this.#module.detach();
    this.#events.attachChanged();
    this.#events.log("reader detached");
  }
}
