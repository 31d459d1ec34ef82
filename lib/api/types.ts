/**
 * The options and results of the library's operations (`Recorders`), as a program sees them. Naming: what goes
 * in (options) and the API's own names are camelCase, as in any TypeScript API; what comes out (results,
 * manifests, watch events) is snake_case, because it is the very JSON the command line prints with `--json` and
 * the snapshot store keeps in `manifest.json` (schema 1), so a program can move between them without
 * translating a field (README "Library").
 * @module
 */
import type { ScriptSource } from "../driver/launch.ts";
import type { DamageReport } from "../read_path/clean_sink.ts";
import type { LossReport } from "../recorder/loss.ts";
import type { RecorderDetail } from "../recorder/engine.ts";
import type { RotateSpec } from "../units.ts";
import type { RetentionBounds } from "../units.ts";
import type { Manifest, SnapshotTrigger } from "../snapshots/manifest.ts";
import type { Policies } from "../watch/policy.ts";
import type { WatchEvent } from "../watch/events.ts";
import type { SnapshotShipping } from "../watch/watcher.ts";
import type { WatchTrigger } from "./check_options.ts";
import type { Sink } from "./sink.ts";

/** The cancellation options of a long operation (README "Cancellation"). */
export interface Cancellable {
  /**
   * Cancels: aborted before the call or during it, the operation rejects with `signal.reason`, once any reader
   * it attached has detached (the recorder keeps recording); nothing is left half made.
   */
  signal?: AbortSignal;
}

/** The options of an operation that runs for as long as it is let: it also takes `until`. */
export interface Stoppable extends Cancellable {
  /**
   * Ends it early, and it resolves with what it got (reads: `outcome: "stopped"`). Aborted before the call, it
   * resolves at once without attaching.
   */
  until?: AbortSignal;
}

/** Options of the reads: {@linkcode Recorders.dump}, {@linkcode Recorders.attach}, {@linkcode Recorders.tail}. */
export interface ReadOptions extends Stoppable {
  /** Receives stapio's diagnostic lines (module warnings and errors). */
  onDiagnostic?: (line: string) => void;
  /** Pass the bytes on as stapio wrote them: no line cleaning of text output (docs/real-ring.md). */
  raw?: boolean;
  /** The command named in the reader record that `list` shows (default: the method's own name). */
  command?: "dump" | "attach" | "tail";
}

/** Options of {@linkcode Recorders.tail}. */
export interface TailOptions extends ReadOptions {
  /** How many lines: a whole number, 0 to 10000000 (default 10; 0 is refused for a memory recorder). */
  lines?: number;
  /** Keep passing new output on (across rotations in file mode) until `until` aborts or the recording ends. */
  follow?: boolean;
}

/** Why a read stopped. */
export type ReadOutcome =
  /** A memory read caught up with what was buffered. */
  | "idle"
  /** The recording ended while it read (its script called exit()). */
  | "exited"
  /** The consumer went away (a closed pipe, a cancelled stream): the rest was not passed on. */
  | "closed"
  /** A memory dump passed on the ring's capacity. */
  | "full"
  /** A memory dump read for its time limit (`dumpMaxMs`) with output still coming. */
  | "timeout"
  /** A file read reached the end of the files. */
  | "done"
  /** `until` ended it. */
  | "stopped";

/** What a read delivered; the damage fields say what the line cleaner cut from text (docs/real-ring.md). */
export interface ReadResult extends DamageReport {
  /** The recorder. */
  name: string;
  /** Its mode. */
  mode: "memory" | "file";
  /** Bytes passed to the sink. */
  bytes: number;
  /** Why the read stopped. */
  outcome: ReadOutcome;
  /** The consumer went away (`dump | head`, a cancelled stream): the rest was read and dropped, the recorder goes on. */
  closed: boolean;
  /** The recording ended while it read (its script had called exit(); the module unloaded itself). */
  ended: boolean;
  /** File mode (text): files that were rotated away before they could be read. */
  missing_files: number;
  /**
   * Memory `dump`: bytes read after the output reached the ring's capacity (live output that came while
   * detaching), left out so that a dump is never more than the ring can hold.
   */
  beyond_capacity_bytes: number;
  /** What the read passed on and what is missing, by sequence number; null when the output has no numbers. */
  loss: LossReport | null;
  /** Why `loss` is null. */
  loss_unknown: string | null;
}

/** What every start takes. */
export interface StartBase extends Cancellable {
  /** The recorder's name: `[a-z][a-z0-9_]*`, at most 40 characters; its module is `stap_fr_NAME`. */
  name: string;
  /**
   * Bytes per CPU (stap's `-s`, staprun's `-b`): the ring of a memory recorder (default 16 MiB), the relay
   * buffer between the kernel and stapio of a file recorder. Whole MiB from 1 MiB to 4095 MiB on a real host;
   * multiples of 4 KiB on the simulator.
   */
  buffer?: number;
  /**
   * A recorder of this name that is already recording on this host is adopted (returned as it is, with
   * `adopted: true`) instead of refused: a service restarted without its recorder (docs/service.md "Adoption").
   */
  adopt?: boolean;
  /** Retention bounds for this recorder's snapshots, applied after each new one (each at least 1). */
  snapshotRetention?: RetentionBounds;
  /**
   * Disposing the returned recorder (`await using`) stops it, discarding what its ring holds
   * (`stop(name, undefined, { discard: true })`). Without it, disposing does nothing: a recorder outlives
   * the program that started it.
   */
  stopOnDispose?: boolean;
}

