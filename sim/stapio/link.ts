/**
 * stapio's connection to a simulated module: the control socket `.cmd` and the relay sockets `traceN` that the
 * module host serves under `ROOT/proc/systemtap/MODULE/` (framing in `sim/transport.ts`). One place for the
 * socket details, so the stapio logic in `reader.ts` stays about 4.8's behaviour.
 * @module
 */
import { join } from "node:path";
import {
  ControlDecoder,
  type ControlMessage,
  encodeControl,
  RecordDecoder,
  type RelayRecord,
} from "../transport.ts";

/** What stapio gets from a module. */
export interface LinkEvents {
  control(message: ControlMessage): void;
  /** The module closed `.cmd` (unloaded, host gone, or refused a second reader). */
  controlClosed(): void;
  record(cpu: number, record: RelayRecord): void;
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
  /** Whether any relay reader has an incomplete record buffered. */
  readonly partial: boolean;
  /** Closes everything; pending reads end. */
  close(): Promise<void>;
}

/** The module's directory under the simulator's root. */
export function moduleDir(root: string, name: string): string {
  return join(root, "proc", "systemtap", name);
}

/** Counts `trace0 … traceN-1` in the module's directory (staprun probes them in order, reference 6 item 13). */
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
 * Connects to a module served over Unix sockets. `backpressure`, if given, is awaited before each relay read
 * (stapio's write to a slow stdout blocks its reader thread the same way).
 */
export async function connectModule(
  dir: string,
  events: LinkEvents,
  backpressure?: () => Promise<void>,
): Promise<ModuleLink> {
  let ctl: Deno.UnixConn;
  try {
    ctl = await Deno.connect({ transport: "unix", path: join(dir, ".cmd") });
  } catch (err) {
    throw new NotRunningError(`Cannot connect to "${join(dir, ".cmd")}"`, { cause: err });
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
  readonly #decoders: RecordDecoder[] = [];
  readonly #tasks: Promise<void>[] = [];
  readonly #stopped = new Set<number>();
  #closed = false;
  #started = false;

  readonly #backpressure?: () => Promise<void>;

  constructor(
    dir: string,
    cpus: number,
    ctl: Deno.UnixConn,
    events: LinkEvents,
    backpressure?: () => Promise<void>,
  ) {
    this.#backpressure = backpressure;
    this.cpus = cpus;
    this.#dir = dir;
    this.#ctl = ctl;
    this.#events = events;
    this.#tasks.push(this.#readControl());
  }

  async #readControl(): Promise<void> {
    const decoder = new ControlDecoder();
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#ctl.read(buf);
        if (n === null) break;
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
      this.#decoders.push(new RecordDecoder());
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

  async #readTrace(cpu: number): Promise<void> {
    const conn = this.#traces[cpu]!;
    const buf = new Uint8Array(131072);
    try {
      for (;;) {
        if (this.#backpressure) await this.#backpressure();
        const n = await conn.read(buf);
        if (n === null) break;
        if (this.#stopped.has(cpu)) continue;
        for (const r of this.#decoders[cpu].push(buf.subarray(0, n))) this.#events.record(cpu, r);
      }
    } catch {
      // closed under us
    }
    if (!this.#closed) this.#events.traceClosed(cpu);
  }

  stopReader(cpu: number): void {
    this.#stopped.add(cpu);
  }

  get partial(): boolean {
    return this.#decoders.some((d) => d.pendingBytes > 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [this.#ctl, ...this.#traces]) {
      try {
        c?.close();
      } catch {
        // already closed
      }
    }
    await Promise.allSettled(this.#tasks);
  }
}
