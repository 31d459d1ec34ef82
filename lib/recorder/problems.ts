/**
 * What went wrong with a file recorder, said where the user looks (`list`, `status`, `--json`): its run
 * directory deleted under it, or its stapio daemon stopped by an error. A daemon reports to syslog, not to a
 * terminal (docs/systemtap-4.8.md 2.2): on a real host stapfr names the journal to read; the simulator's stapio
 * writes its syslog to a file stapfr reads, so the reason itself is shown.
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { Host } from "../host.ts";
import { join } from "../path.ts";
import type { RecorderRecord } from "../registry.ts";
import type { RecorderState } from "../state.ts";

/** Where a file recorder's stapio daemon logs: a command to run (real host) or a file (simulator). */
export function daemonLog(host: Host, pid: number | null): string | null {
  if (pid === null) return null;
  if (host.kind === "sim" && host.simRoot) return join(host.simRoot, "var", "log", "stapio.log");
  return `journalctl -t stapio _PID=${pid}`;
}

/**
 * The last `ERROR:` line a daemon logged (the simulator's syslog file; undefined elsewhere or when it logged
 * none).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const log = "2026-01-01T00:00:00Z stapio[7]: ERROR: Couldn't write to output 4 for cpu 0, exiting.: No space left on device\n" +
 *   "2026-01-01T00:00:00Z stapio[8]: ERROR: other daemon\n";
 * assertEquals(lastError(log, 7), "ERROR: Couldn't write to output 4 for cpu 0, exiting.: No space left on device");
 * assertEquals(lastError(log, 9), undefined);
 * ```
 */
export function lastError(log: string, pid: number): string | undefined {
  const tag = ` stapio[${pid}]: `;
  let last: string | undefined;
  for (const line of log.split("\n")) {
    const at = line.indexOf(tag);
    if (at >= 0 && line.startsWith("ERROR:", at + tag.length)) last = line.slice(at + tag.length);
  }
  return last;
}

/** Whether a file recorder's run directory still exists. */
async function runDirExists(record: RecorderRecord): Promise<boolean> {
  if (!record.output) return true;
  try {
    return (await Deno.stat(record.output.runDir)).isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return false;
    return true; // Unreadable is not gone; reading it will say why.
  }
}

/** One line saying what went wrong with a recorder in `state`, or null when nothing is known to be wrong. */
export async function problemOf(
  host: Host,
  record: RecorderRecord,
  state: RecorderState,
): Promise<string | null> {
  if (record.mode !== "file" || !record.output) return null;
  if (!(await runDirExists(record))) {
    return `its run directory "${record.output.runDir}" is gone (deleted?): what it recorded there is lost` +
      (state === "recording" ? `, and what it records now cannot be read` : "");
  }
  if ((state === "exited" || state === "dead") && !record.endedAt && record.pid !== null) {
    const log = daemonLog(host, record.pid)!;
    if (host.kind !== "sim") return null; // A script may exit on its own: only its log can tell.
    const text = await Deno.readTextFile(log).catch(() => "");
    const error = lastError(text, record.pid);
    if (error) return `its stapio daemon stopped: ${error} (from "${log}")`;
  }
  return null;
}

/** Throws when a file recorder's run directory is gone: dump, tail and attach would find nothing there. */
export async function requireRunDir(engine: { host: Host }, record: RecorderRecord): Promise<void> {
  if (record.mode !== "file" || (await runDirExists(record))) return;
  throw new StapfrError(
    `Cannot read recorder "${record.name}": its run directory "${record.output!.runDir}" is gone (deleted?)`,
    {
      code: "not_found",
      hint: `What it wrote there is lost; stopping it ends it ("stapfr${
        engine.host.kind === "sim" ? " --sim" : ""
      } stop ${record.name}"), and a new start writes into a new run directory`,
    },
  );
}
