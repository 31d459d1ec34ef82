/**
 * Where the simulator keeps its simulated `/proc`: `STAPFR_SIM_ROOT`, or `${TMPDIR:-/tmp}/stapfr-sim-<uid>`.
 * The simulator's other knobs are in `lib/knobs.ts`.
 * @module
 */
import { type EnvLookup, KNOBS, readKnob } from "./knobs.ts";

/** The simulator's root directory for an environment. */
export function simRoot(env: EnvLookup = (name) => Deno.env.get(name)): string {
  const explicit = readKnob(env, KNOBS.simRoot);
  if (explicit) return explicit;
  const tmp = (env("TMPDIR") || "/tmp").replace(/\/+$/, "") || "/";
  return `${tmp}/stapfr-sim-${Deno.uid() ?? "user"}`;
}
