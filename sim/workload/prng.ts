/**
 * The workload's random source: xoshiro128** (32-bit state words, fast without BigInt), seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Deterministic for a seed; never Math.random().
 * @module
 */

/** A small, fast, seeded pseudo-random generator. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * An exponentially distributed value with the given mean: the inverse CDF -ln(1-u) from a table with linear
   * interpolation (4096 steps; the last step, the tail, computed exactly), several times cheaper than Math.log.
   */
  exponential(mean: number): number {
    const x = this.next() * EXP_STEPS;
    const i = x | 0;
    if (i >= EXP_STEPS - 1) return -Math.log(1 - x / EXP_STEPS) * mean;
    const a = EXP_TABLE[i];
    return (a + (EXP_TABLE[i + 1] - a) * (x - i)) * mean;
  }
}

const EXP_STEPS = 4096;
const EXP_TABLE = new Float64Array(EXP_STEPS);
for (let i = 0; i < EXP_STEPS; i++) EXP_TABLE[i] = -Math.log(1 - i / EXP_STEPS);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
