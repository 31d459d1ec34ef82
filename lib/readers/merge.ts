/**
 * Bulk-mode files read back as one stream, as `stap-merge` does (docs/systemtap-4.8.md 4.9): each CPU's files, oldest to
 * newest, hold records `uint32 seq, uint32 len, payload` (little-endian); the merge repeatedly emits the payload
 * of the record with the smallest sequence number among the CPUs. Sequence numbers come from one counter for
 * all CPUs, so this restores the global order.
 * @module
 */
import type { ByteSink } from "./concat.ts";
import type { RunFile } from "./files.ts";

/** One relay record. */
export interface RelayRecord {
  seq: number;
  payload: Uint8Array;
}

/** A record longer than this is framing garbage (stap's print buffer holds 8 KiB). */
const MAX_PAYLOAD = 1 << 16;

/** Reads the records of one CPU's files in order; a torn record at the end of a file is dropped. */
export class RecordReader {
  #files: readonly RunFile[];
  #next = 0;
  #file: Deno.FsFile | undefined;
  #buf = new Uint8Array(1 << 20);
  #start = 0;
  #end = 0;
  #eof = true;
  /** Bytes of torn or garbage records skipped. */
  skipped = 0;

  /** Reads the files (one CPU's stream, oldest first). */
  constructor(files: readonly RunFile[]) {
    this.#files = files;
  }

  async #openNext(): Promise<boolean> {
    this.#file?.close();
    this.#file = undefined;
    this.skipped += this.#end - this.#start;
    this.#start = this.#end = 0;
    while (this.#next < this.#files.length) {
      try {
        const f = this.#files[this.#next++];
        this.#file = await Deno.open(f.path, { read: true });
        if (f.offset) await this.#file.seek(f.offset, Deno.SeekMode.Start);
        this.#eof = false;
        return true;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    return false;
  }

  /** Makes at least `n` bytes available in the buffer; false at the end of the current file. */
  async #fill(n: number): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (this.#eof) return false;
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#buf.length < n) {
        const bigger = new Uint8Array(Math.max(n, this.#buf.length * 2));
        bigger.set(this.#buf.subarray(0, this.#end));
        this.#buf = bigger;
      }
      const got = await this.#file!.read(this.#buf.subarray(this.#end));
      if (got === null) this.#eof = true;
      else this.#end += got;
    }
    return true;
  }

  /** The next record, or null when every file is read. The payload is a copy. */
  async next(): Promise<RelayRecord | null> {
    while (true) {
      if (this.#file === undefined && !(await this.#openNext())) return null;
      if (await this.#fill(8)) {
        const view = new DataView(this.#buf.buffer, this.#start, 8);
        const seq = view.getUint32(0, true);
        const len = view.getUint32(4, true);
        if (len <= MAX_PAYLOAD && (await this.#fill(8 + len))) {
          const payload = this.#buf.slice(this.#start + 8, this.#start + 8 + len);
          this.#start += 8 + len;
          return { seq, payload };
        }
      }
      // End of this file (or garbage): go on with the next one.
      if (!(await this.#openNext())) return null;
    }
  }

  /** Closes the open file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** What a merge saw. */
export interface MergeResult {
  bytes: number;
  records: number;
  /** Sequence numbers missing between consecutive emitted records (overwritten or dropped data). */
  gaps: number;
}

/**
 * Merges the CPU streams by sequence number and passes the payloads to `sink` in large blocks.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const dir = await Deno.makeTempDir();
 * const rec = (seq: number, text: string) => {
 *   const p = new TextEncoder().encode(text);
 *   const r = new Uint8Array(8 + p.length);
 *   new DataView(r.buffer).setUint32(0, seq, true);
 *   new DataView(r.buffer).setUint32(4, p.length, true);
 *   r.set(p, 8);
 *   return r;
 * };
 * await Deno.writeFile(`${dir}/o_cpu0.0`, new Uint8Array([...rec(1, "a"), ...rec(3, "c")]));
 * await Deno.writeFile(`${dir}/o_cpu1.0`, rec(2, "b"));
 * const streams = [0, 1].map((c) => [{ path: `${dir}/o_cpu${c}.0`, name: "", cpu: c, index: 0 }]);
 * let text = "";
 * await mergeStreams(streams, (c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
 * assertEquals(text, "abc");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function mergeStreams(streams: readonly RunFile[][], sink: ByteSink): Promise<MergeResult> {
  const readers = streams.map((files) => new RecordReader(files));
  const out = new Uint8Array(1 << 20);
  let fill = 0;
  const result: MergeResult = { bytes: 0, records: 0, gaps: 0 };
  let last: number | undefined;
  try {
    const heads = await Promise.all(readers.map((r) => r.next()));
    while (true) {
      let pick = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (pick < 0 || h.seq < heads[pick]!.seq)) pick = i;
      }
      if (pick < 0) break;
      const { seq, payload } = heads[pick]!;
      if (last !== undefined && seq > last + 1) result.gaps += seq - last - 1;
      last = seq;
      result.records++;
      result.bytes += payload.length;
      if (fill + payload.length > out.length) {
        await sink(out.subarray(0, fill));
        fill = 0;
      }
      if (payload.length > out.length) await sink(payload);
      else {
        out.set(payload, fill);
        fill += payload.length;
      }
      heads[pick] = await readers[pick].next();
    }
    if (fill > 0) await sink(out.subarray(0, fill));
  } finally {
    for (const r of readers) r.close();
  }
  return result;
}
