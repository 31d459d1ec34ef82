/**
 * Where the simulator keeps its simulated `/proc`: `STAPFR_SIM_ROOT`, or `${TMPDIR:-/tmp}/stapfr-sim-<uid>`.
 * The simulator's other knobs are in `lib/knobs.ts`.
 * @module
 */
import { type EnvLookup, KNOBS, readKnob } from "./knobs.ts";

/** The simulator's root directory for an environment. */
export function simRoot(env: EnvLookup = (name) => Deno.env.get(name)): string {
  return readKnob(env, KNOBS.simRoot) || fallbackSimRoot(env);
}

/** The root when `STAPFR_SIM_ROOT` is not set: `${TMPDIR:-/tmp}/stapfr-sim-<uid>`. */
export function fallbackSimRoot(env: EnvLookup = (name) => Deno.env.get(name)): string {
  const tmp = (env("TMPDIR") || "/tmp").replace(/\/+$/, "") || "/";
  return `${tmp}/stapfr-sim-${Deno.uid() ?? "user"}`;
}
