/**
 * Where the simulator keeps its simulated `/proc`: `STAPFR_SIM_ROOT`, or `${TMPDIR:-/tmp}/stapfr-sim-<uid>`.
 * @module
 */

/** The simulator's root directory for an environment. */
export function simRoot(env: (name: string) => string | undefined = (name) => Deno.env.get(name)): string {
  const explicit = env("STAPFR_SIM_ROOT");
  if (explicit) return explicit;
  const tmp = (env("TMPDIR") || "/tmp").replace(/\/+$/, "") || "/";
  return `${tmp}/stapfr-sim-${Deno.uid() ?? "user"}`;
}

/** The simulator's knobs from the environment. */
export interface SimKnobs {
  /** `STAPFR_SIM_CPUS`, default 2. */
  cpus: number;
  /** `STAPFR_SIM_RATE`: workload events per second, default 100. */
  rate: number;
  /** `STAPFR_SIM_SEED`, default 1. */
  seed: number;
}

/** Reads `STAPFR_SIM_CPUS`, `STAPFR_SIM_RATE` and `STAPFR_SIM_SEED`; throws a RangeError on a bad value. */
export function simKnobs(env: (name: string) => string | undefined = (name) => Deno.env.get(name)): SimKnobs {
  const read = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env(name);
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new RangeError(`Invalid ${name} "${raw}": expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  return {
    cpus: read("STAPFR_SIM_CPUS", 2, 1, 1024),
    rate: read("STAPFR_SIM_RATE", 100, 0, 10_000_000),
    seed: read("STAPFR_SIM_SEED", 1, 0, 0xffffffff),
  };
}
