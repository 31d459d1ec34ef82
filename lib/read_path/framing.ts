/**
 * Relay record framing: a CPU's raw stream of bulk records (`uint32 sequence, uint32 length`, little-endian,
 * then `length` payload bytes; docs/systemtap-4.8.md 4.9) cut back into records, whatever the chunking, and put
 * back in frame where SystemTap's ring broke it (docs/loss-accounting.md "The read path"):
 *
 * - a record is passed on whole or not at all, and only once the bytes after it confirm it: the next header is
 *   plausible too, or the stream ended, or it has been quiet for a while ({@linkcode RecordFramer.flush});
 * - a wrapped ring's first read starts inside a record whose header was overwritten, and a record whose rest
 *   could not be reserved is cut short and followed at once by the next header (4.8's print_flush). Either way
 *   the framer searches forward for a header that chains with the next one, skips what lies before it and
 *   counts it: a cut-short record's sequence number is then missing from the read, which the ledger reports.
 *
 * Pure and streaming; memory is bounded by the largest record plus one chunk.
 * @module
 */

/** One relay record. */
export interface RelayRecord {
  /** Its sequence number (the module's one counter for all CPUs, modulo 2^32). */
  seq: number;
  /** What the script printed: the record's payload (the caller's own copy). */
  payload: Uint8Array;
}

/**
 * The largest payload taken for a record: 4.8's print buffer (`STP_BUFFER_SIZE`, 8 KiB). stapio accepts
 * lengths up to 128 KiB, and the kernel lab saw it write frames of 8448 and 36624 bytes made of a wrapped
 * ring's stale bytes (docs/loss-accounting.md "Where records are lost", item 3): taken for records, their
 * sequence numbers would hide every real record after them. (A module built with a larger `STP_BUFFER_SIZE`
 * would have its larger records skipped and counted.)
 */
export const MAX_PAYLOAD = 8192;
const HEADER = 8;
/** How far ahead of the last sequence number a plausible next one may be (other CPUs' records in between). */
const MAX_SEQ_STEP = 2 ** 30;
/** How far after a record's number a header read into it may be, when no successor bounds it. */
const EMBEDDED_WINDOW = 2 ** 16;

/** Whether more bytes may come (`more`), none came for a while (`quiet`), or none will (`ended`). */
type StreamState = "more" | "quiet" | "ended";

/** What the framer had to skip to stay in frame. */
export interface FramingCounts {
  /** Bytes skipped while searching for the next header (torn records, garbage). */
  skipped_bytes: number;
  /** Places where the stream lost its frame (each costs the record it was in). */
  resyncs: number;
}

/**
 * Whether `seq` may follow `last` in one CPU's stream: strictly later, and not absurdly far (modulo 2^32, so a
 * counter that wraps stays in order).
 */
export function seqAfter(seq: number, last: number): boolean {
  const step = (seq - last) >>> 0;
  return step > 0 && step < MAX_SEQ_STEP;
}

/**
 * Frames one CPU's stream.
 *
 * @example A record cut short and followed by the next header loses its sequence number, not the frame
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const rec = (seq: number, text: string, declared = text.length) => {
 *   const p = new TextEncoder().encode(text);
 *   const r = new Uint8Array(8 + p.length);
 *   new DataView(r.buffer).setUint32(0, seq, true);
 *   new DataView(r.buffer).setUint32(4, declared, true);
 *   r.set(p, 8);
 *   return r;
 * };
 * const framer = new RecordFramer();
 * const stream = [...rec(1, "one\n"), ...rec(2, "tw", 40), ...rec(3, "three\n"), ...rec(4, "four\n")];
 * const seqs = [...framer.push(new Uint8Array(stream)), ...framer.end()].map((r) => r.seq);
 * assertEquals(seqs, [1, 3, 4]);
 * assertEquals(framer.counts.resyncs, 1);
 * ```
 */
export class RecordFramer {
  #buf = new Uint8Array(64 * 1024);
  /** A view of `#buf` for reading headers (made again when the buffer grows, not for each header). */
  #view = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;
  #last: number | undefined;
  /** Skipping: the bytes at `#start` are not known to begin a record (one resync is being counted). */
  #skipping = false;
  readonly counts: FramingCounts = { skipped_bytes: 0, resyncs: 0 };

  /** The last sequence number passed on, if any. */
  get last(): number | undefined {
    return this.#last;
  }

  /** Bytes held back (a record not yet confirmed, or not yet complete). */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Takes a chunk; returns the records it confirmed, in stream order. */
  push(chunk: Uint8Array): RelayRecord[] {
    this.#append(chunk);
    return this.#take("more");
  }

  /** The stream has been quiet: passes on a complete last record that is only waiting for its successor. */
  flush(): RelayRecord[] {
    return this.#take("quiet");
  }

