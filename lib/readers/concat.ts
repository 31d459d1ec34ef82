/**
 * A non-bulk run read back as one stream: its files oldest to newest, copied in large blocks without looking
 * at lines. A file rotated away before it could be opened is skipped (stapio deletes old files at switches).
 * @module
 */
import type { RunFile } from "./files.ts";

/** Where read bytes go. The chunk may be reused after the promise resolves. */
export type ByteSink = (chunk: Uint8Array) => Promise<void>;

/** The block size for copying: large, so that a 1 GiB dump costs a few hundred system calls per file. */
export const COPY_BLOCK = 1 << 22;

/**
 * Copies the files in order to `sink`; returns the bytes copied and how many files had vanished.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps/assert.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.0`, "one\n");
 * await Deno.writeTextFile(`${dir}/a.1`, "two\n");
 * const files = [0, 1, 2].map((i) => ({ path: `${dir}/a.${i}`, name: `a.${i}`, cpu: null, index: i }));
 * let text = "";
 * const result = await copyFiles(files, (c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
 * assertEquals([text, result.bytes, result.missing], ["one\ntwo\n", 8, 1]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function copyFiles(
  files: readonly RunFile[],
  sink: ByteSink,
  blockSize = COPY_BLOCK,
): Promise<{ bytes: number; missing: number }> {
  const buffer = new Uint8Array(blockSize);
  let bytes = 0;
  let missing = 0;
  for (const f of files) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(f.path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        missing++;
        continue;
      }
      throw err;
    }
    try {
      if (f.offset) await file.seek(f.offset, Deno.SeekMode.Start);
      while (true) {
        const n = await file.read(buffer);
        if (n === null) break;
        bytes += n;
        await sink(buffer.subarray(0, n));
      }
    } finally {
      file.close();
    }
  }
  return { bytes, missing };
}
