/**
 * A scripted module served over the simulator's sockets, for stapio's unit tests only: begin output on START,
 * end output and EXIT on EXIT, one `.cmd` reader at a time (a second is closed at once, as EBUSY), and each
 * `traceN` closed after EXIT once drained. The real module host is `sim/module_host.ts`.
 * @module
 */
import { join } from "node:path";
import { ControlDecoder, encodeControl, encodeRecord, Msg } from "../transport.ts";

/** The scripted module. */
export class FakeModule {
  readonly log: string[] = [];
  readonly #listeners: Deno.UnixListener[] = [];
  readonly #traceConns: (Deno.UnixConn | undefined)[] = [];
  readonly #queued: Uint8Array[][] = [];
  readonly #conns = new Set<Deno.UnixConn>();
  readonly #tasks: Promise<void>[] = [];
  #seq = 0;
  #transport = true;
  #ctl?: Deno.UnixConn;

  constructor(readonly dir: string, readonly cpus: number, readonly endOutput = "exited\n") {
    const ctl = Deno.listen({ transport: "unix", path: join(dir, ".cmd") });
    this.#listeners.push(ctl);
    this.#tasks.push(this.#serveCtl(ctl));
    for (let cpu = 0; cpu < cpus; cpu++) {
      const l = Deno.listen({ transport: "unix", path: join(dir, `trace${cpu}`) });
      this.#listeners.push(l);
      this.#queued.push([]);
      this.#traceConns.push(undefined);
      this.#tasks.push(this.#serveTrace(l, cpu));
    }
  }

  /** One record on `cpu`: sent at once to a reader, else kept for the next one. */
  print(cpu: number, text: string): void {
    const rec = encodeRecord(++this.#seq, new TextEncoder().encode(text));
    const conn = this.#traceConns[cpu];
    if (conn) conn.write(rec).catch(() => {});
    else this.#queued[cpu].push(rec);
  }

  /** A control message to the attached reader. */
  control(type: number, text = ""): void {
    this.#ctl?.write(encodeControl(type, new TextEncoder().encode(text))).catch(() => {});
  }

  async #serveTrace(listener: Deno.UnixListener, cpu: number): Promise<void> {
    try {
      for await (const conn of listener) {
        this.#conns.add(conn);
        this.#traceConns[cpu] = conn;
        for (const rec of this.#queued[cpu].splice(0)) await conn.write(rec).catch(() => {});
      }
    } catch {
      // listener closed
    }
  }

  async #serveCtl(listener: Deno.UnixListener): Promise<void> {
    try {
      for await (const conn of listener) {
        this.#conns.add(conn);
        if (this.#ctl) {
          this.log.push("busy");
          this.#drop(conn);
          continue;
        }
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
            const end = encodeRecord(++this.#seq, new TextEncoder().encode(this.endOutput));
            await this.#traceConns[1]?.write(end).catch(() => {});
            await conn.write(encodeControl(Msg.EXIT));
            for (let cpu = 0; cpu < this.cpus; cpu++) {
              const t = this.#traceConns[cpu];
              this.#traceConns[cpu] = undefined;
              if (t) this.#drop(t);
            }
          }
        }
      }
    } catch {
      // reader went away
    }
    this.log.push("detached");
    if (this.#ctl === conn) this.#ctl = undefined;
    this.#drop(conn);
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const t = this.#traceConns[cpu];
      this.#traceConns[cpu] = undefined;
      if (t) this.#drop(t);
    }
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
    await Promise.allSettled(this.#tasks);
  }
}
