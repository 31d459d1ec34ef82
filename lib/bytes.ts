/**
 * Small byte helpers shared by the engine and the simulator.
 * @module
 */

/**
 * `a` then `b` in one array (either one itself when the other is empty: no copy).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The parts in one array, in order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(joinBytes([new Uint8Array([1]), new Uint8Array([]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
