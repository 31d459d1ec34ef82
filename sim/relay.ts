/**
 * The relay buffers of a simulated SystemTap 4.8 module (docs/systemtap-4.8.md section 5): per CPU, a ring of page-sized
 * sub-buffers holding relay records (`uint32 seq, uint32 len, payload`, see `sim/transport.ts`), with one
 * global sequence counter over all CPUs.
 *
 * - Overwrite on (nobody attached): when a CPU needs a new sub-buffer and all are unread, its oldest whole
 *   sub-buffer is overwritten (5.2). Records that started in it are lost whole: the reader resumes at the first
 *   record that starts in the next retained sub-buffer, so a record is never emitted torn.
 * - Overwrite off (attached): new data that does not fit is dropped and counted as a transport failure (5.2).
 *   Its sequence number is used up, so readers see the gap.
 * - A read returns the unread records oldest first, including the partial sub-buffer, which the read closes
 *   as stap's read wrapper does: the rest of that page becomes padding (5.3). Consumed data is never repeated.
 *
 * Decisions where 4.8 is odd:
 * - The 1–8 byte tail (5.2): when fewer than 8 bytes (a record header) are left in a sub-buffer, they become
 *   padding and the record starts on the next sub-buffer, as 5.1 does (PR31117). 4.8 drops the record and
 *   leaves those bytes as garbage that desynchronises the reader; that is not reproduced.
 * - What a real 4.8 ring hands its reader (docs/real-ring.md "What the real ring gives"), with
 *   {@linkcode RingDamage} (off unless asked for; the module host of the process face turns it on):
 *   - `wrap`: the first read after the ring wrapped while detached starts with a stale, torn fragment: the
 *     4-byte length of a record from an older pass (the last one overwritten), then the first part of its
 *     text, cut mid-line and glued to the newest data (in front of the first record read).
 *   - `truncate`: a record that does not fit while a reader is attached (the reader fell behind) is not
 *     dropped whole: what fits in the current sub-buffer is written, cut short at the sub-buffer's end, and
 *     ends with the 4-byte length it should have had, so the next record's text follows a binary word. It
 *     still counts as a transport failure; the records after it are dropped until the reader catches up.
 *
 * Memory is allocated once: no allocation per record on the write path.
 * @module
 */
import { MAX_RECORD_PAYLOAD, RECORD_HEADER } from "./transport.ts";

/** Bytes of one sub-buffer: PAGE_SIZE on x86-64 (5.1). */
export const SUBBUF_SIZE = 4096;

/** Default bytes per CPU: 16 MiB (5.1). */
export const DEFAULT_BUFFER_BYTES = 16 * 1024 * 1024;

/** Marks a sub-buffer in which no record starts (it only continues a record from the one before). */
const NO_RECORD = 0xffff;

/** Counters of the relay buffers, over all CPUs. */
export interface RelayStats {
  /** Records written (not dropped). */
  records: number;
  /** Payload and header bytes written. */
  bytes: number;
  /** Records dropped because the ring was full with overwrite off: stap's transport failures. */
  failures: number;
  /** Sub-buffers overwritten while overwrite was on. */
  overwrittenSubbufs: number;
  /** Records lost whole to overwriting. */
  overwrittenRecords: number;
}

/** Which of the real 4.8 ring's damage to reproduce (docs/real-ring.md). */
export interface RingDamage {
  /** The stale, torn fragment at the start of the first read after a wrap while detached. */
  wrap?: boolean;
  /** Records cut short at a sub-buffer end, with a binary word, when an attached reader falls behind. */
  truncate?: boolean;
}

/** One CPU's ring. All offsets are bytes; sub-buffer `i` is `data[i*SUBBUF_SIZE ..]`. */
class CpuRing {
  readonly data: Uint8Array;
  readonly view: DataView;
  /** Bytes of real data in each sub-buffer once it is closed (the rest is padding). */
  readonly end: Uint16Array;
  /** Offset of the first record that starts in each sub-buffer, or NO_RECORD. */
  readonly firstRecord: Uint16Array;
  /** Records starting in each sub-buffer (for the count of records lost to overwriting). */
  readonly starts: Uint32Array;
  /** Sub-buffers closed since load; the current one is `produced % nsub`. */
  produced = 0;
  /** Sub-buffers consumed (read or overwritten) since load; the oldest unread is `consumed % nsub`. */
  consumed = 0;
  /** Write offset in the current sub-buffer. */
  offset = 0;
  /** Read offset in the oldest unread sub-buffer. */
  readOff = 0;
  /** The reader lost the start of the record under its cursor: resume at the next record start. */
  skip = false;
  /** The ring wrapped while detached: the next read starts with the stale fragment (RingDamage.wrap). */
  wrapped = false;
  /** The text of the last record overwritten (as far as it lay in its sub-buffer), and its length. */
  readonly stale = new Uint8Array(SUBBUF_SIZE);
  staleBytes = 0;
  staleLength = 0;

