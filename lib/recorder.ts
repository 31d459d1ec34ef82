/**
 * The recorder operations as a library: start, list, status, dump, attach, tail, stop, gc and check, over the
 * real SystemTap or the simulator. They return data and write recorded output to a sink; they print nothing.
 * The command line is a thin layer over this.
 *
 * @example List the recorders of a (here empty) state directory on the simulator
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Recorders } from "./recorder.ts";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root, stateDir: `${root}/state` });
 * assertEquals((await recorders.list()).recorders, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 * @module
 */
import { defaultStateDir, type EnvLookup, type Host, realHost, simHost } from "./host.ts";
import { type Knobs, readKnobs } from "./knobs.ts";
import { Registry } from "./registry.ts";
import { join } from "./path.ts";
import type { ScriptSource } from "./driver/start.ts";
import type { ByteSink } from "./readers/concat.ts";
import type { Engine, RecorderDetail } from "./recorder/engine.ts";
import type { StartedRecorder, StartOptions } from "./recorder/start.ts";
import type { ListResult } from "./recorder/inspect.ts";
import type { ReadOptions, ReadResult, TailOptions } from "./recorder/read.ts";
import type { StopOptions, StopResult } from "./recorder/stop.ts";
import type { GcOptions, GcResult } from "./recorder/gc.ts";
import type { CheckReport } from "./recorder/check.ts";
import type { BuildOptions, BuildResult } from "./recorder/build.ts";
import type { Manifest } from "./snapshots/manifest.ts";
import type { PlanOptions } from "./recorder/plan.ts";
import type { Plan } from "./snapshots/planner.ts";
import type { WatchOptions, WatchResult } from "./watch/watcher.ts";
import type { TriggerResult } from "./watch/trigger_request.ts";
import type { PruneResult, SnapshotSummary, VerifyResult } from "./snapshots/ops.ts";
import type { CaptureOptions } from "./snapshots/capture.ts";
import type { RetentionBounds } from "./snapshots/retention.ts";
import type { BrokenSnapshot, SnapshotStore } from "./snapshots/store.ts";
import { validateName } from "./units.ts";
import { StapfrError, UsageError } from "./errors.ts";

export type { ScriptSource } from "./driver/start.ts";
export type { ByteSink } from "./readers/concat.ts";
export type { DamageReport } from "./readers/clean_sink.ts";
export type { DamageReason } from "./readers/clean.ts";
export type { FileInfo, RecorderDetail, RecorderInfo } from "./recorder/engine.ts";
export type { StartedRecorder, StartOptions } from "./recorder/start.ts";
export type { ListResult } from "./recorder/inspect.ts";
export type { ReadOptions, ReadResult, TailOptions } from "./recorder/read.ts";
export type { Knob, Knobs, KnobTable, KnobUser } from "./knobs.ts";
export type { StopOptions, StopResult } from "./recorder/stop.ts";
export type { GcAction, GcOptions, GcResult } from "./recorder/gc.ts";
export type { ReaderInfo } from "./recorder/readers.ts";
export type { CheckFinding, CheckReport } from "./recorder/check.ts";
export type { BuildOptions, BuildResult } from "./recorder/build.ts";
export type { ModuleDescription } from "./recorder/module_description.ts";
export type { RecorderState } from "./state.ts";
export type { EnvLookup, Host } from "./host.ts";
export type { CorruptEntry } from "./registry.ts";
export type { WaitOutcome } from "./driver/session.ts";
export type { RotateSpec } from "./units.ts";
export type { Manifest, SnapshotFile, SnapshotTrigger } from "./snapshots/manifest.ts";
export type { PruneResult, SnapshotSummary, VerifiedSnapshot, VerifyResult } from "./snapshots/ops.ts";
export type { CaptureOptions } from "./snapshots/capture.ts";
export type { RetentionBounds } from "./snapshots/retention.ts";
export type { PlanOptions } from "./recorder/plan.ts";
export type { Plan } from "./snapshots/planner.ts";
export type { SnapshotShipping, WatchOptions, WatchResult } from "./watch/watcher.ts";
export type { TriggerResult } from "./watch/trigger_request.ts";
export type { WatchState } from "./watch/state.ts";
export type { Decision, Policies, Suppression } from "./watch/policy.ts";
export type { PressureExpr, TriggerSpec } from "./watch/spec.ts";
export type { Pattern } from "./watch/pattern.ts";
export type { BrokenSnapshot } from "./snapshots/store.ts";
export type { ReadLogEntry } from "./recorder/read_log.ts";
export type { LossReport, MissingRecords } from "./recorder/loss.ts";
export type { SeqRange } from "./readers/ledger.ts";

