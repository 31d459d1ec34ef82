/**
 * A byte sink that passes on whole lines up to a number of bytes and leaves out the rest: a text dump of a
 * live ring ends at the ring's capacity, as a bulk dump does (lib/read_path/record_pipeline.ts `maxBytes`).
 * @module
 */
import type { ByteSink } from "./concat.ts";

/** A sink with a byte budget, and what it left out. */
export interface CappedSink {
  sink: ByteSink;
  /** Bytes given to the sink and not passed on. */
  leftOutBytes(): number;
}

/**
 * Passes on at most `maxBytes` bytes, cut after a newline; everything after the first cut is left out.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * let text = "";
 * const capped = cappedSink((c) => Promise.resolve(void (text += new TextDecoder().decode(c))), 6);
 * await capped.sink(new TextEncoder().encode("ab\ncd\nef\n"));
 * await capped.sink(new TextEncoder().encode("g\n"));
 * assertEquals([text, capped.leftOutBytes()], ["ab\ncd\n", 5]);
 * ```
 */
export function cappedSink(sink: ByteSink, maxBytes = Infinity): CappedSink {
  let passed = 0;
  let leftOut = 0;
  return {
    sink: async (chunk) => {
      if (leftOut === 0 && passed + chunk.length <= maxBytes) {
        passed += chunk.length;
        return await sink(chunk);
      }
      const room = maxBytes - passed;
      // Once something was left out, nothing after it is passed on (the output stays a prefix).
      const cut = leftOut === 0 && room > 0 ? chunk.lastIndexOf(0x0a, room - 1) + 1 : 0;
      leftOut += chunk.length - cut;
      passed += cut;
      if (cut > 0) await sink(chunk.subarray(0, cut));
    },
    leftOutBytes: () => leftOut,
  };
}
