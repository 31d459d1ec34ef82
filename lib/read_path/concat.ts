/**
 * A non-bulk run read back as one stream: its files oldest to newest, copied in large blocks without looking
 * at lines. A file rotated away before it could be opened is skipped (stapio deletes old files at switches).
 * @module
 */
import type { RunFile } from "./files.ts";

/**
 * Where read bytes go. The chunk may be reused after the promise resolves. `more` is true when the chunk is a
 * step of a block whose rest follows (lib/read_path/send_file.ts reads blocks in steps): the line cleaner lets a
 * long line go only at a block's end, so that its output does not depend on the steps (lib/read_path/clean.ts).
 */
export type ByteSink = (chunk: Uint8Array, more?: boolean) => Promise<void>;

/** The block size for copying: large enough to make system calls rare, small enough to stay in the CPU caches (measured: 1 MiB beats 256K and 4M). */
export const COPY_BLOCK = 1 << 20;

/**
 * Copies the files in order to `sink`; returns the bytes copied and how many files had vanished.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
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
  // Two buffers: the next block is read while the current one is written, so reading and writing overlap.
  const buffers = [new Uint8Array(blockSize), new Uint8Array(blockSize)];
  let bytes = 0;
  let missing = 0;
  let next = 0;
  let file: Deno.FsFile | undefined;
  /** Reads the next block of the stream into `buffer`, moving on through the files; null at the end. */
  const read = async (buffer: Uint8Array): Promise<number | null> => {
    while (true) {
      if (!file) {
        if (next >= files.length) return null;
        const f = files[next++];
        try {
          file = await Deno.open(f.path, { read: true });
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) {
            missing++;
            continue;
          }
          throw err;
        }
        if (f.offset) await file.seek(f.offset, Deno.SeekMode.Start);
      }
      const n = await file.read(buffer);
      if (n !== null && n > 0) return n;
      file.close();
      file = undefined;
    }
  };
  let which = 0;
  let pending: Promise<number | null> = read(buffers[0]);
  try {
    while (true) {
      const n = await pending;
      if (n === null) break;
      const current = buffers[which].subarray(0, n);
      which ^= 1;
      pending = read(buffers[which]);
      bytes += n;
      await sink(current);
    }
  } finally {
    // A failed write leaves a read in flight: let it finish before closing its file.
    await pending.catch(() => null);
    file?.close();
  }
  return { bytes, missing };
}
