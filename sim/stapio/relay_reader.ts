/**
 * One reader thread of stapio 4.8 (`staprun/relay.c` `reader_thread` at release-4.8), as a state machine
 * without I/O: it says which `read()` of its relay file comes next ({@linkcode ReaderThread.next}), is given
 * what that read returned ({@linkcode ReaderThread.got}), and answers with the records it would write and the
 * messages it would print. The process face drives it over the module host's sockets (`link.ts`), the
 * in-process simulator over the rings themselves (`sim/simulator.ts`); both through a {@linkcode ReadAhead}.
 *
 * What 4.8 does, step by step (docs/systemtap-4.8.md 5.2, docs/loss-accounting.md "Where records are lost"):
 * - ppoll until the relay file has data, then `read()` the 8-byte header `uint32 sequence, uint32 length`;
 *   a read that returns 0 starts over; one that returns less than 8 prints
 *   `stapio:reader_thread:204: ERROR: bufhdr read error, attempting resync: <strerror>` and drops the next
 *   `read()` of up to 128 KiB;
 * - a header whose length is 0 or more than 131072 (its buffer) makes it drop one `read()` of up to 128 KiB,
 *   silently. Whatever the ring holds there goes: a drop that ends inside a record leaves the next "header" in
 *   text, so it drops again, until a read comes back short, at the writer;
 * - otherwise it reads the payload, in as many `read()`s as it takes, stopping at one that returns 0 or fails;
 *   it then writes the header and as many payload bytes as its **last** read returned (`wbytes = rc`), which
 *   is less than the header says when the payload came in more than one read, and nothing when that read
 *   failed.
 * @module
 */

/** stapio's read buffer (`char buf[128*1024]`): the largest length it accepts, and what one drop reads. */
export const STAPIO_BUFFER = 128 * 1024;
const HEADER = 8;

/** The `read()` a reader thread does next: how many bytes, and whether it first waits in ppoll for data. */
export interface ReadRequest {
  count: number;
  /** ppoll first (the start of each round): the read comes once the relay file has data. */
  wait: boolean;
}

/** What a reader thread does with what it read. */
export type ReaderEvent =
  /** A record to write: its header as read, and the payload bytes stapio writes after it. */
  | { kind: "record"; seq: number; length: number; payload: Uint8Array }
  /** A message on stderr. */
  | { kind: "diag"; text: string }
  /** Bytes read and dropped (a resync), for accounting. */
  | { kind: "dropped"; bytes: number };

/** strerror of the errnos a relay read gives. */
function strerror(errno: number): string {
  if (errno === 0) return "Success";
  if (errno === 61) return "No data available";
  if (errno === 4) return "Interrupted system call";
  return `Unknown error ${errno}`;
}

type State =
  | { at: "header" }
  | { at: "drop" }
  | { at: "payload"; seq: number; length: number; buf: Uint8Array; read: number };

/**
 * The reader thread's loop.
 *
 * @example A header of length 0 (4.8's 1–8 byte tail) drops one read of up to 128 KiB
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const t = new ReaderThread();
 * assertEquals(t.next(), { count: 8, wait: true });
 * assertEquals(t.got(new Uint8Array(8)), []);
 * assertEquals(t.next(), { count: 131072, wait: false });
 * assertEquals(t.got(new Uint8Array(100)), [{ kind: "dropped", bytes: 100 }]);
 * ```
 */
export class ReaderThread {
  #state: State = { at: "header" };
  /** The thread's errno, as the last failed call left it (what `_perr` prints). */
  #errno = 0;

