/**
 * The mark of a sink that sends chunks read from a file from the file itself (lib/read_path/send_file.ts), and
 * whether such a read runs, kept apart from that module so that the library and the command line can mark and
 * pass on sinks without loading it (or libc) for reads that never send from a file.
 * @module
 */
import type { ByteSink } from "./concat.ts";

const FILE_CHUNKS = Symbol("sends file chunks");

/**
 * Marks `sink` as one that sends the chunks lib/read_path/send_file.ts reads from their file; a sink that wraps
 * it passes the mark on with {@linkcode passingFileChunks}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const stdout = takingFileChunks((_chunk: Uint8Array) => Promise.resolve());
 * const gated = passingFileChunks(stdout, (chunk: Uint8Array) => stdout(chunk));
 * const other = () => Promise.resolve();
 * assertEquals([takesFileChunks(stdout), takesFileChunks(gated), takesFileChunks(other)], [true, true, false]);
 * ```
 */
export function takingFileChunks<T extends ByteSink>(sink: T): T {
  return Object.assign(sink, { [FILE_CHUNKS]: true });
}

/** Marks `wrapper` as {@linkcode takingFileChunks} when the sink it wraps, `inner`, is. */
export function passingFileChunks<T extends ByteSink>(inner: ByteSink, wrapper: T): T {
  return FILE_CHUNKS in inner ? takingFileChunks(wrapper) : wrapper;
}

/** Whether `sink` sends file chunks from their files. */
export function takesFileChunks(sink: ByteSink): boolean {
  return FILE_CHUNKS in sink;
}

let running = 0;

/** Whether a read that sends from files (lib/read_path/send_file.ts `sendFiles`) runs in this process. */
export function sendingFiles(): boolean {
  return running > 0;
}

/** Counts a read that sends from files while `read` runs. */
export async function whileSendingFiles<T>(read: () => Promise<T>): Promise<T> {
  running++;
  try {
    return await read();
  } finally {
    running--;
  }
}
