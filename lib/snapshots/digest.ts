/**
 * SHA-256, size and line count of snapshot data, computed as it streams (memory mode) or read back from a file
 * (file mode). Bulk files count the lines of their record payloads, not newline bytes of the binary headers.
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { RecordReader } from "../readers/merge.ts";

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

/** SHA-256, bytes and lines of a file; `bulk` counts lines in the record payloads. */
export async function digestFile(
  path: string,
  bulk: boolean,
): Promise<{ sha256: string; bytes: number; lines: number }> {
  const d = new Digest();
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  for (let n; (n = await file.read(buf)) !== null;) d.update(buf.subarray(0, n));
  let lines = d.lines;
  if (bulk) {
    lines = 0;
    const reader = new RecordReader([{ path, name: "", cpu: 0, index: 0 }]);
    try {
      for (let r; (r = await reader.next()) !== null;) lines += countNewlines(r.payload);
    } finally {
      reader.close();
    }
  }
  return { sha256: d.hex(), bytes: d.bytes, lines };
}