/** A recorder compiled from a script. */
export interface FromScript {
  /** The script: `{ file }` or `{ text }` (as `stap -e`). */
  script: ScriptSource;
  /** More arguments for stap (placed before the script). */
  stapArgs?: string[];
  /** Not with a script. */
  module?: never;
}

/** A recorder started from a prebuilt module (`build`), with staprun only. */
export interface FromModule {
  /** The module file, `stap_fr_NAME.ko`. */
  module: string;
  /** Not with a module: its script is compiled in. */
  script?: never;
  /** Not with a module: give them to `build`. */
  stapArgs?: never;
  /** Not with a module: bulk is compiled in (`build`). */
  bulk?: never;
}

/** A memory recorder: a ring per CPU in the kernel, overwriting its oldest data. */
export interface MemoryMode {
  /** No output directory: memory mode. */
  output?: undefined;
  /** Only for file recorders. */
  rotate?: never;
  /** Only for file recorders. */
  bulk?: never;
}

/** A file recorder: a stapio daemon writes rotated files. */
export interface FileMode {
  /** The directory the runs go to (each run gets a directory of its own inside it). */
  output: string;
  /** Switch files at `size` bytes (sizes as `buffer`), keep `count` (1 to 100000; absent: keep all). */
  rotate?: RotateSpec;
  /** One file per CPU (stap -b), merged by sequence number when read. */
  bulk?: boolean;
}

/**
 * What to start: a name, a script or a prebuilt module, and memory or file mode. TypeScript refuses the
 * combinations that cannot be (`script` with `module`, `rotate` without `output`, `stapArgs` with a module);
 * the same are refused at run time with `invalid_option`.
 */
export type StartOptions = StartBase & (FromScript | FromModule) & (MemoryMode | FileMode);

/**
 * What {@linkcode Recorders.start} returns: the recorder in detail (whether it was adopted instead of
 * started), and disposable: with `stopOnDispose`, `await using` stops it on every way out.
 */
export type StartedRecorder = RecorderDetail & { adopted?: true } & AsyncDisposable;

/** Options of {@linkcode Recorders.stop}. */
export interface StopOptions extends Cancellable {
  /** Unload without reading what is buffered. */
  discard?: boolean;
  /** Receives stapio's diagnostic lines (for example the transport-failure warning at unload). */
  onDiagnostic?: (line: string) => void;
  /** Pass the bytes on as stapio wrote them: no line cleaning (docs/real-ring.md). */
  raw?: boolean;
}

/** Options of {@linkcode Recorders.snapshot}. */
export interface SnapshotOptions extends Cancellable {
  /** Why it is taken (the manifest's `reason`). */
  reason?: string;
  /** Who asked (default `{ kind: "user", detail: null }`). */
  trigger?: SnapshotTrigger;
  /** Receives stapio's diagnostic lines. */
  onDiagnostic?: (line: string) => void;
  /** Runs before the recorder's retention looks at the new snapshot (`--ship` marks it pending then). */
  beforeRetention?: (snapshot: { path: string; manifest: Manifest }) => Promise<void>;
}

/** What {@linkcode Recorders.snapshotData} delivered. */
export interface SnapshotData {
  /** The snapshot's manifest. */
  manifest: Manifest;
  /** Bytes passed to the sink. */
  bytes: number;
  /** The consumer went away before the end (a cancelled stream). */
  closed: boolean;
}

/** Options of {@linkcode Recorders.plan}. */
export interface PlanOptions extends Stoppable {
  /** The script: `{ file }` or `{ text }`. */
  script: ScriptSource;
  /** The window to keep, in milliseconds (1 ms to 365 days). */
  windowMs: number;
  /** How long to measure, in milliseconds (500 ms to 1 hour; default 10 s). `until` ends it early. */
  measureMs?: number;
  /** More arguments for stap. */
  stapArgs?: string[];
}

/** Options of {@linkcode Recorders.watch}. */
export interface WatchOptions extends Stoppable {
  /** The recorder. */
  name: string;
  /** Its triggers (patterns as RE2 text, or pattern objects of your own). */
  triggers: WatchTrigger[];
  /** The policies (milliseconds; absent or zero: none). */
  policies?: Policies;
  /** Retention bounds applied after each snapshot (beyond the recorder's own). */
  retention?: RetentionBounds;
  /** File recorders: make stapio switch files this often (ms, 1 s to 24 days). */
  switchEveryMs?: number;
  /**
   * Service mode: when `until` stops the watcher, take a final snapshot, then stop the recorder (not when
   * `signal` cancels it).
   */
  service?: boolean;
  /** Each event as data. */
  onEvent?: (event: WatchEvent) => void;
  /** One log line per event, as `stapfr watch` prints them. */
  log?: (line: string) => void;
  /** Where a service stop's buffered and end-probe output go (default: discarded). */
  out?: Sink;
  /** How often conditions and the recorder are checked (ms, 100 ms to 24 days; default 1 s). */
  pollMs?: number;
  /** Ships each snapshot (`--ship`; lib/fleet/shipper.ts): told of every snapshot, closed before exiting. */
  ship?: SnapshotShipping;
}
