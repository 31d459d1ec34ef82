/**
 * The manifest of a snapshot (`manifest.json`, schema 1): what the data is, where it came from, which part of
 * the recording it covers and what was lost before it. Field by field in docs/snapshots.md "The manifest".
 * Scripts may rely on the key names; a new key is added without changing `schema`, a changed meaning bumps it.
 * @module
 */
import { StapfrError } from "../errors.ts";

/** The manifest schema this stapfr writes and reads. */
export const MANIFEST_SCHEMA = 1;

/** One data file of a snapshot. */
export interface SnapshotFile {
  /** The file name in the snapshot directory. */
  name: string;
  /** Its size in bytes. */
  bytes: number;
  /** Newline characters in it (bulk files: in the record payloads). */
  lines: number;
  /** Hex SHA-256 of the file as stored. */
  sha256: string;
  /** The CPU of a bulk per-CPU file; null otherwise. */
  cpu: number | null;
}

/** Who asked for a snapshot. */
export interface SnapshotTrigger {
  /** `user` (snapshot or trigger command), or the watcher's trigger kind (`signal`, `log`, …). */
  kind: string;
  /** What fired, in words (the matched line, the failed command, …); null for a plain snapshot. */
  detail: string | null;
}

/** A snapshot's manifest. */
export interface Manifest {
  /** The manifest schema (1). */
  schema: number;
  /** The snapshot ID (UTC time plus a sequence). */
  id: string;
  /** The recorder's name. */
  recorder: string;
  /** `memory` (a ring) or `file` (rotated files). */
  mode: "memory" | "file";
  /** The kernel module. */
  module: string;
  /** `real` (the installed SystemTap) or `sim` (the simulator). */
  host_kind: "real" | "sim";
  /** The machine's host name. */
  host_name: string;
  /** The kernel release the recorder runs on (`uname -r`; the simulator's reports its own). */
  kernel_release: string | null;
  /** `stap -V`'s version line, "simulator", or null when SystemTap could not say. */
  systemtap_version: string | null;
  /** SHA-256 of the script text (null when stapfr did not see the script, e.g. a prebuilt module). */
  script_sha256: string | null;
  /** The script file, or null for `-e`. */
  script_file: string | null;
  /** Arguments passed to stap after `--`. */
  stap_args: string[];
  /** When the recorder started (ISO 8601). */
  recorder_started_at: string;
  /** Why the snapshot was taken (`--reason`); null when none was given. */
  reason: string | null;
  /** Who asked for it. */
  trigger: SnapshotTrigger;
  /** When the capture began (ISO 8601, UTC). */
  capture_started_at: string;
  /** When the capture ended (ISO 8601, UTC). */
  capture_ended_at: string;
  /** The data files. Memory: one file of clean lines; file mode: the run's files, per CPU in bulk mode. */
  files: SnapshotFile[];
  /** Total bytes over `files`. */
  bytes: number;
  /** Total lines over `files`. */
  lines: number;
  /** Bytes per CPU where known (bulk files); null otherwise. */
  per_cpu_bytes: Record<string, number> | null;
  /** Memory: bytes the ring holds over all CPUs; file mode: the bytes the rotation keeps (null: unbounded). */
  capacity: number | null;
  /** Older data was lost before this window (the ring overwrote, or files were rotated away). */
  wrapped: boolean;
  /** What showed it (`ring full`, `leading fragment`, `files rotated away`), or null. */
  wrapped_evidence: string | null;
  /** Damaged lines cut out of the data by stapfr's reading (docs/real-ring.md). */
  damaged_lines: number;
  /** Bytes of the damaged lines cut out. */
  damaged_bytes: number;
  /** Transport failures SystemTap reported while the data was read (null: none reported). */
  transport_failures: number | null;
  /** The previous snapshot of this recorder, if any. */
  previous: string | null;
  /** Whether this snapshot continues the previous one with nothing lost in between. */
  contiguous: boolean;
  /** Why not, in words; null when contiguous. */
  gap_reason: string | null;
  /** The window's duration in seconds, where stapfr can tell (memory: since the previous drain). */
  window_seconds: number | null;
}

function fail(path: string, why: string): never {
  throw new StapfrError(`Unreadable snapshot manifest "${path}": ${why}`, {
    hint: "The snapshot may be damaged; its data files are still in its directory",
  });
}

const STRINGS = [
  "id",
  "recorder",
  "module",
  "host_name",
  "recorder_started_at",
  "capture_started_at",
  "capture_ended_at",
] as const;
const NUMBERS = ["bytes", "lines", "damaged_lines", "damaged_bytes"] as const;
const BOOLEANS = ["wrapped", "contiguous"] as const;

/** Parses and checks a manifest read from `path` (every field the commands use has the right type). */
export function parseManifest(path: string, text: string): Manifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file's first bytes, which need not be a manifest's.
    fail(path, "not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, "not an object");
  if (value.schema !== MANIFEST_SCHEMA) {
    // A number is said (a newer stapfr's schema); anything else is not quoted.
    const schema = typeof value.schema === "number" ? `schema ${value.schema}` : "its schema";
    fail(path, `${schema} is not ${MANIFEST_SCHEMA}`);
  }
  for (const k of STRINGS) if (typeof value[k] !== "string") fail(path, `"${k}" is not a string`);
  for (const k of NUMBERS) if (typeof value[k] !== "number") fail(path, `"${k}" is not a number`);
  for (const k of BOOLEANS) if (typeof value[k] !== "boolean") fail(path, `"${k}" is not a boolean`);
  if (value.mode !== "memory" && value.mode !== "file") fail(path, `"mode" is not "memory" or "file"`);
  const files = value.files;
  if (!Array.isArray(files)) fail(path, `"files" is not a list`);
  for (const f of files as Record<string, unknown>[]) {
    if (typeof f?.name !== "string" || f.name.includes("/") || typeof f.sha256 !== "string") {
      fail(path, `a file entry is malformed`);
    }
  }
  return value as unknown as Manifest;
}
