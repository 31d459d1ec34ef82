/**
 * What every operation shares: the host, the registry, the tuning, and the view of one recorder that `list`,
 * `status` and `--json` print (reconciled with what is loaded and alive).
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { EnvLookup, Host } from "../host.ts";
import type { Knobs } from "../knobs.ts";
import { listModules, type LoadedModule, processAlive, relayChannels } from "../driver/kernel.ts";
import { listRunFiles, totalSize } from "../read_path/files.ts";
import type { RecorderRecord, Registry } from "../registry.ts";
import type { ReaderInfo } from "./reader_records.ts";
import { type RecorderState, recorderState } from "../state.ts";
import { MiB, validateName } from "../units.ts";
import { daemonLog, problemOf } from "./problems.ts";
import type { WatchState } from "../watcher_record.ts";

/** The engine an operation runs in. */
export interface Engine {
  /** Which stap, staprun and /proc. */
  host: Host;
  /** The state directory's registry. */
  registry: Registry;
  /** Environment lookup. */
  env: EnvLookup;
  /** The `STAPFR_*` knobs, read once (by the command line, or by `new Recorders()` from its `env`). */
  knobs: Knobs;
  /** A dump ends after stapio has been quiet this long (covers 4.8's 1–2 s first-message hold). */
  idleMs: number;
  /** How long to wait for stapio to react to a signal before resending it. */
  signalWaitMs: number;
  /** A drain (`dump`, the first part of `tail`, `stop`) ends after this long whatever comes (30 s). */
  drainMaxMs: number;
}

/** One recorder as `list` and `status` show it (the `--json` document uses these keys). */
export interface RecorderInfo {
  /** The recorder's name. */
  name: string;
  /** `memory` (a ring in the kernel) or `file` (rotated files written by a stapio daemon). */
  mode: "memory" | "file";
  /** Reconciled with what is loaded and alive. */
  state: RecorderState;
  /** The kernel module (`stap_fr_NAME`). */
  module: string;
  /** File mode: the stapio daemon's pid. */
  pid: number | null;
  /** ISO 8601 time of the start (null for an orphan). */
  started_at: string | null;
  /** File mode: bytes in the run's files; memory mode: unknown (null) without reading the ring. */
  bytes: number | null;
  /** What went wrong, in one line (its run directory deleted, its daemon stopped by an error), or null. */
  problem: string | null;
  /** Memory mode: who holds the control channel, when someone does (docs/strays.md); else null. */
  reader?: ReaderInfo | null;
}

/** One file of a file recorder's run. */
export interface FileInfo {
  /** The file name in the run directory. */
  name: string;
  /** Its size in bytes. */
  size: number;
  /** The CPU of a bulk file; null for non-bulk output. */
  cpu: number | null;
}

/** One recorder in detail (`status`). */
export interface RecorderDetail extends RecorderInfo {
  /** The host that runs it: the installed SystemTap or the simulator. */
  host: "real" | "sim";
  /** The "Used by" count in /proc/modules (1 while a reader is attached); null when not loaded. */
  refcount: number | null;
  /** Relay channels (CPUs online at load time), when the module is loaded. */
  cpus: number | null;
  /** Memory mode: ring bytes per CPU (stap's default is 16 MiB). */
  buffer_per_cpu: number | null;
  /** Memory mode: total ring bytes over all CPUs, when the CPUs are known. */
  capacity: number | null;
  /** File mode: this run's directory. */
  run_dir: string | null;
  /** File mode: the run's files, oldest first per stream. */
  files: FileInfo[];
  /** File mode: switch at `size` bytes, keep `count` files per stream (null: keep all). */
  rotate: { size: number; count: number | null } | null;
  /** File mode: one file per CPU, merged by sequence number when read. */
  bulk: boolean;
  /** The script file, or null for `-e`. */
  script_file: string | null;
  /** Arguments passed to stap after `--`. */
  stap_args: string[];
  /** When stapfr saw the recording end in order. */
  ended_at: string | null;
  /** Notes from the start (for example that `--rotate` applies per CPU). */
  notes: string[];
  /** The registry file. */
  state_file: string;
  /** File mode: where its stapio daemon logs (a daemon logs to syslog: `journalctl …`, or the simulator's file). */
  daemon_log: string | null;
  /** Started from a prebuilt module (`start --module`): its file, absolute; null when stap compiled it. */
  module_file: string | null;
  /** Whether it was started from a prebuilt module. */
  prebuilt: boolean;
  /**
   * Memory mode: the rate (bytes/s) the ring filled at between its last drains (dumps, snapshots), or null
   * when there is none to go by yet.
   */
  fill_rate: number | null;
  /** Memory mode: how many seconds of output the ring holds at `fill_rate`; null when not known yet. */
  window_seconds: number | null;
  /** Its running watcher (`stapfr watch`): pid, triggers and counts of fired and suppressed; null if none. */
  watcher: WatchState | null;
}

/** The default ring size per CPU of SystemTap 4.8 (docs/systemtap-4.8.md 5.1). */
export const DEFAULT_BUFFER = 16 * MiB;

