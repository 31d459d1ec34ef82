/**
 * The simulator's knobs as the stand-in commands read them from the environment (docs/architecture.md):
 * `STAPFR_SIM_ROOT`, `STAPFR_SIM_CPUS` (default 2), `STAPFR_SIM_RATE` (workload events per second, default
 * 100), `STAPFR_SIM_SEED` (default 1), plus two of the user side:
 *
 * - `STAPFR_SIM_SEQ_WAIT_MS`: the 4.8 reader's sequence wait (docs/systemtap-4.8.md 2.3, 5.4). Unset or `4.8`: the real
 *   rule, 1–2 s at each gap and after each attach; a number: that many milliseconds (0: none). The default is
 *   the real one, so a wrapper meets the stall it will meet on a real host; tests set it low.
 * - `STAPFR_SIM_LOSE_SIGNALS`: reproduce the 4.8 `-A` signal race (docs/systemtap-4.8.md 2.5, docs/real-ring.md):
 *   a whole number N drops the first N signals (SIGQUIT, SIGINT, SIGTERM, SIGHUP) to an attached stapio; a
 *   fraction between 0 and 1 drops each with that probability, drawn from `STAPFR_SIM_SEED`. Default 0.
 * - `STAPFR_SIM_RING_DAMAGE` (default 1): the relay hands its reader what a real 4.8 ring does
 *   (docs/real-ring.md): a stale, torn fragment after a wrap, records cut short when the reader falls behind;
 *   0 gives the clean ring.
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
  loseSignals: LoseSignals;
  ringDamage: boolean;
}

/** Which signals to an attached stapio are lost: the first `count`, or each with `probability` (seeded). */
export interface LoseSignals {
  count: number;
  probability: number;
  seed: number;
}

function loseSignals(text: string | undefined, seed: number): LoseSignals {
  const none = { count: 0, probability: 0, seed };
  if (text === undefined || text === "") return none;
  const n = Number(text);
  if (/^\d+$/.test(text)) return { ...none, count: n };
  if (/^0?\.\d+$/.test(text) && n > 0 && n < 1) return { ...none, probability: n };
  throw new RangeError(
    `Invalid STAPFR_SIM_LOSE_SIGNALS "${text}": expected a whole number or a probability between 0 and 1`,
  );
}

function flag(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined || text === "") return fallback;
  if (text === "0" || text === "1") return text === "1";
  throw new RangeError(`Invalid ${name} "${text}": expected 0 or 1`);
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
  const seed = Math.trunc(positiveNumber(env("STAPFR_SIM_SEED"), 1, "seed"));
  return {
    root: simRoot(env),
    cpus,
    rate: positiveNumber(env("STAPFR_SIM_RATE"), 100, "rate"),
    seed,
    stall: parseStallRule(env("STAPFR_SIM_SEQ_WAIT_MS")),
    loseSignals: loseSignals(env("STAPFR_SIM_LOSE_SIGNALS"), seed),
    ringDamage: flag("STAPFR_SIM_RING_DAMAGE", env("STAPFR_SIM_RING_DAMAGE"), true),
  };
}