/** What {@linkcode Recorders.snapshot} returns. */
export interface SnapshotTaken {
  /** The snapshot's manifest (its `id` among the rest). */
  manifest: Manifest;
  /** The snapshot's directory. */
  path: string;
  /** Its row in a listing. */
  summary: SnapshotSummary;
  /** Snapshots the recorder's retention bounds removed afterwards. */
  pruned: SnapshotSummary[];
}

/** How to set up {@linkcode Recorders}. */
export interface RecordersOptions {
  /** Use the simulator instead of the installed SystemTap. */
  sim?: boolean;
  /** The simulator's root (default `$STAPFR_SIM_ROOT`, else `${TMPDIR:-/tmp}/stapfr-sim-UID`). */
  simRoot?: string;
  /** A host of your own (overrides `sim`). */
  host?: Host;
  /** The state directory (default `$STAPFR_STATE_DIR`, `SIM_ROOT/state` with the simulator, else
   * `/var/lib/stapfr` as root or `~/.local/state/stapfr`). */
  stateDir?: string;
  /** Environment lookup (default `Deno.env.get`). */
  env?: EnvLookup;
  /** The `STAPFR_*` knobs, already read (default: read from `env`; a bad one throws a usage error). */
  knobs?: Knobs;
  /** A memory dump ends after stapio was quiet this long (default `$STAPFR_IDLE_MS` or 2500 ms, which covers
   * stapio 4.8's hold of up to 2 s on the first record). */
  idleMs?: number;
  /** Wait before resending a signal stapio may have lost (default `$STAPFR_SIGNAL_WAIT_MS` or 3000 ms). */
  signalWaitMs?: number;
  /** A memory dump reads for at most this long even under a live stream (default `$STAPFR_DUMP_MAX_MS` or
   * 30000 ms). */
  dumpMaxMs?: number;
  /** The snapshot store (default `$STAPFR_STORE`, else `STATE_DIR/snapshots`). */
  store?: string;
}

/**
 * The flight recorders of one state directory on one host.
 *
 * @example Start, dump and stop a memory recorder on the simulator
 * ```ts ignore
 * import { Recorders } from "./recorder.ts";
 * const recorders = new Recorders({ sim: true });
 * await recorders.start({ name: "io", script: { text: 'probe vfs.read { printf("%s\\n", execname()) }' } });
 * const chunks: Uint8Array[] = [];
 * await recorders.dump("io", (c) => Promise.resolve(void chunks.push(c.slice())));
 * await recorders.stop("io", () => Promise.resolve());
 * ```
 */
export class Recorders {
  /** The host the operations drive. */
  readonly host: Host;
  /** The state directory, where each recorder has its JSON file. */
  readonly stateDir: string;
  /** The snapshot store's directory. */
  readonly storeDir: string;
  #engine: Engine;

