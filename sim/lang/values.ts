/**
 * The values of the SystemTap language in the simulator, and 64-bit integer arithmetic on them.
 *
 * A `long` is a signed 64-bit integer. It is held as a JS `number` while it is a safe integer (|v| < 2^53),
 * which is nearly always and keeps the hot path free of BigInt, and as a `bigint` (already wrapped to int64)
 * outside that range. The representation is canonical (a bigint is never in the safe range), so `===`
 * compares two longs correctly. A `string` is a JS string whose char codes are bytes (0..255): stap strings
 * are C byte strings, so `strlen` counts bytes and output needs no encoder.
 * @module
 */

/** A 64-bit signed integer: a safe-integer number, or a bigint outside the safe range. */
export type Long = number | bigint;
/** A scalar value of the script language. */
export type Scalar = Long | string;

/** stap's MAXSTRINGLEN on 64-bit: strings keep at most 511 bytes. */
export const MAXSTRINGLEN = 512;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO63 = 1n << 63n;

/** Wraps a bigint to int64 and returns the canonical representation. */
export function fromBig(v: bigint): Long {
  let w = v;
  if (w >= TWO63 || w < -TWO63) w = BigInt.asIntN(64, w);
  return w <= 9007199254740991n && w >= -9007199254740991n ? Number(w) : w;
}

/** The bigint of a long. */
export function toBig(v: Long): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

/** The unsigned 64-bit bigint of a long (for %u, %x, %o). */
export function toUnsignedBig(v: Long): bigint {
  return BigInt.asUintN(64, toBig(v));
}

/** A long as a JS number (lossy above 2^53; for counts, sizes and durations). */
export function toNumber(v: Long): number {
  return typeof v === "bigint" ? Number(v) : v;
}

/** `a + b` with int64 wrap-around. */
export function add(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return fromBig(toBig(a) + toBig(b));
}

/** `a - b` with int64 wrap-around. */
export function sub(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return fromBig(toBig(a) - toBig(b));
}

/** `a * b` with int64 wrap-around. */
export function mul(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return fromBig(toBig(a) * toBig(b));
}

/** `a / b` truncating toward zero, or null for a division by zero (the caller raises stap's error). */
export function div(a: Long, b: Long): Long | null {
  if (b === 0) return null;
  if (typeof a === "number" && typeof b === "number") return Math.trunc(a / b) + 0;
  return fromBig(toBig(a) / toBig(b));
}

/** `a % b` with C semantics (sign of the dividend), or null for a division by zero. */
export function mod(a: Long, b: Long): Long | null {
  if (b === 0) return null;
  if (typeof a === "number" && typeof b === "number") return (a % b) + 0;
  return fromBig(toBig(a) % toBig(b));
}

/** Unary minus. */
export function neg(a: Long): Long {
  return typeof a === "number" ? 0 - a : fromBig(-a);
}

function small(a: Long): boolean {
  return typeof a === "number" && a >= -2147483648 && a <= 2147483647;
}

/** Bitwise and. */
export function band(a: Long, b: Long): Long {
  if (small(a) && small(b)) return (a as number) & (b as number);
  return fromBig(toBig(a) & toBig(b));
}

/** Bitwise or. */
export function bor(a: Long, b: Long): Long {
  if (small(a) && small(b)) return (a as number) | (b as number);
  return fromBig(toBig(a) | toBig(b));
}

/** Bitwise exclusive or. */
export function bxor(a: Long, b: Long): Long {
  if (small(a) && small(b)) return (a as number) ^ (b as number);
  return fromBig(toBig(a) ^ toBig(b));
}

/** Bitwise not. */
export function bnot(a: Long): Long {
  if (small(a)) return ~(a as number);
  return fromBig(~toBig(a));
}

/** `a << b`; like the C the translator emits, shift counts are taken modulo 64. */
export function shl(a: Long, b: Long): Long {
  const n = BigInt(toNumber(b) & 63);
  return fromBig(toBig(a) << n);
}

/** `a >> b`, arithmetic (sign-extending). */
export function shr(a: Long, b: Long): Long {
  const n = toNumber(b) & 63;
  if (typeof a === "number" && small(a)) return a >> n;
  return fromBig(toBig(a) >> BigInt(n));
}

/** `a >>> b`, logical (zero-filling, on the unsigned 64-bit pattern). */
export function ushr(a: Long, b: Long): Long {
  const n = BigInt(toNumber(b) & 63);
  return fromBig(BigInt.asUintN(64, toBig(a)) >> n);
}

/** Truncates a string to stap's MAXSTRINGLEN - 1 bytes. */
export function clampString(s: string): string {
  return s.length < MAXSTRINGLEN ? s : s.slice(0, MAXSTRINGLEN - 1);
}

/** Decimal text of a long, as `%d` prints it. */
export function longToString(v: Long): string {
  return typeof v === "number" ? String(v) : v.toString();
}

/**
 * Converts a JS (UTF-16) string to the byte string the simulator uses: UTF-8 bytes as char codes 0..255.
 * Pure ASCII is returned unchanged.
 */
export function toByteString(s: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  const bytes = new TextEncoder().encode(s);
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}
