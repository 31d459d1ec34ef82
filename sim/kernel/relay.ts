/**
 * The relay buffers of a simulated SystemTap 4.8 module (docs/systemtap-4.8.md section 5): per CPU, a ring of
 * page-sized sub-buffers written as a byte stream by the runtime's print flush and read as a byte stream by
 * the relay file's `read()`, with one global sequence counter over all CPUs. The bookkeeping is the kernel's:
 * `subbufs_produced`, `subbufs_consumed`, `bytes_consumed`, the write offset (`subbuf_size + 1` while the
 * writer is stalled on a full ring) and each sub-buffer's padding, so a reader meets the bytes a real relay
 * file gives, damage included (docs/loss-accounting.md "Where records are lost").
 *
 * The 4.8 ring ({@linkcode RingModel} `"4.8"`, the default of the process face):
 * - Writing a record (`__stp_print_flush`, `runtime/print_flush.c`) reserves the 8-byte header and the payload
 *   (`_stp_data_write_reserve`, `runtime/transport/relay_v2.c`), which grants at most what is left of the
 *   current sub-buffer. When that is 1–8 bytes the record is dropped without a sequence number (a transport
 *   failure), and those bytes stay in the stream as they were: zeros on the ring's first pass, an older
 *   record's bytes after a wrap. When the header fits, the record takes the next sequence number and its
 *   rest is written into the following sub-buffers; if one cannot be had (the ring is full while a reader is
 *   attached), the record is cut short, counted as a failure, and keeps its number.
 * - Overwrite on (nobody attached): the writer moves into the next sub-buffer whether it was read or not.
 *   Overwrite off (attached): the move fails while every sub-buffer is unread; the writer stalls and every
 *   record is dropped whole (a failure, no number) until the reader frees one (5.2).
 * - A read (`__stp_relay_file_read`) first closes the writer's current sub-buffer if it holds data (the rest
 *   of the page becomes padding), then copies unread bytes across sub-buffers, skipping padding
 *   (`kernel/relay.c` `relay_file_read`). Consumed bytes never come again.
 * - The first read of a ring that wrapped starts at the oldest sub-buffer still kept, `produced − n + 1`: as
 *   the kernel lab measured (run 2 b1, docs/loss-accounting.md item 3), usually inside a record whose start
 *   was overwritten.
 *
 * The clean ring (`"clean"`, what SystemTap 5.1 and later give, and what unit tests of the bookkeeping use): a
 * header never straddles two sub-buffers (a tail of 1–8 bytes becomes padding, PR31117), a record that does
 * not fit in the free sub-buffers is dropped whole, and the first read after a wrap starts at the first record
 * that starts in the oldest kept sub-buffer. A reader of the clean ring never loses its frame.
 *
 * Memory is allocated once: no allocation per record on the write path.
 * @module
 */
import { MAX_RECORD_PAYLOAD, RECORD_HEADER } from "./transport.ts";

/** Bytes of one sub-buffer: PAGE_SIZE on x86-64 (5.1). */
export const SUBBUF_SIZE = 4096;

/** Default bytes per CPU: 16 MiB (5.1). */
export const DEFAULT_BUFFER_BYTES = 16 * 1024 * 1024;

/** errno of a read of an empty relay file in the 4.8 runtime (`-ENODATA`). */
export const ENODATA = 61;

/** Which ring to simulate: 4.8's, with its losses (the default), or the clean ring of 5.1 and later. */
export type RingModel = "4.8" | "clean";

/** Marks a sub-buffer in which no record starts (the clean ring's bookkeeping). */
const NO_RECORD = 0xffff;

/** Counters of the relay buffers, over all CPUs. */
export interface RelayStats {
  /** Records written with a sequence number (whole or cut short). */
  records: number;
  /** Header and payload bytes written. */
  bytes: number;
  /** Transport failures: records dropped (no number) and records cut short (with one), as 4.8 counts them. */
  failures: number;
  /** Of the failures, records dropped at a sub-buffer's last 1–8 bytes (the 4.8 ring only). */
  tailDrops: number;
  /** Of the failures, records cut short because the rest could not be reserved (the 4.8 ring only). */
  cutShort: number;
  /** Sub-buffers the writer moved into while they were still unread (overwrite on). */
  overwrittenSubbufs: number;
}