  /** The stream ended: passes on every complete record; an incomplete one at the end is skipped and counted. */
  end(): RelayRecord[] {
    const out = this.#take("ended");
    if (this.#end > this.#start) this.#skipTo(this.#end);
    return out;
  }

  #append(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (this.#start > 0 && this.#end + chunk.length > this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = held;
    }
    if (this.#end + chunk.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#end + chunk.length));
      bigger.set(this.#buf.subarray(0, this.#end));
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The header at `at`: "short" when incomplete, null when implausible after `last`. */
  #header(at: number, last: number | undefined): { seq: number; len: number } | null | "short" {
    if (at + HEADER > this.#end) return "short";
    const seq = this.#view.getUint32(at, true);
    const len = this.#view.getUint32(at + 4, true);
    if (len === 0 || len > MAX_PAYLOAD) return null;
    if (last !== undefined && !seqAfter(seq, last)) return null;
    return { seq, len };
  }

  /**
   * Whether the record at `at` is confirmed: its successor's header is plausible, or it is complete and nothing
   * follows it in a stream that is quiet or ended. "wait" when more bytes are needed to tell.
   */
  #confirmed(at: number, head: { seq: number; len: number }, state: StreamState): boolean | "wait" {
    const next = at + HEADER + head.len;
    if (next > this.#end) return state === "ended" ? false : "wait";
    const h = this.#header(next, head.seq);
    if (h !== "short") return h !== null;
    if (next === this.#end) return state === "more" ? "wait" : true;
    return state === "ended" ? false : "wait";
  }

  #take(state: StreamState): RelayRecord[] {
    const out: RelayRecord[] = [];
    while (this.#start < this.#end) {
      const head = this.#header(this.#start, this.#last);
      if (head === "short") break;
      let ok = head === null ? false : this.#confirmed(this.#start, head, state);
      if (ok === "wait") break;
      if (ok === false && head !== null) {
        // Its successor is not a header. If the next header that chains lies at or after the record's end, the
        // record is whole and garbage follows it (4.8 leaves 1–8 bytes at a sub-buffer's end); if it lies inside
        // the record, the record was cut short.
        const next = this.#start + HEADER + head.len;
        const found = this.#find(this.#start + 1, head.seq, state);
        if (found === "wait") break;
        ok = found !== undefined && found >= next;
        if (ok) {
          this.#pass(out, head);
          this.#skipTo(found!);
          continue;
        }
      }
      if (ok && head !== null) {
        this.#pass(out, head);
        continue;
      }
      // Out of frame here: the next position where a plausible header chains with its successor.
      if (!this.#resync(state)) break;
    }
    return out;
  }

  /**
   * Whether the payload of the record at `#start` holds another record's header: a sequence number after the
   * record's own and no later than its successor's, and a plausible length. Text cannot look like that (the
   * number's high bytes are a few fixed values, mostly NUL); the search looks for those bytes natively.
   */
  #holdsHeader(head: { seq: number; len: number }): boolean {
    const from = this.#start + HEADER;
    const payload = this.#buf.subarray(from, from + head.len);
    const after = this.#header(from + head.len, head.seq);
    const upper = after !== null && after !== "short" ? after.seq : (head.seq + EMBEDDED_WINDOW) >>> 0;
    const first = (head.seq + 1) >>> 24;
    const last = upper >>> 24;
    for (const byte of first === last ? [first] : [first, last]) {
      // The candidate number's highest byte sits 3 bytes into it; a candidate starts after the record's own.
      for (
        let at = payload.indexOf(byte, 4);
        at !== -1 && at - 3 + HEADER <= payload.length;
        at = payload.indexOf(byte, at + 1)
      ) {
        const seq = this.#view.getUint32(from + at - 3, true);
        const len = this.#view.getUint32(from + at + 1, true);
        if (seqAfter(seq, head.seq) && !seqAfter(seq, upper) && len > 0 && len <= MAX_PAYLOAD) return true;
      }
    }
    return false;
  }

  /**
   * Passes on the record at `#start`, unless it is a record cut short with what followed it in the ring read
   * into it (stapio reads on to the header's length): then neither its text nor the next record's part in it
   * is a record, and it is skipped (its number and the glued one's are missing from the read).
   */
  #pass(out: RelayRecord[], head: { seq: number; len: number }): void {
    if (this.#holdsHeader(head)) this.#skipTo(this.#start + HEADER + head.len);
    else this.#emit(out, head);
  }

  #emit(out: RelayRecord[], head: { seq: number; len: number }): void {
    const from = this.#start + HEADER;
    out.push({ seq: head.seq, payload: this.#buf.slice(from, from + head.len) });
    this.#start = from + head.len;
    this.#last = head.seq;
    this.#skipping = false;
  }

  /**
   * The first position from `from` on where a header plausible after `last` is confirmed by its successor;
   * undefined when there is none in the bytes held, "wait" when more bytes are needed to tell.
   */
  #find(from: number, last: number | undefined, state: StreamState): number | undefined | "wait" {
    for (let at = from; at < this.#end; at++) {
      const head = this.#header(at, last);
      if (head === "short") return state === "ended" ? undefined : "wait";
      if (head === null) continue;
      const ok = this.#confirmed(at, head, state);
      if (ok === "wait") return "wait";
      if (ok) return at;
    }
    return state === "ended" ? undefined : "wait";
  }

  /** Skips forward to the next confirmed header; false when more bytes are needed to find it. */
  #resync(state: StreamState): boolean {
    for (let at = this.#start + 1; at < this.#end; at++) {
      const head = this.#header(at, this.#last);
      if (head === "short") {
        // Fewer than a header's bytes are left: keep them for the next chunk.
        if (state === "ended") break;
        this.#skipTo(at);
        return false;
      }
      if (head === null) continue;
      const ok = this.#confirmed(at, head, state);
      if (ok === false) continue;
      this.#skipTo(at);
      return ok === true;
    }
    this.#skipTo(this.#end);
    return false;
  }

  #skipTo(at: number): void {
    if (at <= this.#start) return;
    if (!this.#skipping) this.counts.resyncs++;
    this.#skipping = true;
    this.counts.skipped_bytes += at - this.#start;
    this.#start = at;
  }
}
