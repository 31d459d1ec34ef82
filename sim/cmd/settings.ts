/**
 * The simulator's knobs as the stand-in commands use them, from the one table of `lib/knobs.ts` (whose README
 * section documents each): `STAPFR_SIM_ROOT`, `STAPFR_SIM_CPUS`, `STAPFR_SIM_RATE`, `STAPFR_SIM_SEED`, plus
 * two of the user side:
 *
 * - `STAPFR_SIM_SEQ_WAIT_MS`: the 4.8 reader's sequence wait (docs/systemtap-4.8.md 2.3, 5.4). Unset or `4.8`: the real
 *   rule, 1–2 s at each gap and after each attach; a number: that many milliseconds (0: none). The default is
 *   the real one, so a wrapper meets the stall it will meet on a real host; tests set it low.
 * - `STAPFR_SIM_LOSE_SIGNALS`: reproduce the 4.8 `-A` signal race (docs/systemtap-4.8.md 2.5): `busy` loses a
 *   signal to an attached stapio whenever one of its readers is busy, as 4.8 does; a whole number N drops the
 *   first N signals (SIGQUIT, SIGINT, SIGTERM, SIGHUP); a fraction between 0 and 1 drops each with that
 *   probability, drawn from `STAPFR_SIM_SEED`. Default 0.
 * - `STAPFR_SIM_RING_DAMAGE` (default 1): the 4.8 ring and its losses (sim/kernel/relay.ts, docs/loss-accounting.md
 *   "Where records are lost"); 0 gives the clean ring of SystemTap 5.1 and later.
 * - `STAPFR_SIM_DISK_BYTES=N`: a fault, the simulated disk is full after each stapio has written N bytes to
 *   its output files: the next write fails with "No space left on device", as on a full file system.
 *
 * A new simulator knob is a row in `KNOBS` and a field here.
 * @module
 */
import { type EnvLookup, readKnobs } from "../../lib/knobs.ts";
import { simRoot } from "../../lib/sim_root.ts";
import type { StallRule } from "../stapio/merge.ts";

/** The knobs, parsed. */
export interface SimSettings {
  root: string;
  cpus: number;
  rate: number;
  seed: number;
  stall: StallRule;
  loseSignals: LoseSignals;
  ringDamage: boolean;
  /** Bytes each stapio may write to its output files before the disk is full (undefined: no limit). */
  diskBytes?: number;
}

/**
 * Which signals to an attached stapio are lost: those that come while a reader is busy (`busy`), the first
 * `count`, or each with `probability` (seeded).
 */
export interface LoseSignals {
  count: number;
  probability: number;
  seed: number;
  busy: boolean;
}

/**
 * Reads the knobs; throws `KnobError` (a usage error naming the variable) on a bad value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const env = (n: string) => ({ STAPFR_SIM_ROOT: "/r", STAPFR_SIM_RATE: "5000" } as Record<string, string>)[n];
 * const s = simSettings(env);
 * assertEquals([s.root, s.cpus, s.rate, s.stall], ["/r", 2, 5000, "4.8"]);
 * ```
 */
export function simSettings(env: EnvLookup): SimSettings {
  const knobs = readKnobs(env);
  return {
    root: simRoot(env),
    cpus: knobs.simCpus,
    rate: knobs.simRate,
    seed: knobs.simSeed,
    stall: knobs.simSeqWaitMs,
    loseSignals: { ...knobs.simLoseSignals, seed: knobs.simSeed },
    ringDamage: knobs.simRingDamage,
    diskBytes: knobs.simDiskBytes,
  };
}
