/**
 * The simulated `lsmod`: the modules of `ROOT/proc/modules` in lsmod's format (`%-19s %8u  %d`). A module
 * whose host process is gone is flagged ` [dead host]` (only `staprun -d` clears it).
 * @module
 */
import { listModules, type LoadedModule } from "../module_host/host.ts";

/** The header line of lsmod. */
export const LSMOD_HEADER = "Module                  Size  Used by";

/**
 * Formats modules as lsmod prints them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const text = formatLsmod([{ name: "stap_fr_x", size: 106496, refcount: 0, state: "live", pid: 1 }]);
 * assertEquals(text, "Module                  Size  Used by\nstap_fr_x             106496  0\n");
 * ```
 */
export function formatLsmod(modules: LoadedModule[]): string {
  const rows = modules.map((m) =>
    `${m.name.padEnd(19)} ${String(m.size).padStart(8)}  ${m.refcount}${
      m.state === "dead" ? " [dead host]" : ""
    }`
  );
  return [LSMOD_HEADER, ...rows].join("\n") + "\n";
}

/** `lsmod`: prints the simulated modules; returns the exit status. */
export async function lsmodMain(root: string, out: (text: string) => Promise<void>): Promise<number> {
  await out(formatLsmod(await listModules(root)));
  return 0;
}