/** One CPU's ring, with the kernel's names for its bookkeeping. */
class CpuRing {
  readonly data: Uint8Array;
  readonly view: DataView;
  /** Padding at the end of each sub-buffer once it was closed. */
  readonly padding: Uint16Array;
  /** The clean ring: offset of the first record that starts in each sub-buffer, or NO_RECORD. */
  readonly firstRecord: Uint16Array;
  produced = 0;
  consumed = 0;
  bytesConsumed = 0;
  /** Write offset in the writer's sub-buffer; `SUBBUF_SIZE + 1` while the writer is stalled. */
  offset = 0;
  /** The sub-buffer the writer writes in (`buf->data`). */
  writeSub = 0;

  constructor(readonly nsub: number) {
    // relay_alloc_buf zeroes the pages: the ring's first pass reads zeros where nothing was written.
    this.data = new Uint8Array(nsub * SUBBUF_SIZE);
    this.view = new DataView(this.data.buffer);
    this.padding = new Uint16Array(nsub);
    this.firstRecord = new Uint16Array(nsub).fill(NO_RECORD);
  }

  /** `__stp_relay_buf_empty`: nothing written since the last read took everything. */
  get empty(): boolean {
    return this.offset === 0 && this.produced === this.consumed;
  }
}

/** The per-CPU relay rings of one module. */
export class RelayBuffers {
  readonly cpus: number;
  /** Bytes per CPU. */
  readonly bufferBytes: number;
  /** Sub-buffers per CPU. */
  readonly subbufs: number;
  /** Overwrite the oldest data when full (detached) instead of dropping new data (attached). */
  overwrite = false;
  readonly model: RingModel;
  readonly stats: RelayStats = {
    records: 0,
    bytes: 0,
    failures: 0,
    tailDrops: 0,
    cutShort: 0,
    overwrittenSubbufs: 0,
  };
  #rings: CpuRing[];
  #seq = 0;

  constructor(cpus: number, bufferBytes: number = DEFAULT_BUFFER_BYTES, model: RingModel = "clean") {
    if (!Number.isInteger(cpus) || cpus < 1) throw new RangeError(`Invalid CPU count "${cpus}"`);
    if (!Number.isInteger(bufferBytes) || bufferBytes < 2 * SUBBUF_SIZE || bufferBytes % SUBBUF_SIZE !== 0) {
      throw new RangeError(
        `Invalid buffer size "${bufferBytes}": expected a multiple of 4096 of at least two sub-buffers`,
      );
    }
    this.cpus = cpus;
    this.bufferBytes = bufferBytes;
    this.subbufs = bufferBytes / SUBBUF_SIZE;
    this.model = model;
    this.#rings = Array.from({ length: cpus }, () => new CpuRing(this.subbufs));
  }

  /** The last sequence number handed out (0 before the first record): the counters file's `sequence`. */
  get lastSequence(): number {
    return this.#seq;
  }

