/**
 * SHA-256, size and line count of snapshot data, computed as it streams (memory mode) or read back from a file
 * (file mode). Bulk files count the lines of their record payloads, not newline bytes of the binary headers.
 * @module
 */
import type { Hash } from "node:crypto";
import { RecordFramer, type RelayRecord } from "../read_path/framing.ts";
import { readTextNoFollow } from "./store_trust.ts";
import { writeAtomic } from "../atomic_write.ts";

// Imported when this module loads, not with the program: in the bundle a static `node:` import is loaded at
// every start-up, whichever command runs, and node:crypto costs more than the rest of `stapfr list`.
const { createHash } = await import("node:crypto");

/** Running digest of a byte stream. */
export class Digest {
  #hash: Hash = createHash("sha256");
  /** Bytes seen. */
  bytes = 0;
  /** Newline bytes seen. */
  lines = 0;

  /** Adds a chunk. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    this.lines += countNewlines(chunk);
  }

  /** The hex SHA-256 of everything added. */
  hex(): string {
    return this.#hash.digest("hex");
  }
}

/** Newline bytes in a chunk. */
export function countNewlines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** The sequence numbers in one bulk file: its first, its last, and how many records. */
export interface FileSequence {
  first: number;
  last: number;
  records: number;
}

/** What a file's digest says. */
export interface FileDigest {
  sha256: string;
  bytes: number;
  lines: number;
  /** Bulk files with records: their sequence numbers. */
  seq?: FileSequence;
}

/**
 * SHA-256, bytes and lines of a file, in one read; `bulk` counts lines in the record payloads (framed as every
 * read frames them, lib/read_path/framing.ts) and gives their numbers.
 */
export async function digestFile(path: string, bulk: boolean): Promise<FileDigest> {
  const d = new Digest();
  const framer = bulk ? new RecordFramer() : undefined;
  let lines = 0;
  let seq: FileSequence | undefined;
  const count = (records: readonly RelayRecord[]): void => {
    for (const r of records) {
      lines += countNewlines(r.payload);
      seq = seq
        ? { first: seq.first, last: r.seq, records: seq.records + 1 }
        : { first: r.seq, last: r.seq, records: 1 };
    }
  };
  {
    using file = await Deno.open(path, { read: true });
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = await file.read(buf)) !== null;) {
      const chunk = buf.subarray(0, n);
      d.update(chunk);
      if (framer) count(framer.push(chunk));
    }
  }
  if (framer) count(framer.end());
  else lines = d.lines;
  return { sha256: d.hex(), bytes: d.bytes, lines, ...(seq ? { seq } : {}) };
}

/**
 * Digests of files that never change again, by inode: a rotated file hard-linked into several snapshots of a
 * run is hashed once, so a snapshot of a large run costs a link and a lookup per file, not a read of every
 * byte. Kept per recorder in the store (`.hashes.json`); an entry is used only while the inode, size and
 * modification time are what they were when it was hashed. See docs/snapshots.md "Capture".
 */
export class HashCache {
  #path: string;
  #entries: Record<string, { sha256: string; lines: number; seq?: FileSequence }>;
  #used = new Set<string>();

  private constructor(
    path: string,
    entries: Record<string, { sha256: string; lines: number; seq?: FileSequence }>,
  ) {
    this.#path = path;
    this.#entries = entries;
  }

  /** Opens the cache of a recorder's store directory. */
  static async open(dir: string): Promise<HashCache> {
    const path = `${dir}/.hashes.json`;
    let entries = {};
    try {
      const value = JSON.parse(await readTextNoFollow(path));
      if (value && typeof value === "object" && !Array.isArray(value)) entries = value;
    } catch {
      // None yet, unreadable, or a link (never followed in the store): start afresh.
    }
    return new HashCache(path, entries);
  }

  /** The digest of a file, from the cache when its inode, size and time match. */
  async digest(path: string, bulk: boolean): Promise<FileDigest> {
    const st = await Deno.stat(path);
    // "s": entries that carry the sequence numbers of bulk files (older entries are hashed again once).
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtime?.getTime()}:${bulk ? "bs" : "t"}`;
    this.#used.add(key);
    const hit = this.#entries[key];
    if (hit && typeof hit.sha256 === "string" && typeof hit.lines === "number") {
      return { sha256: hit.sha256, bytes: st.size, lines: hit.lines, ...(hit.seq ? { seq: hit.seq } : {}) };
    }
    const d = await digestFile(path, bulk);
    this.#entries[key] = { sha256: d.sha256, lines: d.lines, ...(d.seq ? { seq: d.seq } : {}) };
    return d;
  }

  /** Writes the entries of files still in use (the rest are forgotten). */
  async save(): Promise<void> {
    const kept = Object.fromEntries(Object.entries(this.#entries).filter(([k]) => this.#used.has(k)));
    // A cache: failing to save it costs only time at the next snapshot.
    await writeAtomic(this.#path, JSON.stringify(kept)).catch(() => {});
  }
}
