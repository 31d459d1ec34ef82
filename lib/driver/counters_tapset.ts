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

/** The tapset file's text (SystemTap 4.8's runtime: linux/runtime.h). */
export const COUNTERS_TAPSET =
  `// stapfr: the runtime's counters, for stapfr's loss accounting (docs/loss-accounting.md).
function stapfr_transport_failures:long () %{ /* pure */ /* unprivileged */
  STAP_RETVALUE = atomic_read(&_stp_transport_failures);
%}

function stapfr_sequence:long () %{ /* pure */ /* unprivileged */
  STAP_RETVALUE = (unsigned int) atomic_read(&_stp_seq.seq);
%}
`;

/** The probe added with `-E`: the counters file, read on demand (it prints nothing into the ring). */
export const COUNTERS_PROBE = `probe procfs("${COUNTERS_FILE}").read {
  $value = sprintf("transport_failures %d\\nsequence %d\\n", stapfr_transport_failures(), stapfr_sequence())
}`;

/**
 * Writes the tapset into `dir/stapfr_tapset/` (made here) and returns the stap arguments that add it to a
 * script: `-I DIR -E PROBE`.
 */
export async function writeCountersTapset(dir: string): Promise<string[]> {
  const tapsetDir = join(dir, "stapfr_tapset");
  await Deno.mkdir(tapsetDir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(tapsetDir, "stapfr_counters.stp"), COUNTERS_TAPSET, { mode: 0o600 });
  return ["-I", tapsetDir, "-E", COUNTERS_PROBE];
}
