/**
 * Stream helpers that `@std/streams` would provide (JSR is unreachable here).
 * @module
 */

/** Splits a stream of text into lines (without their "\n"; a trailing "\r" is kept). */
export class LineSplitStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const line of parts) controller.enqueue(line);
      },
      flush(controller) {
        if (rest !== "") controller.enqueue(rest);
      },
    });
  }
}

/** Lines of a byte stream, decoded as UTF-8 (a character split across chunks stays intact). */
export function lines(stream: ReadableStream<Uint8Array>): ReadableStream<string> {
  return stream.pipeThrough(new TextDecoderStream()).pipeThrough(new LineSplitStream());
}