  constructor(readonly nsub: number) {
    this.data = new Uint8Array(nsub * SUBBUF_SIZE);
    this.view = new DataView(this.data.buffer);
    this.end = new Uint16Array(nsub);
    this.firstRecord = new Uint16Array(nsub).fill(NO_RECORD);
    this.starts = new Uint32Array(nsub);
  }

  /** Closes the current sub-buffer at the write offset and starts the next one. */
  close(): void {
    const cur = this.produced % this.nsub;
    this.end[cur] = this.offset;
    this.produced++;
    const next = this.produced % this.nsub;
    this.firstRecord[next] = NO_RECORD;
    this.starts[next] = 0;
    this.offset = 0;
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
  readonly stats: RelayStats = {
    records: 0,
    bytes: 0,
    failures: 0,
    overwrittenSubbufs: 0,
    overwrittenRecords: 0,
  };
  /** The real ring's damage reproduced (none by default: the clean ring). */
  readonly damage: RingDamage;
  #rings: CpuRing[];
  #seq = 0;

  constructor(cpus: number, bufferBytes: number = DEFAULT_BUFFER_BYTES, damage: RingDamage = {}) {
    this.damage = damage;
    if (!Number.isInteger(cpus) || cpus < 1) throw new RangeError(`Invalid CPU count "${cpus}"`);
    if (!Number.isInteger(bufferBytes) || bufferBytes < SUBBUF_SIZE || bufferBytes % SUBBUF_SIZE !== 0) {
      throw new RangeError(`Invalid buffer size "${bufferBytes}": expected a positive multiple of 4096`);
    }
    this.cpus = cpus;
    this.bufferBytes = bufferBytes;
    this.subbufs = bufferBytes / SUBBUF_SIZE;
    this.#rings = Array.from({ length: cpus }, () => new CpuRing(this.subbufs));
  }

  /** The last sequence number handed out (0 before the first record). */
  get lastSequence(): number {
    return this.#seq;
  }

  /**
   * Writes one record (a flushed print buffer) on `cpu`. Returns false when it was dropped (ring full with
   * overwrite off, or a record larger than the ring): that counts as a transport failure.
   */
  write(cpu: number, payload: Uint8Array): boolean {
    const ring = this.#rings[cpu];
    if (ring === undefined) throw new RangeError(`No such CPU "${cpu}"`);
    const length = payload.length;
    if (length > MAX_RECORD_PAYLOAD) throw new RangeError(`Record of ${length} bytes exceeds 8192`);
    this.#seq = (this.#seq + 1) >>> 0;
    const need = RECORD_HEADER + length;
    const remaining = SUBBUF_SIZE - ring.offset;
    const base = (ring.produced % ring.nsub) * SUBBUF_SIZE;

    if (need <= remaining) {
      // Fast path: the whole record fits in the current sub-buffer.
      const at = base + ring.offset;
      ring.view.setUint32(at, this.#seq, true);
      ring.view.setUint32(at + 4, length, true);
      ring.data.set(payload, at + RECORD_HEADER);
      this.#noteStart(ring, ring.produced % ring.nsub, ring.offset);
      ring.offset += need;
      this.stats.records++;
      this.stats.bytes += need;
      return true;
    }
    return this.#writeSpanning(ring, payload, need, remaining);
  }

  #noteStart(ring: CpuRing, sub: number, offset: number): void {
    if (ring.firstRecord[sub] === NO_RECORD) ring.firstRecord[sub] = offset;
    ring.starts[sub]++;
  }

  /** A record that needs one or more new sub-buffers: make room (or drop), then write it piece by piece. */
  #writeSpanning(ring: CpuRing, payload: Uint8Array, need: number, remaining: number): boolean {
    // A header never straddles two sub-buffers: a tail shorter than a header becomes padding.
    const firstPart = remaining < RECORD_HEADER ? 0 : remaining;
    const newSubbufs = Math.ceil((need - firstPart) / SUBBUF_SIZE);
    if (newSubbufs > ring.nsub - 1) {
      this.stats.failures++;
      return false;
    }
    const free = ring.nsub - 1 - (ring.produced - ring.consumed);
    if (newSubbufs > free) {
      if (!this.overwrite) {
        this.stats.failures++;
        if (this.damage.truncate) this.#writeTruncated(ring, payload, remaining);
        return false;
      }
      for (let i = free; i < newSubbufs; i++) this.#overwriteOldest(ring);
    }
    if (firstPart === 0) ring.close();

    let sub = ring.produced % ring.nsub;
    let at = sub * SUBBUF_SIZE + ring.offset;
    ring.view.setUint32(at, this.#seq, true);
    ring.view.setUint32(at + 4, payload.length, true);
    this.#noteStart(ring, sub, ring.offset);
    ring.offset += RECORD_HEADER;
    let done = 0;
    while (done < payload.length) {
      if (ring.offset === SUBBUF_SIZE) ring.close();
      sub = ring.produced % ring.nsub;
      at = sub * SUBBUF_SIZE + ring.offset;
      const piece = Math.min(payload.length - done, SUBBUF_SIZE - ring.offset);
      ring.data.set(payload.subarray(done, done + piece), at);
      done += piece;
      ring.offset += piece;
    }
    this.stats.records++;
    this.stats.bytes += need;
    return true;
  }

  /**
   * RingDamage.truncate: the record cut short at the end of the current sub-buffer, ending with the 4-byte
   * length it should have had (what the real ring shows as a binary word glued before the next number).
   */
  #writeTruncated(ring: CpuRing, payload: Uint8Array, remaining: number): void {
    const room = remaining - RECORD_HEADER - 4;
    if (room < 1) return;
    const text = Math.min(room, payload.length);
    const sub = ring.produced % ring.nsub;
    const at = sub * SUBBUF_SIZE + ring.offset;
    ring.view.setUint32(at, this.#seq, true);
    ring.view.setUint32(at + 4, text + 4, true);
    ring.data.set(payload.subarray(0, text), at + RECORD_HEADER);
    ring.view.setUint32(at + RECORD_HEADER + text, payload.length, true);
    this.#noteStart(ring, sub, ring.offset);
    ring.offset += RECORD_HEADER + text + 4;
    this.stats.bytes += RECORD_HEADER + text + 4;
  }

  #overwriteOldest(ring: CpuRing): void {
    const oldest = ring.consumed % ring.nsub;
    if (this.damage.wrap) this.#keepStale(ring, oldest);
    this.stats.overwrittenRecords += ring.starts[oldest];
    // The reader had already taken the records before its cursor.
    if (ring.readOff > 0 && !ring.skip) this.stats.overwrittenRecords -= this.#recordsBefore(ring, oldest);
    this.stats.overwrittenSubbufs++;
    ring.consumed++;
    ring.readOff = 0;
    ring.skip = true;
  }

