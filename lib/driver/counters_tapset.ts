/**
 * stapfr's tapset: two functions whose embedded C reads the counters of SystemTap's runtime, and the probe that
 * serves them as `/proc/systemtap/MODULE/stapfr_counters` (lib/driver/counters.ts). Embedded C is allowed in
 * a tapset without guru mode (`-g`), so a script needs no special privilege for it. Every module stapfr starts
 * from a script or builds gets it: the tapset through `-I DIR` (written by {@linkcode writeCountersTapset}),
 * the probe through `-E`. The names are in stapfr's own namespace so that they cannot meet a script's.
 * See docs/loss-accounting.md "Records without a number".
 * @module
 */
import { join } from "../path.ts";
import { COUNTERS_FILE } from "./counters.ts";

/**
 * The tapset's text, as proved on SystemTap 4.8 and Debian's 6.1 kernel in the kernel lab (docs/loss-accounting.md
 * "The counters file"). The sequence counter is an `atomic_t` (a signed int) whose value the record header
 * carries as a `uint32`, so it is read as unsigned. `/* pure *\/` lets stap drop a call whose result is unused.
 */
export const COUNTERS_TAPSET =
  `// stapfr's counters tapset (stapfr lib/driver/counters_tapset.ts; docs/loss-accounting.md).
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

/** The probe added with `-E`: the counters file, read on demand (it prints nothing into the ring). */
export const COUNTERS_PROBE = `probe procfs("${COUNTERS_FILE}").read { $value = stapfr_counters() }`;

/** The tapset file's name in the directory given to stap with `-I`. */
export const COUNTERS_TAPSET_FILE = "stapfr_counters.stp";

/**
 * Writes the tapset into `dir/stapfr_tapset/` (made here) and returns the stap arguments that add it to a
 * script: `-I DIR -E PROBE`.
 */
export async function writeCountersTapset(dir: string): Promise<string[]> {
  const tapsetDir = join(dir, "stapfr_tapset");
  await Deno.mkdir(tapsetDir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(tapsetDir, COUNTERS_TAPSET_FILE), COUNTERS_TAPSET, { mode: 0o600 });
  return ["-I", tapsetDir, "-E", COUNTERS_PROBE];
}
