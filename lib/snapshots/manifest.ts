/**
 * The manifest of a snapshot (`manifest.json`, schema 2): what the data is, where it came from, which part of
 * the recording it covers and what was lost, counted from the records' sequence numbers. Field by field in
 * docs/snapshots.md "The manifest" and docs/loss-accounting.md. Scripts may rely on the key names; a new key
 * is added without changing `schema`, a changed meaning bumps it. Schema 2 added the sequence accounting
 * (`first_seq`, `last_seq`, `records`, `missing`) and made `contiguous` true only when the numbers prove it;
 * schema 1 manifests are still read.
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { MissingRecords } from "../recorder/loss.ts";

/** The manifest schema this stapfr writes. */
export const MANIFEST_SCHEMA = 2;
/** The schemas it reads. */
const READABLE_SCHEMAS = [1, 2];

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
  /** The first sequence number in the data (null: none, or the data has no numbers). Schema 2. */
  first_seq?: number | null;
  /** The last sequence number in the data. Schema 2. */
  last_seq?: number | null;
  /** Records in the data (null: the data has no sequence numbers). Schema 2. */
  records?: number | null;
  /** What is missing, by cause (null: the data has no sequence numbers; see `sequence_note`). Schema 2. */
  missing?: MissingRecords | null;
  /** Why the sequence fields are null, or what limits them; null when they are complete. Schema 2. */
  sequence_note?: string | null;
  /** The previous snapshot of this recorder, if any. */
  previous: string | null;
  /**
   * Whether this snapshot continues the previous one with nothing lost in between: true only when the sequence
   * numbers prove it (memory: the first is the previous snapshot's last plus one, and the module counted no
   * record it could not reserve; file mode: the windows overlap or touch).
   */
  contiguous: boolean;
  /** Why not, in words; null when contiguous. */
  gap_reason: string | null;
  /** The window's duration in seconds, where stapfr can tell (memory: since the previous drain). */
  window_seconds: number | null;
}

function fail(path: string, why: string): never {
  throw new StapfrError(`Unreadable snapshot manifest "${path}": ${why}`, {
    code: "damaged",
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
  if (!READABLE_SCHEMAS.includes(value.schema as number)) {
    // A number is said (a newer stapfr's schema); anything else is not quoted.
    const schema = typeof value.schema === "number" ? `schema ${value.schema}` : "its schema";
    fail(path, `${schema} is not one of ${READABLE_SCHEMAS.join(", ")}`);
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
