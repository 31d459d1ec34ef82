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
