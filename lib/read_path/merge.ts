/**
 * Bulk-mode files read back as one stream, as `stap-merge` does (docs/systemtap-4.8.md 4.9): each CPU's files, oldest to
 * newest, hold records `uint32 seq, uint32 len, payload` (little-endian); the record pipeline
 * (lib/read_path/record_pipeline.ts) frames them and passes on the payloads by sequence number. Sequence numbers
 * come from one counter for all CPUs, so this restores the global order.
 * @module
 */
import { type ByteSink, COPY_BLOCK } from "./concat.ts";
import type { RunFile } from "./files.ts";
import { Output } from "./output.ts";
import { type PipelineReport, RecordPipeline } from "./record_pipeline.ts";

/** What a merge saw. */
export interface MergeResult {
  /** Payload bytes the sink took. */
  bytes: number;
  /** Records passed on. */
  records: number;
  /** Sequence numbers missing between the first and the last passed on (overwritten or dropped data). */
  gaps: number;
  /** The pipeline's whole report (the ledger, what framing skipped). */
  report: PipelineReport;
}

/** Reads one CPU's files, oldest first, in blocks; a file rotated away before it is opened is skipped. */
class FileBlocks {
  #files: readonly RunFile[];
  #next = 0;
  #file: Deno.FsFile | undefined;
  #buf = new Uint8Array(COPY_BLOCK);

  constructor(files: readonly RunFile[]) {
    this.#files = files;
  }

  /** The next block (valid until the next call), or null after the last file. */
  async next(): Promise<Uint8Array | null> {
    while (true) {
      if (!this.#file) {
        if (this.#next >= this.#files.length) return null;
        const f = this.#files[this.#next++];
        try {
          this.#file = await Deno.open(f.path, { read: true });
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) continue;
          throw err;
        }
        if (f.offset) await this.#file.seek(f.offset, Deno.SeekMode.Start);
      }
      const n = await this.#file.read(this.#buf);
      if (n !== null && n > 0) return this.#buf.subarray(0, n);
      this.#file.close();
      this.#file = undefined;
    }
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/**
 * Merges the CPU streams of a file run by sequence number (the record pipeline: framing, merge, ledger) and
 * passes the payloads to `sink` in large blocks. A consumer that closes its end (`BrokenPipe`) ends the merge
 * early; another failed write is thrown once the files are closed.
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
  const output = new Output(sink);
  const pipeline = new RecordPipeline({ cpus: streams.length, output });
  const readers = streams.map((files) => new FileBlocks(files));
  try {
    let more = true;
    while (more && output.open) {
      more = false;
      for (let c = 0; c < readers.length; c++) {
        if (!pipeline.wants(c)) continue;
        more = true;
        const block = await readers[c].next();
        if (block === null) await pipeline.end(c);
        else await pipeline.input(c, block);
      }
    }
  } finally {
    for (const r of readers) r.close();
  }
  const report = await pipeline.finish();
  if (output.state === "failed") throw output.error;
  if (output.state === "closed") throw new Deno.errors.BrokenPipe("the consumer closed its end");
  return { bytes: output.bytes, records: report.ledger.records, gaps: report.ledger.missingCount, report };
}