/** The facts about one record, gathered from the module table and /proc. */
export async function stateOf(
  record: RecorderRecord,
  modules: readonly LoadedModule[],
  daemonAlive?: boolean,
): Promise<RecorderState> {
  const module = modules.find((m) => m.name === record.module);
  daemonAlive ??= record.pid !== null && (await processAlive(record.pid, record.pidStart ?? undefined));
  return recorderState(record, { module, daemonAlive });
}

/**
 * The short view of a record (`daemonAlive` when already known, as `list` finds it for all at once; `host`
 * to say what went wrong with it, from where its daemon logs).
 */
export async function infoOf(
  record: RecorderRecord,
  modules: readonly LoadedModule[],
  daemonAlive?: boolean,
  host?: Host,
): Promise<RecorderInfo> {
  const state = await stateOf(record, modules, daemonAlive);
  return {
    name: record.name,
    mode: record.mode,
    state,
    module: record.module,
    pid: record.mode === "file" ? record.pid : null,
    started_at: record.startedAt,
    bytes: record.output ? totalSize(listRunFiles(record.output.runDir, record.output.base)) : null,
    problem: host ? await problemOf(host, record, state) : null,
  };
}

/** The detailed view of a record; `modules` as the caller already listed them, if it did. */
export async function detailOf(
  engine: Engine,
  record: RecorderRecord,
  modules?: readonly LoadedModule[],
): Promise<RecorderDetail> {
  modules ??= await listModules(engine.host.procRoot);
  const info = await infoOf(record, modules, undefined, engine.host);
  const loaded = modules.find((m) => m.name === record.module);
  const cpus = loaded ? (await relayChannels(engine.host.procRoot, record.module)) ?? null : record.cpus;
  const files: FileInfo[] = [];
  if (record.output) {
    for (const f of listRunFiles(record.output.runDir, record.output.base)) {
      try {
        files.push({ name: f.name, size: (await Deno.stat(f.path)).size, cpu: f.cpu });
      } catch {
        // Rotated away while we looked.
      }
    }
  }
  const perCpu = record.mode === "memory" ? record.buffer ?? DEFAULT_BUFFER : null;
  const capacity = perCpu !== null && cpus ? perCpu * cpus : null;
  let rate: number | null = null;
  if (record.mode === "memory") {
    const { fillRate, readLog } = await import("./read_log.ts");
    rate = fillRate(await readLog(engine.registry, record.name, record.startedAt), record.startedAt);
  }
  return {
    ...info,
    host: record.host,
    refcount: loaded?.refcount ?? null,
    cpus: cpus ?? null,
    buffer_per_cpu: perCpu,
    capacity,
    run_dir: record.output?.runDir ?? null,
    files,
    rotate: record.output?.rotate
      ? { size: record.output.rotate.size, count: record.output.rotate.count ?? null }
      : null,
    bulk: record.output?.bulk ?? false,
    script_file: record.scriptFile,
    stap_args: record.stapArgs,
    ended_at: record.endedAt ?? null,
    notes: record.notes,
    state_file: engine.registry.pathOf(record.name),
    daemon_log: record.mode === "file" ? daemonLog(engine.host, record.pid) : null,
    module_file: record.prebuilt?.path ?? null,
    prebuilt: Boolean(record.prebuilt),
    fill_rate: rate,
    watcher: await liveWatcher(engine, record.name),
    window_seconds: rate && capacity ? capacity / rate : null,
  };
}

async function liveWatcher(engine: Engine, name: string): Promise<WatchState | null> {
  const { readWatchState } = await import("../watcher_record.ts");
  const w = await readWatchState(engine.registry, name);
  return w && (await processAlive(w.pid, w.pidStart ?? undefined)) ? w : null;
}

/** Reads a registered recorder of this host, or explains why there is none. */
export async function getRecord(engine: Engine, name: string): Promise<RecorderRecord> {
  const record = await engine.registry.get(validateName(name));
  if (!record) {
    throw new StapfrError(`No recorder named "${name}" in "${engine.registry.dir}"`, {
      code: "not_found",
      hint: 'See "stapfr list"',
    });
  }
  if (record.host !== engine.host.kind) {
    throw new StapfrError(
      `Recorder "${name}" was started on the ${record.host === "sim" ? "simulator" : "real host"}`,
      {
        code: "wrong_host",
        // Said for both: the command line's flag, the library's option.
        hint: record.host === "sim"
          ? "Use the simulator: --sim on the command line, sim: true for new Recorders()"
          : "Use the real host: no --sim on the command line, no sim: true for new Recorders()",
      },
    );
  }
  return record;
}

/** How many bytes a full drain of a memory ring can hold at most (beyond that, what arrives is new). */
export async function capacityOf(engine: Engine, record: RecorderRecord): Promise<number> {
  const cpus = (await relayChannels(engine.host.procRoot, record.module)) ?? record.cpus ?? 1;
  return (record.buffer ?? DEFAULT_BUFFER) * Math.max(1, cpus);
}