  #ring(cpu: number): CpuRing {
    const ring = this.#rings[cpu];
    if (ring === undefined) throw new RangeError(`No such CPU "${cpu}"`);
    return ring;
  }

  /**
   * Writes one record (a flushed print buffer) on `cpu`. Returns false when it was dropped without a sequence
   * number; a record cut short returns true (it has its number) and, like a drop, counts as a transport
   * failure.
   */
  write(cpu: number, payload: Uint8Array): boolean {
    const ring = this.#ring(cpu);
    if (payload.length === 0) return true;
    if (payload.length > MAX_RECORD_PAYLOAD) {
      throw new RangeError(`Record of ${payload.length} bytes exceeds 8192`);
    }
    return this.model === "4.8" ? this.#flush48(ring, payload) : this.#flushClean(ring, payload);
  }

  /** `__stp_print_flush` of 4.8, step by step. */
  #flush48(ring: CpuRing, payload: Uint8Array): boolean {
    const len = payload.length;
    let got = this.#reserve(ring, RECORD_HEADER + len);
    // The header must fit whole, with at least one byte of payload after it (`bytes_reserved > hlen`).
    if (got <= RECORD_HEADER) {
      this.stats.failures++;
      // The reservation moved the write offset over the bytes it granted: they stay as they were.
      if (got > 0) this.stats.tailDrops++;
      return false;
    }
    this.#seq = (this.#seq + 1) >>> 0;
    let at = ring.writeSub * SUBBUF_SIZE + ring.offset - got;
    this.#noteStart(ring, at);
    ring.view.setUint32(at, this.#seq, true);
    ring.view.setUint32(at + 4, len, true);
    let done = got - RECORD_HEADER;
    ring.data.set(payload.subarray(0, done), at + RECORD_HEADER);
    this.stats.records++;
    this.stats.bytes += got;
    while (done < len) {
      got = this.#reserve(ring, len - done);
      if (got === 0) {
        // "the receiver must somehow resynch the framing": the record stays cut short.
        this.stats.failures++;
        this.stats.cutShort++;
        return true;
      }
      at = ring.writeSub * SUBBUF_SIZE + ring.offset - got;
      ring.data.set(payload.subarray(done, done + got), at);
      done += got;
      this.stats.bytes += got;
    }
    return true;
  }

  /** The clean ring: a header never straddles, and a record is written whole or dropped whole. */
  #flushClean(ring: CpuRing, payload: Uint8Array): boolean {
    if (ring.offset > SUBBUF_SIZE && !this.#switch(ring)) {
      this.stats.failures++;
      return false;
    }
    const need = RECORD_HEADER + payload.length;
    const left = SUBBUF_SIZE - ring.offset;
    // Too little left for a header and a byte of payload: the rest of the page becomes padding (PR31117).
    const pad = left <= RECORD_HEADER;
    const moves = Math.ceil((pad ? need : Math.max(0, need - left)) / SUBBUF_SIZE);
    const free = ring.nsub - 1 - (ring.produced - ring.consumed);
    if (moves > ring.nsub - 1 || (!this.overwrite && moves > free)) {
      this.stats.failures++;
      return false;
    }
    if (pad && left > 0) this.#switch(ring);
    return this.#flush48(ring, payload);
  }

  #noteStart(ring: CpuRing, at: number): void {
    const sub = Math.floor(at / SUBBUF_SIZE);
    if (ring.firstRecord[sub] === NO_RECORD) ring.firstRecord[sub] = at - sub * SUBBUF_SIZE;
  }

  /** `_stp_data_write_reserve`: bytes granted in the writer's sub-buffer (0: none), the offset moved past them. */
  #reserve(ring: CpuRing, size: number): number {
    if (ring.offset >= SUBBUF_SIZE) {
      if (!this.#switch(ring)) return 0;
      size = Math.min(size, SUBBUF_SIZE);
    } else if (ring.offset + size > SUBBUF_SIZE) {
      size = SUBBUF_SIZE - ring.offset;
    }
    ring.offset += size;
    return size;
  }

  /**
   * `__stp_relay_switch_subbuf`: closes the writer's sub-buffer (unless it is stalled, when it was closed
   * already) and moves to the next one, which fails while every sub-buffer is unread and overwrite is off.
   */
  #switch(ring: CpuRing): boolean {
    if (ring.offset !== SUBBUF_SIZE + 1) {
      ring.padding[ring.produced % ring.nsub] = SUBBUF_SIZE - ring.offset;
      ring.produced++;
    }
    const next = ring.produced % ring.nsub;
    const full = ring.produced - ring.consumed >= ring.nsub;
    if (!this.overwrite && full) {
      ring.offset = SUBBUF_SIZE + 1;
      return false;
    }
    if (full) this.stats.overwrittenSubbufs++;
    ring.offset = 0;
    ring.writeSub = next;
    ring.padding[next] = 0;
    ring.firstRecord[next] = NO_RECORD;
    return true;
  }

  /**
   * A reader attached (overwrite goes off): a ring that wrapped is caught up to the oldest page it kept, as the
   * lab saw the first read do. (Done here rather than at the read: the module may fill the ring and stall its
   * writer before the reader's first read comes, and the kernel's stalled path would then read from the stale
   * position of the last reader, which the lab did not see.)
   */
  attached(): void {
    this.overwrite = false;
    for (const ring of this.#rings) {
      if (ring.produced - ring.consumed >= ring.nsub && ring.offset <= SUBBUF_SIZE) this.#catchUp(ring);
    }
  }

  /** Whether a poll of `cpu`'s relay file says there is something to read. */
  hasData(cpu: number): boolean {
    return !this.#ring(cpu).empty;
  }

  /**
   * One `read()` of `cpu`'s relay file into `out`: the bytes read, or `-ENODATA` when there is nothing (the
   * 4.8 runtime's answer). Bytes are the stream as it lies in the ring, records and damage alike.
   */
  read(cpu: number, out: Uint8Array): number {
    const ring = this.#ring(cpu);
    if (ring.produced - ring.consumed >= ring.nsub && ring.offset <= SUBBUF_SIZE) this.#catchUp(ring);
    // stap's read wrapper closes the writer's sub-buffer if it holds anything (5.3).
    if (ring.offset !== 0) this.#switch(ring);
    if (ring.produced === ring.consumed) return -ENODATA;
    const n = this.#relayRead(ring, out);
    // stapio reads a header and a payload at a time, and each read's wrapper tries the stalled writer's move
    // again: the writer goes on as soon as a page is free. One read here stands for many of stapio's.
    if (ring.offset === SUBBUF_SIZE + 1 && ring.produced - ring.consumed < ring.nsub) this.#switch(ring);
    return n;
  }

  /**
   * A wrapped ring's first read moves to the oldest sub-buffer kept (`relay_file_read_avail`); the clean ring
   * also skips to the first record that starts there.
   */
  #catchUp(ring: CpuRing): void {
    ring.consumed = ring.produced - ring.nsub + 1;
    ring.bytesConsumed = 0;
    if (this.model !== "clean") return;
    while (ring.consumed < ring.produced) {
      const first = ring.firstRecord[ring.consumed % ring.nsub];
      if (first !== NO_RECORD) {
        ring.bytesConsumed = first;
        return;
      }
      ring.consumed++;
    }
    // Nothing starts in a closed sub-buffer: the writer's one (if it has a start) is where reading resumes.
    const first = ring.firstRecord[ring.writeSub];
    ring.bytesConsumed = first === NO_RECORD ? Math.min(ring.offset, SUBBUF_SIZE) : first;
  }

  /** `relay_file_read`: copies what is available, across sub-buffers, skipping padding. */
  #relayRead(ring: CpuRing, out: Uint8Array): number {
    let written = 0;
    while (written < out.length) {
      if (!this.#readAvail(ring)) break;
      const start = this.#readStart(ring);
      let avail = this.#subbufAvail(ring, start);
      if (avail === 0) break;
      avail = Math.min(avail, out.length - written);
      out.set(ring.data.subarray(start, start + avail), written);
      written += avail;
      this.#consume(ring, start, avail);
    }
    return written;
  }

  /** `relay_subbufs_consumed(chan, cpu, 1)`. */
  #subbufsConsumed(ring: CpuRing): void {
    if (1 > ring.produced - ring.consumed) ring.consumed = ring.produced;
    else ring.consumed++;
  }

  /** `relay_file_read_consume`. */
  #consume(ring: CpuRing, readPos: number, bytes: number): void {
    if (ring.produced === ring.consumed && ring.offset === ring.bytesConsumed) return;
    if (ring.bytesConsumed + bytes > SUBBUF_SIZE) {
      this.#subbufsConsumed(ring);
      ring.bytesConsumed = 0;
    }
    ring.bytesConsumed += bytes;
    const sub = readPos === 0 ? ring.consumed % ring.nsub : Math.floor(readPos / SUBBUF_SIZE);
    if (ring.bytesConsumed + ring.padding[sub] === SUBBUF_SIZE) {
      if (sub === ring.produced % ring.nsub && ring.offset === SUBBUF_SIZE) return;
      this.#subbufsConsumed(ring);
      ring.bytesConsumed = 0;
    }
  }

  /** `relay_file_read_avail`. */
  #readAvail(ring: CpuRing): boolean {
    this.#consume(ring, 0, 0);
    if (ring.offset > SUBBUF_SIZE) return ring.produced !== ring.consumed;
    if (ring.produced - ring.consumed >= ring.nsub) this.#catchUp(ring);
    const whole = ring.nsub * SUBBUF_SIZE;
    let produced = (ring.produced % ring.nsub) * SUBBUF_SIZE + ring.offset;
    const consumed = (ring.consumed % ring.nsub) * SUBBUF_SIZE + ring.bytesConsumed;
    if (consumed > produced) produced += whole;
    if (consumed === produced) return ring.offset === SUBBUF_SIZE && ring.produced > ring.consumed;
    return true;
  }

  /** `relay_file_read_start_pos`: the read position, moved past padding. */
  #readStart(ring: CpuRing): number {
    const whole = ring.nsub * SUBBUF_SIZE;
    let pos = ((ring.consumed % ring.nsub) * SUBBUF_SIZE + ring.bytesConsumed) % whole;
    const sub = Math.floor(pos / SUBBUF_SIZE);
    const paddingStart = (sub + 1) * SUBBUF_SIZE - ring.padding[sub];
    if (pos >= paddingStart && pos < (sub + 1) * SUBBUF_SIZE) pos = ((sub + 1) % ring.nsub) * SUBBUF_SIZE;
    return pos;
  }

  /** `relay_file_read_subbuf_avail`. */
  #subbufAvail(ring: CpuRing, readPos: number): number {
    const writeOffset = Math.min(ring.offset, SUBBUF_SIZE);
    const sub = Math.floor(readPos / SUBBUF_SIZE);
    const readOffset = readPos % SUBBUF_SIZE;
    const padding = ring.padding[sub];
    if (sub === ring.writeSub) {
      return readOffset + padding < writeOffset ? writeOffset - (readOffset + padding) : 0;
    }
    return SUBBUF_SIZE - padding - readOffset;
  }
}
