/**
 * A TCP relay in front of an HTTP server that counts the requests going through it, for benchmarks that say
 * how many requests a command made without taking the command's word for it. It reads each request's head
 * and skips its body by `Content-Length` (enough for S3 clients, which do not send chunked requests here).
 * @module
 */

const HEAD_END = new TextEncoder().encode("\r\n\r\n");

function indexOf(buf: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= buf.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A relay listening on 127.0.0.1; `requests` counts what went through. */
export class CountingProxy {
  readonly port: number;
  requests = 0;
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #served: Promise<void>;

  constructor(upstreamPort: number) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#served = (async () => {
      for await (const client of listener) {
        void this.#relay(client, upstreamPort);
      }
    })().catch(() => {});
  }

  async #relay(client: Deno.Conn, upstreamPort: number): Promise<void> {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    this.#conns.add(client).add(server);
    const back = server.readable.pipeTo(client.writable).catch(() => {});
    let pending = new Uint8Array(0);
    let skip = 0;
    const writer = server.writable.getWriter();
    try {
      for await (const chunk of client.readable) {
        await writer.write(chunk);
        let buf = new Uint8Array(pending.length + chunk.length);
        buf.set(pending);
        buf.set(chunk, pending.length);
        for (;;) {
          if (skip > 0) {
            const n = Math.min(skip, buf.length);
            skip -= n;
            buf = buf.subarray(n);
            if (skip > 0) break;
          }
          const end = indexOf(buf, HEAD_END, 0);
          if (end < 0) break;
          const head = new TextDecoder().decode(buf.subarray(0, end));
          this.requests++;
          skip = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          buf = buf.subarray(end + HEAD_END.length);
        }
        pending = buf.slice();
      }
    } catch {
      // The client went away.
    } finally {
      await writer.close().catch(() => {});
      await back;
      this.#conns.delete(client);
      this.#conns.delete(server);
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
    await this.#served;
  }
}
