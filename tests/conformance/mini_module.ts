/**
 * A stand-in for the simulator's module host, used until `sim/host.ts` exists: it serves `.cmd` and `traceN`
 * under a directory with the simulator's transport (sim/transport.ts) and plays a scripted module: begin output
 * on START, end output on EXIT, records pushed on demand.
 * @module
 */
import { ControlDecoder, encodeControl, encodeRecord, Msg } from "../../sim/transport.ts";

/** A scripted module serving one directory. */
export class MiniModule {
  readonly log: string[] = [];
  #ctl: Deno.UnixListener;
  #traces: Deno.UnixListener[] = [];
  #traceConns: (Deno.UnixConn | null)[] = [];
  #queued: Uint8Array[][] = [];
  #seq = 0;
  #started = false;
  #transportQueued = true;
  #tasks: Promise<void>[] = [];
  #conns = new Set<Deno.Conn>();

  constructor(
    readonly dir: string,
    readonly cpus: number,
    readonly endOutput: string,
  ) {
    this.#ctl = Deno.listen({ transport: "unix", path: `${dir}/.cmd` });
    for (let cpu = 0; cpu < cpus; cpu++) {
      this.#traces.push(Deno.listen({ transport: "unix", path: `${dir}/trace${cpu}` }));
      this.#traceConns.push(null);
      this.#queued.push([]);
      this.#tasks.push(this.#serveTrace(cpu));
    }
    this.#tasks.push(this.#serveCtl());
  }

  /** Prints text on a CPU as one record. */
  print(cpu: number, text: string): void {
    const rec = encodeRecord(++this.#seq, new TextEncoder().encode(text));
    const conn = this.#traceConns[cpu];
    if (conn) this.#write(conn, rec);
    else this.#queued[cpu].push(rec);
  }

  #write(conn: Deno.Conn, bytes: Uint8Array): void {
    conn.write(bytes).catch(() => {});
  }

  async #serveTrace(cpu: number): Promise<void> {
    for await (const conn of this.#traces[cpu]) {
      this.#conns.add(conn);
      this.#traceConns[cpu] = conn;
      for (const rec of this.#queued[cpu].splice(0)) this.#write(conn, rec);
      (async () => {
        const buf = new Uint8Array(16);
        try {
          while ((await conn.read(buf)) !== null) { /* nothing is sent to a relay file */ }
        } catch { /* closed */ }
        if (this.#traceConns[cpu] === conn) this.#traceConns[cpu] = null;
        this.#conns.delete(conn);
        conn.close();
      })();
    }
  }

  async #serveCtl(): Promise<void> {
    for await (const conn of this.#ctl) {
      this.#conns.add(conn);
      const dec = new ControlDecoder();
      // The 4.8 runtime queues STP_TRANSPORT once, at load: only the first reader gets it.
      if (this.#transportQueued) {
        this.#transportQueued = false;
        await conn.write(encodeControl(Msg.TRANSPORT));
      }
      const buf = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          for (const m of dec.push(buf.slice(0, n))) {
            this.log.push(`in ${m.type}`);
            if (m.type === Msg.START && !this.#started) {
              this.#started = true;
              this.print(0, "begin\n");
              const p = new Uint8Array(8);
              await conn.write(encodeControl(Msg.START, p));
            }
            if (m.type === Msg.EXIT) {
              this.print(0, this.endOutput);
              await new Promise((r) => setTimeout(r, 100));
              await conn.write(encodeControl(Msg.EXIT));
            }
          }
        }
      } catch (e) {
        this.log.push(`ctl error ${e}`);
      }
      this.log.push("ctl closed");
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* already */ }
    }
  }

  /** Stops serving. */
  async close(): Promise<void> {
    this.#ctl.close();
    for (const l of this.#traces) l.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already */ }
    }
    await Promise.allSettled(this.#tasks);
  }
}