  /** Sets up the host and the state directory (nothing is touched until an operation runs). */
  constructor(options: RecordersOptions = {}) {
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    const knobs = options.knobs ?? readKnobs(env);
    this.host = options.host ??
      (options.sim ? simHost({ root: options.simRoot, env }) : realHost());
    const registry = new Registry(defaultStateDir(options.stateDir, env, this.host));
    this.stateDir = registry.dir;
    this.storeDir = options.store || knobs.store || join(registry.dir, "snapshots");
    this.#engine = {
      host: this.host,
      registry,
      env,
      idleMs: options.idleMs ?? knobs.idleMs,
      signalWaitMs: options.signalWaitMs ?? knobs.signalWaitMs,
      drainMaxMs: options.dumpMaxMs ?? knobs.dumpMaxMs,
    };
  }

  /** Starts a recorder in the background; it is registered only once it records. */
  async start(options: StartOptions): Promise<StartedRecorder> {
    const { startRecorder } = await import("./recorder/start.ts");
    return await startRecorder(this.#engine, options);
  }

  /** Every recorder of this host, reconciled with what is loaded and alive, plus orphan modules. */
  async list(): Promise<ListResult> {
    const { listRecorders } = await import("./recorder/inspect.ts");
    return await listRecorders(this.#engine);
  }

  /** One recorder in detail. */
  async status(name: string): Promise<RecorderDetail> {
    const { recorderStatus } = await import("./recorder/inspect.ts");
    return await recorderStatus(this.#engine, name);
  }

  /** Everything the recorder holds, once, to `sink`; the recording goes on. */
  async dump(name: string, sink: ByteSink, options?: ReadOptions): Promise<ReadResult> {
    const { dumpRecorder } = await import("./recorder/read.ts");
    return await dumpRecorder(this.#engine, name, sink, options);
  }

  /** Live output to `sink` until `options.signal` aborts (then detach) or the recording ends. */
  async attach(name: string, sink: ByteSink, options?: ReadOptions): Promise<ReadResult> {
    const { attachRecorder } = await import("./recorder/read.ts");
    return await attachRecorder(this.#engine, name, sink, options);
  }

  /**
   * The last lines, then (with `follow`) new output. No lines of a memory recorder is a usage error: reading
   * drains its ring, so it would throw away everything the ring held and print nothing.
   */
  async tail(name: string, sink: ByteSink, options?: TailOptions): Promise<ReadResult> {
    if (options?.lines === 0) {
      const { getRecord } = await import("./recorder/engine.ts");
      if ((await getRecord(this.#engine, name)).mode === "memory") {
        throw new UsageError(
          `Refusing "-n 0" on memory recorder "${name}": reading drains its ring, so it would discard ` +
            `everything the ring holds and print nothing`,
        );
      }
    }
    const { tailRecorder } = await import("./recorder/read.ts");
    return await tailRecorder(this.#engine, name, sink, options);
  }

  /** Ends a recording: what was buffered and the end-probe output go to `sink`; the entry is removed. */
  async stop(name: string, sink: ByteSink, options?: StopOptions): Promise<StopResult> {
    const { stopRecorder } = await import("./recorder/stop.ts");
    return await stopRecorder(this.#engine, name, sink, options);
  }

  /**
   * Removes dead entries; with `unloadOrphans`, unloads `stap_` modules nobody registered (those that look like
   * stapfr recorders only with `yes`: without it, gc throws `GcConfirmationNeeded` and changes nothing).
   */
  async gc(options?: GcOptions): Promise<GcResult> {
    const { collectGarbage } = await import("./recorder/gc.ts");
    const result = await collectGarbage(this.#engine, options);
    // What interrupted snapshots left in the store; a store stapfr may not use is said, not a failure of gc.
    try {
      for (const path of await (await this.#store()).collectPartials()) {
        result.actions.push({ name: path, action: "removed", detail: "remains of an interrupted snapshot" });
      }
    } catch (err) {
      if (!(err instanceof StapfrError)) throw err;
      result.actions.push({ name: this.storeDir, action: "kept", detail: err.message });
    }
    return result;
  }

  /**
   * Captures the recorder's current window into the snapshot store (memory: a drain, as `dump`; file mode: a
   * cut of its files) with a manifest; the recording goes on. The recorder's retention bounds apply after.
   */
  async snapshot(
    name: string,
    options?: CaptureOptions & {
      /** Runs before the recorder's retention looks at the new snapshot (`--ship` marks it pending then). */
      beforeRetention?: (snapshot: { path: string; manifest: Manifest }) => Promise<void>;
    },
  ): Promise<SnapshotTaken> {
    const { takeSnapshot, summarize } = await import("./snapshots/ops.ts");
    const { snapshot, pruned } = await takeSnapshot(this.#engine, await this.#store(), name, options);
    return { manifest: snapshot.manifest, path: snapshot.path, pruned, summary: summarize(snapshot) };
  }

  /** The snapshots in the store (of one recorder, or all), oldest first, and directories that are broken. */
  async snapshots(name?: string): Promise<{ snapshots: SnapshotSummary[]; broken: BrokenSnapshot[] }> {
    if (name !== undefined) validateName(name);
    const { listSnapshots } = await import("./snapshots/ops.ts");
    return await listSnapshots(await this.#store(), name);
  }

  /**
   * Reads every data file of the snapshots given (`ID` or `NAME/ID`), or of the whole store, and checks its
   * size and SHA-256 against the manifest.
   */
  async verifySnapshots(refs: readonly string[] = []): Promise<VerifyResult> {
    const { verifySnapshots } = await import("./snapshots/ops.ts");
    return await verifySnapshots(await this.#store(), refs);
  }

  /** One snapshot's manifest, by `ID` or `NAME/ID`. */
  async snapshotManifest(ref: string): Promise<{ manifest: Manifest; path: string }> {
    return await (await this.#store()).find(ref);
  }

  /** One snapshot's data as one ordered stream to `sink` (bulk files merged as `dump` does). */
  async snapshotData(ref: string, sink: ByteSink): Promise<{ manifest: Manifest; bytes: number }> {
    const { snapshotData } = await import("./snapshots/ops.ts");
    const { snapshot, bytes } = await snapshotData(await this.#store(), ref, sink);
    return { manifest: snapshot.manifest, bytes };
  }

  /** Deletes the oldest snapshots until every bound holds (per recorder); `dryRun` only says which. */
  async pruneSnapshots(
    bounds: RetentionBounds,
    options?: { name?: string; dryRun?: boolean },
  ): Promise<PruneResult> {
    if (options?.name !== undefined) validateName(options.name);
    const { pruneSnapshots } = await import("./snapshots/ops.ts");
    return await pruneSnapshots(await this.#store(), bounds, options);
  }

  /**
   * Watches the recorder and its triggers until `options.signal` aborts (or the recorder ends), taking
   * snapshots by the policies; logs one line per event through `options.log`.
   */
  async watch(options: WatchOptions): Promise<WatchResult> {
    const { runWatcher } = await import("./watch/watcher.ts");
    return await runWatcher(this.#engine, await this.#store(), options);
  }

  /** Fires the signal trigger of the recorder's watcher, or takes a plain snapshot when none runs. */
  async trigger(name: string, options?: { reason?: string }): Promise<TriggerResult> {
    const { fireTrigger } = await import("./watch/trigger_request.ts");
    return await fireTrigger(this.#engine, await this.#store(), name, options);
  }

  async #store(): Promise<SnapshotStore> {
    const { SnapshotStore } = await import("./snapshots/store.ts");
    return new SnapshotStore(this.storeDir);
  }

  /**
   * Runs the script briefly as a temporary bulk file recorder, measures its output rate per CPU and
   * recommends `--buffer` and `--rotate` for the window; everything it started is stopped and removed.
   */
  async plan(options: PlanOptions): Promise<Plan & { measured_seconds: number }> {
    const { planRecorder } = await import("./recorder/plan.ts");
    return await planRecorder(this.#engine, options);
  }

  /**
   * Compiles a recorder's module for a kernel (`stap -p4 -r`) and writes `stap_fr_NAME.ko` and its JSON
   * description into `outDir`; {@linkcode Recorders.start} with `module` starts it where only staprun is.
   */
  async build(options: BuildOptions): Promise<BuildResult> {
    const { buildModule } = await import("./recorder/build.ts");
    return await buildModule(this.#engine, options);
  }

  /** Validates a script without loading anything. */
  async check(script: ScriptSource): Promise<CheckReport> {
    const { checkRecorderScript } = await import("./recorder/check.ts");
    return await checkRecorderScript(this.#engine, script);
  }
}
