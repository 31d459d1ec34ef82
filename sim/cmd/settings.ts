/**
 * The simulator's knobs as the stand-in commands read them from the environment (docs/architecture.md):
 * `STAPFR_SIM_ROOT`, `STAPFR_SIM_CPUS` (default 2), `STAPFR_SIM_RATE` (workload events per second, default
 * 100), `STAPFR_SIM_SEED` (default 1), plus two of the user side:
 *
 * - `STAPFR_SIM_SEQ_WAIT_MS`: the 4.8 reader's sequence wait (docs/systemtap-4.8.md 2.3, 5.4). Unset or `4.8`: the real
 *   rule, 1–2 s at each gap and after each attach; a number: that many milliseconds (0: none). The default is
 *   the real one, so a wrapper meets the stall it will meet on a real host; tests set it low.
 * - `STAPFR_SIM_LOSE_SIGNALS=1`: reproduce the 4.8 `-A` signal-loss bug (docs/systemtap-4.8.md 2.5): the first SIGINT,
 *   SIGTERM or SIGHUP to an attached stapio is dropped, so that a wrapper's resend logic can be tested.
 * - `STAPFR_SIM_DISK_BYTES=N`: a fault, the simulated disk is full after each stapio has written N bytes to
 *   its output files: the next write fails with "No space left on device", as on a full file system.
 * @module
 */
import { simRoot } from "../../lib/sim_root.ts";
import { parseStallRule, type StallRule } from "../stapio/merge.ts";

/** The knobs, parsed. */
export interface SimSettings {
  root: string;
  cpus: number;
  rate: number;
  seed: number;
  stall: StallRule;
  loseSignals: boolean;
  /** Bytes each stapio may write to its output files before the disk is full (undefined: no limit). */
  diskBytes?: number;
}

function positiveNumber(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new RangeError(`Invalid ${what} "${text}": expected a positive number`);
  }
  return n;
}

/**
 * Reads the knobs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const env = (n: string) => ({ STAPFR_SIM_ROOT: "/r", STAPFR_SIM_RATE: "5000" } as Record<string, string>)[n];
 * const s = simSettings(env);
 * assertEquals([s.root, s.cpus, s.rate, s.stall], ["/r", 2, 5000, "4.8"]);
 * ```
 */
export function simSettings(env: (name: string) => string | undefined): SimSettings {
  const cpus = positiveNumber(env("STAPFR_SIM_CPUS"), 2, "CPU count");
  if (!Number.isInteger(cpus) || cpus > 1024) {
    throw new RangeError(
      `Invalid CPU count "${env("STAPFR_SIM_CPUS")}": expected a whole number from 1 to 1024`,
    );
  }
  return {
    root: simRoot(env),
    cpus,
    rate: positiveNumber(env("STAPFR_SIM_RATE"), 100, "rate"),
    seed: Math.trunc(positiveNumber(env("STAPFR_SIM_SEED"), 1, "seed")),
    stall: parseStallRule(env("STAPFR_SIM_SEQ_WAIT_MS")),
    loseSignals: env("STAPFR_SIM_LOSE_SIGNALS") === "1",
    diskBytes: env("STAPFR_SIM_DISK_BYTES") ? diskBytes(env("STAPFR_SIM_DISK_BYTES")!) : undefined,
  };
}

function diskBytes(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Invalid STAPFR_SIM_DISK_BYTES "${text}": expected a whole number of bytes`);
  }
  return n;
}
