/**
 * Where a library read's bytes go: a function or a `WritableStream<Uint8Array>`, as the caller likes. Every
 * chunk handed over is a copy the caller owns (the read pipeline reuses its buffers). A stream is written one
 * chunk at a time, each awaited, so a slow consumer slows the read down instead of piling chunks up; at the
 * end it is closed, and on a failure aborted with the error, as `ReadableStream.pipeTo` does.
 * @module
 */
import type { ByteSink } from "../read_path/concat.ts";
import { OptionTypeError } from "../errors.ts";

/**
 * A destination for recorded bytes: a function that takes each chunk (and may keep it: it is the caller's own
 * copy), or a `WritableStream<Uint8Array>` such as `Deno.stdout.writable` or a file's `writable`. A function
 * that throws `Deno.errors.BrokenPipe` says the consumer went away: the read detaches and resolves with
 * `closed: true`, as `dump | head` does.
 */
export type Sink = ((chunk: Uint8Array) => Promise<void> | void) | WritableStream<Uint8Array>;

const BORROWS = Symbol("borrows its chunks");

/**
 * Marks a sink that is done with each chunk when its promise resolves and keeps no reference to it (it writes
 * the bytes at once, as the command line's stdout and `-o FILE` do): it is handed the engine's buffer itself,
 * without the copy a caller's sink gets. Internal to stapfr: a library caller's chunks are always its own.
 */
export function borrowing<T extends (chunk: Uint8Array) => Promise<void>>(sink: T): T {
  return Object.assign(sink, { [BORROWS]: true });
}

/** A {@linkcode Sink} ready for the engine, and how to end it. */
export interface OpenSink {
  /** The engine's byte sink. */
  write: ByteSink;
  /** The read ended well: a stream is closed. */
  close(): Promise<void>;
  /** The read failed (or was cancelled) with `reason`: a stream is aborted with it. */
  abort(reason: unknown): Promise<void>;
}

/**
 * Opens `sink` for one read; undefined gives a sink that discards (`stop` with nowhere to write).
 *
 * @example A function sink receives copies it may keep
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const kept: Uint8Array[] = [];
 * const sink = openSink((chunk) => void kept.push(chunk));
 * const buffer = new Uint8Array([1, 2, 3]);
 * await sink.write(buffer);
 * buffer[0] = 9; // the engine reuses its buffer
 * assertEquals(kept[0], new Uint8Array([1, 2, 3]));
 * ```
 */
export function openSink(sink: Sink | undefined, option = "sink"): OpenSink {
  if (sink === undefined) {
    return { write: () => Promise.resolve(), close: () => Promise.resolve(), abort: () => Promise.resolve() };
  }
  if (typeof sink === "function") {
    if (BORROWS in sink) {
      return { write: sink as ByteSink, close: () => Promise.resolve(), abort: () => Promise.resolve() };
    }
    return {
      write: async (chunk) => {
        await sink(chunk.slice());
      },
      close: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    };
  }
  if (!(sink instanceof WritableStream)) {
    throw new OptionTypeError(
      option,
      `Invalid option "${option}": expected a function or a WritableStream<Uint8Array>, got ${
        sink === null ? "null" : `an ${typeof sink}`
      }`,
    );
  }
  if (sink.locked) {
    throw new OptionTypeError(
      option,
      `Invalid option "${option}": the WritableStream is locked to another writer`,
    );
  }
  const writer = sink.getWriter();
  let ended = false;
  return {
    write: async (chunk) => {
      // Awaited: the stream's own queue never holds more than this one chunk beyond what it consumed.
      await writer.write(chunk.slice());
    },
    close: async () => {
      if (ended) return;
      ended = true;
      await writer.close();
    },
    abort: async (reason) => {
      if (ended) return;
      ended = true;
      await writer.abort(reason).catch(() => {});
    },
  };
}
