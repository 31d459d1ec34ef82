/**
 * A read as a web stream: {@linkcode RecorderStream} hands a read's bytes out as a `ReadableStream<Uint8Array>`
 * (so `pipeTo`, `pipeThrough(new TextDecoderStream())` and `for await` work as anywhere), with the read's result
 * beside it. The stream pulls: the read waits while the stream's queue is full, so a slow consumer slows the
 * read (and, through stapio, the recorder's reader) instead of piling chunks up in memory.
 * @module
 */
import type { ByteSink } from "../read_path/concat.ts";

/** The default queue of a {@linkcode RecorderStream}: 1 MiB, one batch of the read pipeline. */
export const STREAM_QUEUE_BYTES = 1 << 20;

/**
 * One read (a dump, an attach, a tail, a snapshot's data) as a stream and a result.
 *
 * - `readable` gives the bytes; each chunk is the caller's own. It closes when the read ends well, and errors
 *   with the read's error, or with `signal.reason` when the read's `signal` aborts.
 * - `result` settles once the read has ended (a reader has detached): with what the read did, or its error.
 * - Cancelling `readable` (`reader.cancel()`, leaving a `for await` early), calling {@linkcode cancel}, or
 *   disposing the stream (`await using`) ends the read as a consumer that went away does (`dump | head`): the
 *   reader detaches, the recorder keeps recording, and `result` resolves with `closed: true` where the result
 *   says so.
 *
 * @example Read a snapshot's data as text, line by line
 * ```ts ignore
 * await using data = recorders.snapshotDataStream("io/20261201T051200Z-001");
 * for await (const text of data.readable.pipeThrough(new TextDecoderStream())) console.log(text);
 * ```
 */
export class RecorderStream<R> implements AsyncDisposable {
  /** The read's bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** What the read did, once it has ended. */
  readonly result: Promise<R>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #stop = new AbortController();
  /** No more chunks go in (the consumer went away, or the read ended). */
  #ended = false;
  /** The stream was cancelled by its consumer: it takes no more calls. */
  #cancelled = false;
  #wake: (() => void) | undefined;

  /**
   * Starts `run` with a sink that feeds {@linkcode readable}; `run` ends the read when `stop` aborts (the
   * consumer cancelled). `queueBytes` bounds what waits in the stream for the consumer.
   */
  constructor(
    run: (sink: ByteSink, stop: AbortSignal) => Promise<R>,
    queueBytes: number = STREAM_QUEUE_BYTES,
  ) {
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#release(),
      cancel: () => {
        this.#cancelled = true;
        this.#end();
        this.#stop.abort();
      },
    }, { highWaterMark: queueBytes, size: (chunk) => chunk.byteLength });
    const sink: ByteSink = async (chunk) => {
      if (this.#ended) throw new Deno.errors.BrokenPipe("The stream's consumer cancelled it");
      this.#controller.enqueue(chunk.slice());
      while (!this.#ended && (this.#controller.desiredSize ?? 1) <= 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    };
    this.result = run(sink, this.#stop.signal).then(
      (result) => {
        this.#end();
        if (!this.#cancelled) this.#controller.close();
        return result;
      },
      (err) => {
        this.#end();
        if (!this.#cancelled) this.#controller.error(err);
        throw err;
      },
    );
    // Seen here, so that a caller who only reads `readable` (which carries the error) has no unhandled rejection.
    this.result.catch(() => {});
  }

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** No more chunks go into the stream; a write waiting for room gives up. */
  #end(): void {
    this.#ended = true;
    this.#release();
  }

  /** Ends the read as a consumer that went away does (the reader detaches); resolves with its result. */
  async cancel(): Promise<R> {
    // The read ends; once it has, the stream closes (a reader still holding it sees its end).
    this.#end();
    this.#stop.abort();
    return await this.result;
  }

  /**
   * Ends the read (as {@linkcode cancel}) and waits until the reader has detached. The read's own error is not
   * thrown here: it is the stream's and the result's.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.cancel().catch(() => {});
  }
}
