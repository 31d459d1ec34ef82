/**
 * A scripted module served over the simulator's sockets, for stapio's unit tests only: begin output on START,
 * end output and EXIT on EXIT, one `.cmd` reader at a time (a second is closed at once, as EBUSY), and each
 * `traceN` ended after EXIT once drained. Its rings are the clean relay rings; the real module host is
 * `sim/module_host/host.ts`.
 * @module
 */
import { join } from "node:path";
import { RelayBuffers } from "../kernel/relay.ts";
import { TraceService } from "../module_host/trace_server.ts";
import { CMD_ATTACHED, CMD_BUSY, ControlDecoder, encodeControl, Msg } from "../kernel/transport.ts";

/** The scripted module. */
export class FakeModule {
  readonly log: string[] = [];
  readonly #listeners: Deno.UnixListener[] = [];
  readonly #traces: (TraceService | undefined)[] = [];
  readonly #relay: RelayBuffers;
  readonly #conns = new Set<Deno.UnixConn>();
  readonly #tasks: Promise<void>[] = [];
  #transport = true;
  #ctl?: Deno.UnixConn;

  constructor(readonly dir: string, readonly cpus: number, readonly endOutput = "exited\n") {
    this.#relay = new RelayBuffers(cpus, 64 * 4096);
    const ctl = Deno.listen({ transport: "unix", path: join(dir, ".cmd") });
    this.#listeners.push(ctl);
    this.#tasks.push(this.#serveCtl(ctl));
    for (let cpu = 0; cpu < cpus; cpu++) {
      const l = Deno.listen({ transport: "unix", path: join(dir, `trace${cpu}`) });
      this.#listeners.push(l);
      this.#traces.push(undefined);
      this.#tasks.push(this.#serveTrace(l, cpu));
    }
  }

  /** One record on `cpu`, into its ring; a reader waiting for it is woken. */
  print(cpu: number, text: string): void {
    this.#relay.write(cpu, new TextEncoder().encode(text));
    this.#traces[cpu]?.wake();
  }

  /** A control message to the attached reader. */
  control(type: number, text = ""): void {
    this.#ctl?.write(encodeControl(type, new TextEncoder().encode(text))).catch(() => {});
  }

  async #serveTrace(listener: Deno.UnixListener, cpu: number): Promise<void> {
    try {
      for await (const conn of listener) {
        const relay = this.#relay;
        const trace = new TraceService(conn, {
          hasData: () => relay.hasData(cpu),
          read: (out) => relay.read(cpu, out),
        });
        this.#traces[cpu] = trace;
        this.#tasks.push(trace.done);
      }
    } catch {
      // listener closed
    }
  }

  #endTraces(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      this.#traces[cpu]?.end();
      this.#traces[cpu] = undefined;
    }
  }

  #dropTraces(): void {
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      this.#traces[cpu]?.close();
      this.#traces[cpu] = undefined;
    }
  }

  async #serveCtl(listener: Deno.UnixListener): Promise<void> {
    try {
      for await (const conn of listener) {
        this.#conns.add(conn);
        if (this.#ctl) {
          this.log.push("busy");
          await conn.write(CMD_BUSY).catch(() => {});
          this.#drop(conn);
          continue;
        }
        await conn.write(CMD_ATTACHED).catch(() => {});
        this.#ctl = conn;
        this.#tasks.push(this.#readCtl(conn));
      }
    } catch {
      // listener closed
    }
  }

  async #readCtl(conn: Deno.UnixConn): Promise<void> {
    if (this.#transport) {
      this.#transport = false;
      await conn.write(encodeControl(Msg.TRANSPORT)).catch(() => {});
    }
    const dec = new ControlDecoder();
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const m of dec.push(buf.slice(0, n))) {
          this.log.push(`in ${m.type}`);
          if (m.type === Msg.BULK) {
            await conn.write(encodeControl(Msg.BULK, new Uint8Array([234, 255, 255, 255]))); // -22: not bulk
          } else if (m.type === Msg.START) {
            this.print(0, "begin\n");
            await conn.write(encodeControl(Msg.START, new Uint8Array(8)));
          } else if (m.type === Msg.EXIT) {
            this.print(1, this.endOutput);
            const traces = this.#traces.filter((t) => t !== undefined);
            this.#endTraces();
            await Promise.all(traces.map((t) => t!.done));
            await conn.write(encodeControl(Msg.EXIT));
          }
        }
      }
    } catch {
      // reader went away
    }
    this.log.push("detached");
    if (this.#ctl === conn) this.#ctl = undefined;
    this.#drop(conn);
    this.#dropTraces();
  }

  #drop(conn: Deno.UnixConn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }

  /** Stops serving and closes every connection. */
  async close(): Promise<void> {
    for (const l of this.#listeners) l.close();
    for (const c of [...this.#conns]) this.#drop(c);
    this.#dropTraces();
    await Promise.allSettled(this.#tasks);
  }
}
