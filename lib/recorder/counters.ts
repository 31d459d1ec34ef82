/**
 * stapfr's counters tapset: the two numbers a memory recorder's reader needs while the module runs, which
 * SystemTap 4.8 keeps but shows only at unload (docs/loss-accounting.md "The counters file").
 *
 * - `transport_failures`: records the module could not reserve at all (`_stp_transport_failures`,
 *   runtime/print_flush.c). They take no sequence number, so no gap in the sequence shows them.
 * - `sequence`: the last sequence number handed out (`_stp_seq.seq`, runtime/linux/runtime.h), shared by all
 *   CPUs; the next record gets `sequence + 1`.
 *
 * The tapset's functions read them with embedded C, which a tapset may hold without guru mode; a procfs read
 * probe added with `-E` serves them as `/proc/systemtap/MODULE/stapfr_counters`:
 *
 * ```
 * transport_failures 1
 * sequence 405
 * ```
 *
 * Proved on SystemTap 4.8 and Debian's 6.1 kernel in the kernel lab (docs/loss-accounting.md). The simulator
 * cannot run embedded C: its `stap` recognises this tapset and answers its functions natively
 * (sim/README "stapfr's counters tapset").
 * @module
 */
import { join } from "../path.ts";

/** The tapset file's name in the directory given to stap with `-I`. */
export const COUNTERS_TAPSET_FILE = "stapfr_counters.stp";

/** The procfs file the probe serves, in the module's `/proc/systemtap/MODULE/` directory. */
export const COUNTERS_FILE = "stapfr_counters";

/**
 * The tapset. The sequence counter is an `atomic_t` (a signed int) whose value the record header carries as a
 * `uint32`, so it is read as unsigned. `/* pure *\/` lets stap drop a call whose result is unused.
 */
export const COUNTERS_TAPSET =
  `// stapfr's counters tapset (stapfr lib/recorder/counters.ts; docs/loss-accounting.md).
// SystemTap 4.8 counts the records it could not reserve and numbers every record it writes, but says the
// first only at unload. A tapset may hold embedded C without guru mode.

function stapfr_transport_failures:long () %{ /* pure */
	STAP_RETVALUE = (int64_t) atomic_read(&_stp_transport_failures);
%}

function stapfr_sequence:long () %{ /* pure */
	STAP_RETVALUE = (int64_t) (uint32_t) atomic_read(&_stp_seq.seq);
%}

function stapfr_counters:string () {
	return sprintf("transport_failures %d\\nsequence %d\\n", stapfr_transport_failures(), stapfr_sequence())
}
`;

/** The probe that serves the counters file, for stap's `-E`. */
export const COUNTERS_PROBE = `probe procfs("${COUNTERS_FILE}").read { $value = stapfr_counters() }`;

/** What the counters file says. */
export interface Counters {
  /** Records the module could not reserve (no sequence number), since it was loaded. */
  transportFailures: number;
  /** The last sequence number handed out (0 before the first record). */
  sequence: number;
}

/**
 * The stap arguments that add the counters to a module: `-I DIR` (where {@linkcode writeCountersTapset} wrote
 * the tapset) and `-E PROBE`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(countersStapArgs("/tmp/t"), [
 *   "-I", "/tmp/t", "-E", 'probe procfs("stapfr_counters").read { $value = stapfr_counters() }',
 * ]);
 * ```
 */
export function countersStapArgs(tapsetDir: string): string[] {
  return ["-I", tapsetDir, "-E", COUNTERS_PROBE];
}

/** Writes the tapset into `dir` (which must exist) and returns the file's path. */
export async function writeCountersTapset(dir: string): Promise<string> {
  const path = join(dir, COUNTERS_TAPSET_FILE);
  await Deno.writeTextFile(path, COUNTERS_TAPSET, { mode: 0o644 });
  return path;
}

/** `PROC/systemtap/MODULE/stapfr_counters` (`PROC` is `/proc`, or the simulator's `ROOT/proc`). */
export function countersPath(procRoot: string, module: string): string {
  return join(procRoot, "systemtap", module, COUNTERS_FILE);
}

/**
 * Parses the counters file; throws on anything else (a module built without the tapset has no such file, which
 * the caller sees as NotFound when it reads).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseCounters("transport_failures 1\nsequence 405\n"), { transportFailures: 1, sequence: 405 });
 * ```
 */
export function parseCounters(text: string): Counters {
  const m = /^transport_failures (\d+)\nsequence (\d+)\n$/.exec(text);
  if (!m) throw new Error(`Not a counters file: ${JSON.stringify(text.slice(0, 200))}`);
  return { transportFailures: Number(m[1]), sequence: Number(m[2]) };
}

/** Reads and parses a running module's counters file. */
export async function readCounters(procRoot: string, module: string): Promise<Counters> {
  return parseCounters(await Deno.readTextFile(countersPath(procRoot, module)));
}
