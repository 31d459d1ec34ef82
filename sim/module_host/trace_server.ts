/**
 * The host's side of one `traceN` connection (protocol in `sim/kernel/transport.ts`): each request is one `read()` of
 * the relay file, answered from the ring as it is when the request comes in, or one ppoll, answered at once
 * when the file has data, else {@linkcode TRACE_PARKED} and then 0 once it has some
 * ({@linkcode TraceService.wake}). A ppoll reads nothing: what the reader does not read stays in the ring, as
 * in the kernel. A ppoll that is waiting ends (0) when the next request comes (a signal interrupted it and the
 * reader reads anyway, as stapio does after SIGUSR2). When the run ends, a ppoll that finds the ring empty gets
 * the end of the file instead.
 * @module
 */
import { encodeTraceAnswer, TRACE_PARKED, TraceRequestDecoder } from "../kernel/transport.ts";

/** What a trace connection reads: one CPU's relay file. */
export interface RelayFile {
  /** A poll would say there is data. */
  hasData(): boolean;
  /** One `read()` into `out`: bytes, or a negative errno. */
  read(out: Uint8Array): number;
  /** Brings the writer up to now before a request is answered (on a kernel it writes all the time). */
  catchUp?(): void;
  /** The reader is stopping (its last reads see the ring as it is). */
  stopping?(): void;
}

/** The most one read returns (stapio asks for at most 128 KiB, its read-ahead for 256 KiB). */
const MAX_READ = 256 * 1024;

/** Serves one reader's requests on one relay file until the connection closes or {@linkcode close}. */
export class TraceService {
  readonly done: Promise<void>;
  readonly #conn: Deno.UnixConn;
  readonly #file: RelayFile;
  readonly #out = new Uint8Array(MAX_READ);
  readonly #queue: { count: number; wait: boolean; asIs: boolean }[] = [];
  /** Wakes the request loop: a request came, data came, the run ends, or the connection closed. */
  #wakeLoop: (() => void) | undefined;
  #parked = false;
  #ending = false;
  #closed = false;

  constructor(conn: Deno.UnixConn, file: RelayFile) {
    this.#conn = conn;
    this.#file = file;
    this.done = Promise.all([this.#receive(), this.#serve()]).then(() => this.close());
  }

  /** Whether the reader waits for data (it sits in ppoll). */
  get parked(): boolean {
    return this.#parked;
  }

  /** Data may have come: a waiting ppoll is answered if the file has data now. */
  wake(): void {
    this.#wakeLoop?.();
  }

  /** The run ends: once the ring is empty, a ppoll gets the end of the file. */
  end(): void {
    this.#ending = true;
    this.wake();
  }

  /** Closes the connection; the loops end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.wake();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Takes requests as they come, so that a request ends a ppoll that waits, and a close is seen at once. */
  async #receive(): Promise<void> {
    const requests = new TraceRequestDecoder();
    const input = new Uint8Array(4096);
    try {
      for (let n = await this.#conn.read(input); n !== null; n = await this.#conn.read(input)) {
        this.#queue.push(...requests.push(input.subarray(0, n)));
        this.wake();
      }
    } catch {
      // closed
    }
    this.close();
  }

  async #send(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) done += await this.#conn.write(bytes.subarray(done));
  }

  /** Waits until something may have changed. */
  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wakeLoop = resolve)).then(
      () => (this.#wakeLoop = undefined),
    );
  }

  async #serve(): Promise<void> {
    try {
      while (!this.#closed) {
        const request = this.#queue.shift();
        if (request === undefined) {
          await this.#sleep();
          continue;
        }
        if (request.asIs) this.#file.stopping?.();
        else this.#file.catchUp?.();
        if (!request.wait) {
          const rc = this.#file.read(this.#out.subarray(0, Math.min(request.count, MAX_READ)));
          await this.#send(encodeTraceAnswer(rc, this.#out));
          continue;
        }
        // ppoll: at once when there is data; else parked until there is, or the next request interrupts it.
        while (!this.#closed && !this.#file.hasData() && this.#queue.length === 0) {
          if (this.#ending) return this.close();
          if (!this.#parked) {
            this.#parked = true;
            await this.#send(encodeTraceAnswer(TRACE_PARKED));
            continue; // what came meanwhile is looked at before sleeping
          }
          await this.#sleep();
        }
        this.#parked = false;
        if (this.#closed) return;
        await this.#send(encodeTraceAnswer(0));
      }
    } catch {
      // the reader closed its end
    }
    this.close();
  }
}
