/**
 * Where a read's bytes go, with its state in one place: `open` while the consumer takes them, `closed` once it
 * closed its end (`dump | head`: not an error, the rest is read and dropped so that the reader can detach in
 * order), `failed` when a write failed otherwise (a full disk: reported once the reader has detached). Bytes
 * are counted here, once, as the consumer received them.
 * @module
 */
import type { ByteSink } from "./concat.ts";

/** The state of an {@linkcode Output}. */
export type OutputState = "open" | "closed" | "failed";

/**
 * A sink that never throws: its state says what became of the writes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const out = new Output(() => Promise.reject(new Deno.errors.BrokenPipe("gone")));
 * await out.write(new Uint8Array([1, 2, 3]));
 * assertEquals([out.state, out.bytes, out.dropped], ["closed", 0, 3]);
 * ```
 */
export class Output {
  #sink: ByteSink;
  state: OutputState = "open";
  /** The failure, when `state` is `failed`. */
  error: Error | undefined;
  /** Bytes the consumer took. */
  bytes = 0;
  /** Bytes that came after it closed or failed (read, and dropped). */
  dropped = 0;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Passes `chunk` on while the output is open; counts it as dropped otherwise. */
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    if (this.state !== "open") {
      this.dropped += chunk.length;
      return;
    }
    try {
      await this.#sink(chunk);
      this.bytes += chunk.length;
    } catch (err) {
      this.dropped += chunk.length;
      if (err instanceof Deno.errors.BrokenPipe) this.state = "closed";
      else {
        this.state = "failed";
        this.error = err instanceof Error ? err : new Error(String(err));
      }
    }
  }

  /** Whether writes still reach the consumer. */
  get open(): boolean {
    return this.state === "open";
  }
}
