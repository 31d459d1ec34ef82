/**
 * The module's own counters, while it runs: `/proc/systemtap/MODULE/stapfr_counters`, which stapfr's tapset
 * adds to every module it starts or builds (lib/driver/counters_tapset.ts). SystemTap 4.8 counts the records it
 * could not reserve (`_stp_transport_failures`: they get no sequence number, so no gap shows them) and says so
 * only at unload; reading the counter before and after a read tells how many a read lost that way
 * (docs/loss-accounting.md "Records without a number").
 * @module
 */
import { join } from "../path.ts";
import { controlDir, readProcText } from "./kernel.ts";

/** The procfs file the tapset's probe serves, in the module's control directory. */
export const COUNTERS_FILE = "stapfr_counters";

/** What the module counted so far. */
export interface ModuleCounters {
  /** Records it could not reserve (dropped whole, or cut short), since it was loaded. */
  transport_failures: number;
  /** The last sequence number it gave a record (modulo 2^32). */
  sequence: number;
}

/**
 * Parses the file's text (`transport_failures N` and `sequence N`, one per line); undefined when it lacks one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseCounters("transport_failures 7\nsequence 53269\n"), { transport_failures: 7, sequence: 53269 });
 * assertEquals(parseCounters("garbage"), undefined);
 * ```
 */
export function parseCounters(text: string): ModuleCounters | undefined {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\s+(-?\d+)\s*$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  const failures = values.get("transport_failures");
  const sequence = values.get("sequence");
  if (failures === undefined || sequence === undefined) return undefined;
  return { transport_failures: failures, sequence: sequence >>> 0 };
}

/** The module's counters, or undefined when it has no counters file (not built by stapfr, or gone). */
export async function readCounters(procRoot: string, module: string): Promise<ModuleCounters | undefined> {
  const text = await readProcText(join(controlDir(procRoot, module), COUNTERS_FILE)).catch(() => undefined);
  return text === undefined ? undefined : parseCounters(text);
}
