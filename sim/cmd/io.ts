/**
 * Ordered output for the stand-in commands: text and bytes written in the order given, without blocking the
 * event loop (signals must keep arriving while a slow reader holds stdout), with a failure kept and reported
 * on the next write, as a failed `write(2)` would be.
 * @module
 */
import type { Writer } from "../../lib/cli/context.ts";
import type { OutputHandle } from "../stapio/output_fs.ts";

const encoder = new TextEncoder();

/** Writes to one stream in order. */
export class OrderedSink {
  readonly #w: Writer;
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;
  /** Bytes queued and not yet written. */
  #pending = 0;
  /**
   * Called once, when the first write fails: a caller that may write nothing more still learns of it (stapio's
   * reader fails on the write itself, not on the next one).
   */
  onFailure?: (err: unknown) => void;

  constructor(writer: Writer) {
    this.#w = writer;
  }

  /** The first write error, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Queues bytes; throws the error of an earlier write if one failed. */
  bytes(data: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    const copy = data.slice();
    this.#pending += copy.length;
    this.#chain = this.#chain.then(async () => {
      try {
        if (this.#failure !== undefined) return;
        let done = 0;
        while (done < copy.length) done += await this.#w.write(copy.subarray(done));
      } catch (err) {
        this.#failure = err;
        this.onFailure?.(err);
      } finally {
        this.#pending -= copy.length;
      }
    });
  }

  /** Bytes queued and not yet written. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Resolves once at most `limit` bytes wait: a reader calls it before reading more, so a slow consumer of
   * stdout slows stapio down (and the module's rings fill) instead of this queue growing without bound.
   */
  async whenBelow(limit: number): Promise<void> {
    while (this.#pending > limit && this.#failure === undefined) await this.#chain;
  }

  /** Queues text. */
  text(text: string): void {
    try {
      this.bytes(encoder.encode(text));
    } catch {
      // diagnostics to a closed stream go nowhere
    }
  }

  /** Waits until everything queued is written (or failed). */
  flush(): Promise<void> {
    return this.#chain;
  }
}

/** Stdout as stapio's output handle (descriptor 1). */
export function stdoutHandle(sink: OrderedSink): OutputHandle {
  return {
    fd: 1,
    write: (bytes) => sink.bytes(bytes),
    close: () => {},
  };
}
