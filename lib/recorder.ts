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
import { Registry } from "./registry.ts";
import type { ScriptSource } from "./driver/start.ts";
import type { ByteSink } from "./readers/concat.ts";
import type { Engine, RecorderDetail } from "./recorder/engine.ts";
import type { StartOptions } from "./recorder/start.ts";
import type { ListResult } from "./recorder/inspect.ts";
import type { ReadOptions, ReadResult, TailOptions } from "./recorder/read.ts";
import type { StopOptions, StopResult } from "./recorder/stop.ts";
import type { GcResult } from "./recorder/gc.ts";
import type { CheckReport } from "./recorder/check.ts";
import type { BuildOptions, BuildResult } from "./recorder/build.ts";

export type { ScriptSource } from "./driver/start.ts";
export type { ByteSink } from "./readers/concat.ts";
export type { DamageReport } from "./readers/clean_sink.ts";
export type { DamageReason } from "./readers/clean.ts";
export type { FileInfo, RecorderDetail, RecorderInfo } from "./recorder/engine.ts";
export type { StartOptions } from "./recorder/start.ts";
export type { ListResult } from "./recorder/inspect.ts";
export type { ReadOptions, ReadResult, TailOptions } from "./recorder/read.ts";
export type { StopOptions, StopResult } from "./recorder/stop.ts";
export type { GcAction, GcResult } from "./recorder/gc.ts";
export type { CheckFinding, CheckReport } from "./recorder/check.ts";
export type { BuildOptions, BuildResult } from "./recorder/build.ts";
export type { ModuleDescription } from "./recorder/module_description.ts";
export type { RecorderState } from "./state.ts";
export type { EnvLookup, Host } from "./host.ts";
export type { CorruptEntry } from "./registry.ts";
export type { WaitOutcome } from "./driver/session.ts";
export type { RotateSpec } from "./units.ts";

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
  /** A memory dump ends after stapio was quiet this long (default `$STAPFR_IDLE_MS` or 2500 ms, which covers
   * stapio 4.8's hold of up to 2 s on the first record). */
  idleMs?: number;
  /** Wait before resending a signal stapio may have lost (default 3000 ms). */
  signalWaitMs?: number;
  /** A memory dump reads for at most this long even under a live stream (default `$STAPFR_DUMP_MAX_MS` or
   * 30000 ms). */
  dumpMaxMs?: number;
}

function positive(text: string | undefined): number | undefined {
  const n = Number(text);
  return text && Number.isFinite(n) && n > 0 ? n : undefined;
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
  #engine: Engine;

  /** Sets up the host and the state directory (nothing is touched until an operation runs). */
  constructor(options: RecordersOptions = {}) {
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    this.host = options.host ??
      (options.sim ? simHost({ root: options.simRoot, env }) : realHost());
    const registry = new Registry(defaultStateDir(options.stateDir, env, this.host));
    this.stateDir = registry.dir;
    this.#engine = {
      host: this.host,
      registry,
      env,
      idleMs: options.idleMs ?? positive(env("STAPFR_IDLE_MS")) ?? 2500,
      signalWaitMs: options.signalWaitMs ?? positive(env("STAPFR_SIGNAL_WAIT_MS")) ?? 3000,
      drainMaxMs: options.dumpMaxMs ?? positive(env("STAPFR_DUMP_MAX_MS")) ?? 30_000,
    };
  }

  /** Starts a recorder in the background; it is registered only once it records. */
  async start(options: StartOptions): Promise<RecorderDetail> {
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

  /** The last lines, then (with `follow`) new output. */
  async tail(name: string, sink: ByteSink, options?: TailOptions): Promise<ReadResult> {
    const { tailRecorder } = await import("./recorder/read.ts");
    return await tailRecorder(this.#engine, name, sink, options);
  }

  /** Ends a recording: what was buffered and the end-probe output go to `sink`; the entry is removed. */
  async stop(name: string, sink: ByteSink, options?: StopOptions): Promise<StopResult> {
    const { stopRecorder } = await import("./recorder/stop.ts");
    return await stopRecorder(this.#engine, name, sink, options);
  }

  /** Removes dead entries; with `unloadOrphans`, unloads `stap_` modules nobody registered. */
  async gc(options?: { unloadOrphans?: boolean }): Promise<GcResult> {
    const { collectGarbage } = await import("./recorder/gc.ts");
    return await collectGarbage(this.#engine, options);
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
