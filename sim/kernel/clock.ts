/**
 * Time for the simulated module: virtual nanoseconds since the module was loaded (see `sim/kernel/program.ts`).
 * The in-process simulator advances a {@linkcode VirtualClock} by hand; the module host process maps real
 * elapsed time onto it with {@linkcode realClock}. Nothing else in `sim/` reads the wall clock.
 * @module
 */

/** A source of virtual time. */
export interface Clock {
  /** Nanoseconds since the module was loaded. */
  nowNs(): number;
}

/** A clock that only moves when told to: deterministic tests and capacity planning. */
export class VirtualClock implements Clock {
  #now = 0;

  /** Nanoseconds since the start. */
  nowNs(): number {
    return this.#now;
  }

  /** Moves time forward to `ns`; time never goes backwards. */
  advanceTo(ns: number): number {
    if (ns > this.#now) this.#now = ns;
    return this.#now;
  }

  /** Moves time forward by `ns`. */
  advanceBy(ns: number): number {
    return this.advanceTo(this.#now + ns);
  }
}

/** A clock on real elapsed time since it was made (monotonic: `performance.now()`). */
export function realClock(): Clock {
  const start = performance.now();
  return { nowNs: () => Math.round((performance.now() - start) * 1e6) };
}