  /** RingDamage.wrap: keeps the first record that starts in sub-buffer `sub`, which is being overwritten. */
  #keepStale(ring: CpuRing, sub: number): void {
    const off = ring.firstRecord[sub];
    if (off === NO_RECORD) return;
    const base = sub * SUBBUF_SIZE;
    const length = ring.view.getUint32(base + off + 4, true);
    const bytes = Math.max(0, Math.min(length, ring.end[sub] - off - RECORD_HEADER));
    ring.stale.set(ring.data.subarray(base + off + RECORD_HEADER, base + off + RECORD_HEADER + bytes));
    ring.staleBytes = bytes;
    ring.staleLength = length;
    ring.wrapped = true;
  }

  /** Records starting before the read cursor in sub-buffer `sub` (already consumed, so not lost). */
  #recordsBefore(ring: CpuRing, sub: number): number {
    let n = 0;
    let off = ring.firstRecord[sub];
    if (off === NO_RECORD) return 0;
    const base = sub * SUBBUF_SIZE;
    while (off < ring.readOff) {
      n++;
      off += RECORD_HEADER + ring.view.getUint32(base + off + 4, true);
    }
    return n;
  }

  /** Whether `cpu` has unread records. */
  hasData(cpu: number): boolean {
    const ring = this.#rings[cpu];
    if (ring.consumed < ring.produced) {
      // Full sub-buffers may hold only the tail of a lost record: look for a record start.
      if (!ring.skip) return true;
      for (let c = ring.consumed; c < ring.produced; c++) {
        if (ring.firstRecord[c % ring.nsub] !== NO_RECORD) return true;
      }
    }
    const cur = ring.produced % ring.nsub;
    if (ring.skip) return ring.firstRecord[cur] !== NO_RECORD;
    return ring.offset > ring.readOff;
  }

  /** Unread bytes on `cpu`, padding excluded (an upper bound when records were lost to overwriting). */
  unreadBytes(cpu: number): number {
    const ring = this.#rings[cpu];
    let total = 0;
    for (let c = ring.consumed; c < ring.produced; c++) total += ring.end[c % ring.nsub];
    total += ring.offset;
    return Math.max(0, total - ring.readOff);
  }

  /**
   * Moves unread whole records of `cpu` into `out`, oldest first, and returns the number of bytes. Records are
   * copied with their headers. `out` must hold at least one record of the largest size (8200 bytes); a
   * smaller `out` still works when the next record fits, and otherwise throws.
   */
  read(cpu: number, out: Uint8Array): number {
    const ring = this.#rings[cpu];
    if (ring === undefined) throw new RangeError(`No such CPU "${cpu}"`);
    if (!ring.wrapped || !this.damage.wrap) return this.#read(ring, out);
    // The stale fragment goes in front of the first record's text: keep room for it.
    const fragment = RECORD_HEADER + ring.staleBytes;
    if (out.length - fragment < RECORD_HEADER + MAX_RECORD_PAYLOAD) return this.#read(ring, out);
    const written = this.#read(ring, out.subarray(0, out.length - fragment));
    if (written === 0) return 0;
    ring.wrapped = false;
    return written + this.#glueStale(ring, out, written);
  }

  /**
   * Puts the stale fragment (the overwritten record's length word and its text, cut mid-line) in front of the
   * text of the record at the start of `out`; returns the bytes added.
   */
  #glueStale(ring: CpuRing, out: Uint8Array, written: number): number {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const length = view.getUint32(4, true);
    // Cut the stale text in the middle of a line, about two thirds in, within the largest record.
    let cut = Math.min(Math.floor((ring.staleBytes * 2) / 3), MAX_RECORD_PAYLOAD - length - 4);
    while (cut > 0 && ring.stale[cut - 1] === 0x0a) cut--;
    if (cut < 0) return 0;
    const added = 4 + cut;
    out.copyWithin(RECORD_HEADER + added, RECORD_HEADER, written);
    view.setUint32(RECORD_HEADER, ring.staleLength, true);
    out.set(ring.stale.subarray(0, cut), RECORD_HEADER + 4);
    view.setUint32(4, length + added, true);
    return added;
  }

  #read(ring: CpuRing, out: Uint8Array): number {
    let written = 0;
    for (;;) {
      let sub = ring.consumed % ring.nsub;
      if (ring.consumed === ring.produced) {
        // The current sub-buffer: stap's read wrapper closes it if it holds unread data.
        if (ring.skip) {
          if (ring.firstRecord[sub] === NO_RECORD) break;
          ring.readOff = ring.firstRecord[sub];
          ring.skip = false;
        }
        if (ring.offset <= ring.readOff) break;
        ring.close();
      }
      if (ring.skip) {
        if (ring.firstRecord[sub] === NO_RECORD) {
          ring.consumed++;
          continue;
        }
        ring.readOff = ring.firstRecord[sub];
        ring.skip = false;
      }
      const end = ring.end[sub];
      if (ring.readOff >= end) {
        ring.consumed++;
        ring.readOff = 0;
        continue;
      }
      // Copy the run of records that lie wholly in this sub-buffer and fit in `out`, in one go.
      const base = sub * SUBBUF_SIZE;
      let off = ring.readOff;
      let room = out.length - written;
      while (off + RECORD_HEADER <= end) {
        const size = RECORD_HEADER + ring.view.getUint32(base + off + 4, true);
        if (off + size > end || size > room) break;
        off += size;
        room -= size;
      }
      if (off > ring.readOff) {
        out.set(ring.data.subarray(base + ring.readOff, base + off), written);
        written += off - ring.readOff;
        ring.readOff = off;
        continue;
      }
      // The next record spans sub-buffers, or does not fit in `out`.
      const size = RECORD_HEADER + ring.view.getUint32(base + off + 4, true);
      if (size > out.length - written) {
        if (written === 0) throw new RangeError(`Read buffer of ${out.length} bytes cannot hold a record`);
        break;
      }
      let left = size;
      while (left > 0) {
        sub = ring.consumed % ring.nsub;
        if (ring.consumed === ring.produced) ring.close();
        const piece = Math.min(left, ring.end[sub] - ring.readOff);
        const from = sub * SUBBUF_SIZE + ring.readOff;
        out.set(ring.data.subarray(from, from + piece), written);
        written += piece;
        left -= piece;
        ring.readOff += piece;
        if (left > 0) {
          ring.consumed++;
          ring.readOff = 0;
        }
      }
    }
    return written;
  }
}
