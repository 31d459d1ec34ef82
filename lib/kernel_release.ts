/**
 * The running kernel's release (`uname -r`) on each host. The simulator's kernel has a fixed release of its
 * own, `6.1.0-sim`, which `STAPFR_SIM_RELEASE` overrides: the simulated `stap -p4` writes it into a module's
 * vermagic by default and the simulated `staprun` refuses modules built for another one, as a real kernel does,
 * so that a module built for the wrong kernel can be shown refused without a second kernel.
 * @module
 */
import { KNOBS, type Knobs, readKnob } from "./knobs.ts";

/** The simulated kernel's release when `STAPFR_SIM_RELEASE` is not set. */
export const SIM_RELEASE = "6.1.0-sim";

/**
 * The simulated kernel's release for an environment.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(simRelease(() => undefined), "6.1.0-sim");
 * assertEquals(simRelease((n) => n === "STAPFR_SIM_RELEASE" ? "6.12.0-sim" : undefined), "6.12.0-sim");
 * ```
 */
export function simRelease(env: (name: string) => string | undefined = (name) => Deno.env.get(name)): string {
  return readKnob(env, KNOBS.simRelease)?.trim() || SIM_RELEASE;
}

/** {@linkcode runningRelease} for knobs already read (the engine's: they win over the environment). */
export function releaseOf(kind: "real" | "sim", knobs: Pick<Knobs, "simRelease">): string {
  return kind === "sim" ? knobs.simRelease?.trim() || SIM_RELEASE : Deno.osRelease();
}

/**
 * The release of the kernel a host runs: `uname -r` on a real host, {@linkcode simRelease} on the simulator.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(runningRelease("sim", () => undefined), SIM_RELEASE);
 * ```
 */
export function runningRelease(
  kind: "real" | "sim",
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  return kind === "sim" ? simRelease(env) : Deno.osRelease();
}
