/**
 * The host's side of one `traceN` connection (protocol in `sim/transport.ts`): each request is one `read()` of
 * the relay file, answered from the ring as it is when the request comes in, or one ppoll, answered at once
 * when the file has data, else {@linkcode TRACE_PARKED} and then 0 once it has some
 * ({@linkcode TraceService.wake}). A ppoll reads nothing: what the reader does not read stays in the ring, as
 * in the kernel. When the run ends, a ppoll that finds the ring empty gets the end of the file instead.
 * @module
 */
import { encodeTraceAnswer, TRACE_PARKED, TraceRequestDecoder } from "./transport.ts";

/** What a trace connection reads: one CPU's relay file. */
export interface RelayFile {
  /** A poll would say there is data. */
  hasData(): boolean;
  /** One `read()` into `out`: bytes, or a negative errno. */
  read(out: Uint8Array): number;
}

/** The most one read returns (stapio asks for at most 128 KiB, its read-ahead for 256 KiB). */
const MAX_READ = 256 * 1024;

/** Serves one reader's reads of one relay file until the connection closes or {@linkcode close}. */
export class TraceService {
  readonly done: Promise<void>;
  readonly #conn: Deno.UnixConn;
  readonly #file: RelayFile;
  readonly #out = new Uint8Array(MAX_READ);
  #parked: (() => void) | undefined;
  #ending = false;
  #closed = false;

  constructor(conn: Deno.UnixConn, file: RelayFile) {
    this.#conn = conn;
    this.#file = file;
    this.done = this.#serve();
  }

  /** Whether the reader waits for data (it sits in ppoll). */
  get parked(): boolean {
    return this.#parked !== undefined;
  }

  /** Data may have come, or the run is ending: a waiting read goes on if it can. */
  wake(): void {
    if (this.#parked && (this.#ending || this.#file.hasData())) this.#parked();
  }

  /** The run ends: once the ring is empty, a read that waits for data gets the end of the file. */
  end(): void {
    this.#ending = true;
    this.wake();
  }

  /** Closes the connection; a waiting read ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#parked?.();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #send(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  async #serve(): Promise<void> {
    const requests = new TraceRequestDecoder();
    const input = new Uint8Array(4096);
    try {
      for (let n = await this.#conn.read(input); n !== null; n = await this.#conn.read(input)) {
        for (const request of requests.push(input.subarray(0, n))) {
          if (request.wait) {
            if (!this.#file.hasData()) {
              if (this.#ending) return;
              await this.#send(encodeTraceAnswer(TRACE_PARKED));
              await new Promise<void>((resolve) => (this.#parked = resolve));
              this.#parked = undefined;
              if (this.#closed || (this.#ending && !this.#file.hasData())) return;
            }
            await this.#send(encodeTraceAnswer(0));
            continue;
          }
          const rc = this.#file.read(this.#out.subarray(0, Math.min(request.count, MAX_READ)));
          await this.#send(encodeTraceAnswer(rc, this.#out));
        }
      }
    } catch {
      // the reader closed its end
    } finally {
      this.close();
    }
  }
}
