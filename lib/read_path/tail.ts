/**
 * The last N lines of a recording: read backwards from the newest file of a non-bulk run, or kept while
 * merging the newest bulk files, or kept while draining a memory ring.
 * @module
 */
import type { RunFile } from "./files.ts";
import { mergeStreams } from "./merge.ts";

/** Keeps the last `n` lines of a byte stream (a trailing newline does not start an empty line). */
export class LineKeeper {
  #n: number;
  #buf: Uint8Array = new Uint8Array(0);

  /** Keeps `n` lines. */
  constructor(n: number) {
    this.#n = n;
  }

  /** Adds bytes. */
  push(chunk: Uint8Array): void {
    const next = new Uint8Array(this.#buf.length + chunk.length);
    next.set(this.#buf);
    next.set(chunk, this.#buf.length);
    this.#buf = next.length > 1 << 16 ? this.bytes(next) : next;
  }

  /** The last lines so far, each with its newline (a final partial line without). */
  bytes(buf: Uint8Array = this.#buf): Uint8Array {
    if (this.#n <= 0) return new Uint8Array(0);
    let at = buf.length;
    if (buf[at - 1] === 0x0a) at--;
    for (let i = 0; i < this.#n; i++) {
      const nl = buf.lastIndexOf(0x0a, at - 1);
      if (nl < 0) return buf;
      at = nl;
    }
    return buf.slice(at + 1);
  }
}

/**
 * The last `n` lines of `text` (a trailing newline does not start an empty line).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(lastLines("a\nb\nc\n", 2), "b\nc\n");
 * assertEquals(lastLines("a\nb\nc", 1), "c");
 * assertEquals(lastLines("a\n", 0), "");
 * ```
 */
export function lastLines(text: string, n: number): string {
  if (n <= 0) return "";
  let at = text.length;
  if (text.endsWith("\n")) at--;
  for (let i = 0; i < n; i++) {
    const nl = text.lastIndexOf("\n", at - 1);
    if (nl < 0) return text;
    at = nl;
  }
  return text.slice(at + 1);
}

/**
 * Where a tail's read of a run stopped, per stream (`null` for a text run, the CPU for a bulk one): the run
 * file's index and the offset in it. A follower goes on from there (lib/read_path/follow.ts), so that what
 * stapio writes between the tail's read and the follower's start is not skipped; for a bulk run it starts at
 * the file's start and leaves out the records up to `afterSeq`, the last one the tail read.
 */
export interface TailEnd {
  streams: Map<number | null, { index: number; offset: number }>;
  afterSeq?: number;
}

/** The last lines of a run, and where the read stopped. */
export interface Tail {
  text: string;
  end: TailEnd;
}

/** The last `n` lines of one stream of files (oldest first), reading backwards in blocks from the end. */
export async function tailFiles(files: readonly RunFile[], n: number): Promise<Tail> {
  const end: TailEnd = { streams: new Map() };
  const pieces: Uint8Array[] = [];
  let newlines = 0;
  const block = 1 << 16;
  outer: for (let i = files.length - 1; i >= 0; i--) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(files[i].path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    try {
      let pos = (await file.stat()).size;
      if (end.streams.size === 0) end.streams.set(null, { index: files[i].index, offset: pos });
      if (n <= 0) break;
      while (pos > 0) {
        const start = Math.max(0, pos - block);
        const buf = new Uint8Array(pos - start);
        await file.seek(start, Deno.SeekMode.Start);
        let got = 0;
        while (got < buf.length) {
          const r = await file.read(buf.subarray(got));
          if (r === null) break;
          got += r;
        }
        pieces.unshift(buf.subarray(0, got));
        for (const b of buf.subarray(0, got)) if (b === 10) newlines++;
        pos = start;
        // One newline more than lines wanted (plus a possible final one) bounds the last n lines.
        if (newlines > n + 1) break outer;
      }
    } finally {
      file.close();
    }
  }
  const all = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.length;
  }
  return { text: lastLines(new TextDecoder().decode(all), n), end };
}

/** The last `n` lines of bulk streams: merges the newest files of each CPU, going further back as needed. */
export async function tailBulk(streams: readonly RunFile[][], n: number): Promise<Tail> {
  const longest = Math.max(0, ...streams.map((s) => s.length));
  const end: TailEnd = { streams: new Map() };
  for (const s of streams) {
    if (s.length > 0) end.streams.set(s[0].cpu, { index: s[s.length - 1].index, offset: 0 });
  }
  for (let k = 1;; k *= 2) {
    const keeper = new LineKeeper(n);
    const merged = await mergeStreams(streams.map((s) => s.slice(Math.max(0, s.length - k))), (c) => {
      keeper.push(c);
      return Promise.resolve();
    });
    const text = new TextDecoder().decode(keeper.bytes());
    const count = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (count >= n || k >= longest) return { text, end: { ...end, afterSeq: merged.report.lastRead } };
  }
}