  /** The next read. */
  next(): ReadRequest {
    switch (this.#state.at) {
      case "header":
        return { count: HEADER, wait: true };
      case "drop":
        return { count: STAPIO_BUFFER, wait: false };
      case "payload":
        return { count: this.#state.length - this.#state.read, wait: false };
    }
  }

  /**
   * What the read of {@linkcode next} returned: its bytes (at most the count asked for), or a negative errno
   * (`-ENODATA` from an empty relay file), or 0.
   */
  got(result: Uint8Array | number): ReaderEvent[] {
    const rc = typeof result === "number" ? result : result.length;
    if (rc < 0) this.#errno = -rc;
    const state = this.#state;
    switch (state.at) {
      case "header": {
        if (rc === 0) return []; // "seen during normal shutdown"
        if (rc !== HEADER) {
          this.#state = { at: "drop" };
          return [{
            kind: "diag",
            text: `stapio:reader_thread:204: ERROR: bufhdr read error, attempting resync: ${
              strerror(this.#errno)
            }\n`,
          }];
        }
        const bytes = result as Uint8Array;
        const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER);
        const seq = view.getUint32(0, true);
        const length = view.getUint32(4, true);
        if (length === 0 || length > STAPIO_BUFFER) {
          this.#state = { at: "drop" };
          return [];
        }
        this.#state = { at: "payload", seq, length, buf: new Uint8Array(length), read: 0 };
        return [];
      }
      case "drop":
        this.#state = { at: "header" };
        return rc > 0 ? [{ kind: "dropped", bytes: rc }] : [];
      case "payload": {
        if (rc > 0) {
          state.buf.set(result as Uint8Array, state.read);
          state.read += rc;
          if (state.read < state.length) return [];
        }
        // Done, or a read came back empty ("still process it; hope we can resync next time"): stapio writes
        // the header and the first `rc` bytes, rc being what its last read returned.
        this.#state = { at: "header" };
        if (rc <= 0) return [];
        return [{ kind: "record", seq: state.seq, length: state.length, payload: state.buf.subarray(0, rc) }];
      }
    }
  }
}

/** A relay file's `read()`: bytes, or a negative errno, or 0. */
export type RelayReadFn = (count: number) => Uint8Array | number;
/** The same, over a socket. */
export type AsyncRelayReadFn = (count: number) => Promise<Uint8Array | number>;

/** How much a {@linkcode ReadAhead} asks for at once. */
export const READ_AHEAD = 256 * 1024;

/**
 * Serves a reader thread's small reads from larger ones. A read the bytes held can answer is answered from
 * them; otherwise the bytes held come first and one read of the relay file, made now, adds what is available,
 * up to {@linkcode READ_AHEAD}. That gives the thread exactly the bytes its own `read()` would get at that
 * moment: the bytes held were in the ring when they were read and nothing else could take them. (What differs
 * is when they left the ring, and how often the relay's read wrapper closes the writer's sub-buffer: once per
 * read ahead here, once per header and payload in stapio.) The ppoll before a header read is the caller's:
 * it is needed only when nothing is held ({@linkcode ReadAhead.held}).
 */
export class ReadAhead {
  #buf = new Uint8Array(0);
  #start = 0;

  /** Bytes held. */
  get held(): number {
    return this.#buf.length - this.#start;
  }

  /** Serves a read of `count` bytes from what is held and `read`, synchronously. */
  read(count: number, read: RelayReadFn): Uint8Array | number {
    if (this.held >= count) return this.#take(count);
    return this.#serve(count, read(Math.max(READ_AHEAD, count - this.held)));
  }

  /** Serves a read of `count` bytes from what is held and `read`, over a socket. */
  async readAsync(count: number, read: AsyncRelayReadFn): Promise<Uint8Array | number> {
    if (this.held >= count) return this.#take(count);
    return this.#serve(count, await read(Math.max(READ_AHEAD, count - this.held)));
  }

  #serve(count: number, got: Uint8Array | number): Uint8Array | number {
    if (typeof got !== "number" && got.length > 0) this.#append(got);
    if (this.held === 0) return typeof got === "number" ? got : 0;
    return this.#take(Math.min(count, this.held));
  }

  #append(bytes: Uint8Array): void {
    const held = this.#buf.subarray(this.#start);
    const next = new Uint8Array(held.length + bytes.length);
    next.set(held);
    next.set(bytes, held.length);
    this.#buf = next;
    this.#start = 0;
  }

  #take(count: number): Uint8Array {
    const out = this.#buf.slice(this.#start, this.#start + count);
    this.#start += count;
    if (this.#start === this.#buf.length) {
      this.#buf = new Uint8Array(0);
      this.#start = 0;
    }
    return out;
  }
}
