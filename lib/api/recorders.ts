/**
 * The recorder operations as a library: start, list, status, dump, attach, tail, stop, gc, check, snapshots,
 * plan, build, watch and trigger, over the real SystemTap or the simulator. They return data and write recorded
 * output to a sink or a stream; they print nothing and change nothing about the calling process (no signal
 * handlers, no umask, no environment). The command line is a thin layer over this.
 *
 * Every option is checked where it comes in ({@linkcode OptionTypeError}, {@linkcode OptionRangeError}, code
 * `invalid_option`); every failure is an error with a stable `code`; every long operation takes `signal`, and
 * those that run until told to stop take `until` (README "Cancellation").
 *
 * @example List the recorders of a (here empty) state directory on the simulator
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Recorders } from "./recorders.ts";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root, stateDir: `${root}/state` });
 * assertEquals((await recorders.list()).recorders, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 * @module
 */
import type { EnvLookup, Host } from "../host.ts";
import { setUp } from "../recorder/setup.ts";
import { declared } from "../declarations/declared.ts";
import { type Knobs, readKnobs } from "../knobs.ts";
import type { ScriptSource } from "../driver/launch.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { passingFileChunks } from "../read_path/file_chunks.ts";
import type { Engine, RecorderDetail } from "../recorder/engine.ts";
import type { ReadResult as EngineReadResult } from "../recorder/read.ts";
import type { ListResult } from "../recorder/inspect.ts";
import type { StopResult } from "../recorder/stop.ts";
import type { GcOptions, GcResult } from "../recorder/gc.ts";
import type { CheckReport } from "../recorder/check.ts";
import type { BuildOptions, BuildResult } from "../recorder/build.ts";
import type { Manifest } from "../snapshots/manifest.ts";
import type { Plan } from "../recorder/planner.ts";
import type { SnapshotShipping, WatchResult } from "../watch/watcher.ts";
import type { TriggerResult } from "../watch/trigger_request.ts";
import type { PruneResult, SnapshotSummary, VerifyResult } from "../snapshots/ops.ts";
import type { RetentionBounds } from "../units.ts";
import type { BrokenSnapshot, SnapshotStore } from "../snapshots/store.ts";
import { OptionTypeError, StapfrError, UsageError } from "../errors.ts";
import { operationError } from "../os_errors.ts";
import {
  booleanOption,
  functionOption,
  optionsObject,
  stringOption,
  stringsOption,
  TIMING_MS,
  wholeOption,
} from "../options.ts";
import {
  buildOptions,
  gcOptions,
  nameOption,
  planOptions,
  policiesOption,
  readOptions,
  type ReadRequest,
  retentionOption,
  scriptOption,
  signalOnly,
  snapshotOptions,
  startOptions,
  stopOptions,
  tailOptions,
  triggerOption,
} from "./check_options.ts";
import { cancellable, causedByAbort, eitherSignal } from "./cancel.ts";
import { type OpenSink, openSink, type Sink } from "./sink.ts";
import { RecorderStream } from "./read_stream.ts";
import type {
  PlanOptions,
  ReadOptions,
  ReadResult,
  SnapshotData,
  SnapshotOptions,
  StartedRecorder,
  StartOptions,
  StopOptions,
  TailOptions,
  WatchOptions,
} from "./types.ts";

export type * from "./types.ts";
export type { Sink } from "./sink.ts";
export { RecorderStream } from "./read_stream.ts";
export type { WatchTrigger } from "./check_options.ts";
export type { WatchEvent } from "../watch/events.ts";
export type { ScriptSource } from "../driver/launch.ts";
export type { ByteSink } from "../read_path/concat.ts";
export type { DamageReport } from "../read_path/clean_sink.ts";
export type { DamageReason } from "../read_path/clean.ts";
export type { FileInfo, RecorderDetail, RecorderInfo } from "../recorder/engine.ts";
export type { ListResult } from "../recorder/inspect.ts";
export type { Knob, Knobs, KnobTable, KnobUser } from "../knobs.ts";
export type { StopResult } from "../recorder/stop.ts";
export type { GcAction, GcOptions, GcResult } from "../recorder/gc.ts";
export type { ReaderInfo } from "../recorder/reader_records.ts";
export type { CheckFinding, CheckReport } from "../recorder/check.ts";
export type { BuildOptions, BuildResult } from "../recorder/build.ts";
export type { ModuleDescription } from "../recorder/module_description.ts";
export type { RecorderState } from "../state.ts";
export type { EnvLookup, Host } from "../host.ts";
export type { CorruptEntry } from "../registry.ts";
export type { RotateSpec } from "../units.ts";
export type { Manifest, SnapshotFile, SnapshotTrigger } from "../snapshots/manifest.ts";
export type { PruneResult, SnapshotSummary, VerifiedSnapshot, VerifyResult } from "../snapshots/ops.ts";
export type { RetentionBounds } from "../units.ts";
export type { Plan } from "../recorder/planner.ts";
export type { SnapshotShipping, WatchResult } from "../watch/watcher.ts";
export type { TriggerResult } from "../watch/trigger_request.ts";
export type { WatchState } from "../watcher_record.ts";
export type { Decision, Policies, Suppression } from "../watch/policy.ts";
export type { PressureExpr, TriggerSpec } from "../watch/spec.ts";
export type { Pattern } from "../watch/pattern.ts";
export type { BrokenSnapshot, StoredSnapshot } from "../snapshots/store.ts";
export type { ReadLogEntry } from "../recorder/read_log.ts";
export type { LossReport, MissingRecords } from "../recorder/loss.ts";
export type { SeqRange } from "../read_path/ledger.ts";

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
  /**
   * Environment lookup (default `Deno.env.get`, which needs `--allow-env`; `() => undefined` reads none and
   * takes every default).
   */
  env?: EnvLookup;
  /** The `STAPFR_*` knobs, already read (default: read from `env`; a bad one throws `invalid_environment`). */
  knobs?: Knobs;
  /** A memory dump ends after stapio was quiet this long, in milliseconds, 1 to 3600000 (default
   * `$STAPFR_IDLE_MS` or 2500, which covers stapio 4.8's hold of up to 2 s on the first record). */
  idleMs?: number;
  /** Wait before resending a signal stapio may have lost, in milliseconds, 1 to 3600000 (default
   * `$STAPFR_SIGNAL_WAIT_MS` or 3000). */
  signalWaitMs?: number;
  /** A memory dump reads for at most this long even under a live stream, in milliseconds, 1 to 3600000
   * (default `$STAPFR_DUMP_MAX_MS` or 30000). */
  dumpMaxMs?: number;
  /** The snapshot store (default `$STAPFR_STORE`, else `STATE_DIR/snapshots`). */
  store?: string;
}

/** The result of a read that `until` ended before it began: nothing attached, nothing read. */
function stoppedBefore(name: string, mode: "memory" | "file", raw: boolean): ReadResult {
  return {
    name,
    mode,
    damaged_lines: 0,
    damaged_bytes: 0,
    damage: { binary: 0, invalid_utf8: 0, stale: 0 },
    raw,
    bytes: 0,
    outcome: "stopped",
    closed: false,
    ended: false,
    missing_files: 0,
    beyond_capacity_bytes: 0,
    loss: null,
    loss_unknown: "the read was stopped before it began",
  };
}

/** The public view of an engine read: `until` is `stopped`, and the read log stays inside. */
function publicResult(r: EngineReadResult & { log?: unknown }, stopped: boolean): ReadResult {
  const { log: _log, ...rest } = r;
  return stopped || r.outcome === "aborted"
    ? { ...rest, outcome: "stopped", closed: false }
    : { ...rest, outcome: r.outcome as ReadResult["outcome"] };
}

/** The sink of a {@linkcode RecorderStream}: it copies each chunk itself, and the stream closes on its own. */
function streamSink(sink: ByteSink): OpenSink {
  return { write: sink, close: () => Promise.resolve(), abort: () => Promise.resolve() };
}

/**
 * The flight recorders of one state directory on one host.
 *
 * @example Start, dump, tail, snapshot and stop a memory recorder on the simulator
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * import { Recorders } from "./recorders.ts";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root, idleMs: 800 });
 * await recorders.start({ name: "io", script: { text: 'probe timer.ms(10) { printf("tick\\n") }' } });
 * await new Promise((resolve) => setTimeout(resolve, 1000));
 * const chunks: Uint8Array[] = [];
 * const dumped = await recorders.dump("io", (chunk) => void chunks.push(chunk)); // each chunk is yours to keep
 * assertEquals(chunks.reduce((n, c) => n + c.length, 0), dumped.bytes);
 * const last = await recorders.tail("io", () => {}, { lines: 3 });
 * assertEquals(last.mode, "memory");
 * const { manifest } = await recorders.snapshot("io", { reason: "an example" });
 * assertEquals((await recorders.snapshotData(manifest.id, () => {})).bytes, manifest.bytes);
 * const stopped = await recorders.stop("io"); // what was still buffered is discarded without a sink
 * assert(stopped.stopped);
 * await Deno.remove(root, { recursive: true });
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

  /**
   * Sets up the host and the state directory (nothing is touched until an operation runs). Reads the
   * `STAPFR_*` settings through `env`: without `--allow-env` (and no `env` of your own) it throws `permission`.
   */
  constructor(options: RecordersOptions = {}) {
    const o = optionsObject(options);
    const sim = booleanOption(o.sim, "sim");
    const simRoot = stringOption(o.simRoot, "simRoot", { nonEmpty: true });
    const stateDir = stringOption(o.stateDir, "stateDir", { nonEmpty: true });
    const store = stringOption(o.store, "store", { nonEmpty: true });
    const given = functionOption(o.env, "env");
    const timing = {
      idleMs: wholeOption(o.idleMs, "idleMs", TIMING_MS),
      signalWaitMs: wholeOption(o.signalWaitMs, "signalWaitMs", TIMING_MS),
      dumpMaxMs: wholeOption(o.dumpMaxMs, "dumpMaxMs", TIMING_MS),
    };
    try {
      const env = given ?? ((name: string) => Deno.env.get(name));
      const set = setUp({
        sim,
        simRoot,
        host: o.host,
        stateDir,
        store,
        env,
        knobs: o.knobs ?? readKnobs(env),
        ...timing,
      });
      this.host = set.engine.host;
      this.stateDir = set.stateDir;
      this.storeDir = set.storeDir;
      this.#engine = set.engine;
    } catch (err) {
      throw operationError("set up Recorders", err);
    }
  }

  /** Runs an operation; an OS error that reaches here unwrapped is said with the operation (lib/os_errors.ts). */
  async #op<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw operationError(operation, err);
    }
  }

  /**
   * Starts a recorder in the background; it is registered (and listed) only once it records. The result is the
   * recorder in detail; with `stopOnDispose`, `await using` stops it on every way out.
   *
   * @example A recorder that lives as long as a block (on the simulator)
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * const recorders = new Recorders({ sim: true, simRoot: root });
   * try {
   *   await using recorder = await recorders.start({
   *     name: "io",
   *     script: { text: 'probe timer.ms(10) { printf("tick\\n") }' },
   *     stopOnDispose: true,
   *   });
   *   assertEquals([recorder.state, recorder.module], ["recording", "stap_fr_io"]);
   *   throw new Error("something fails here");
   * } catch {
   *   // It was stopped on the way out.
   * }
   * assertEquals((await recorders.list()).recorders, []);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async start(options: StartOptions): Promise<StartedRecorder> {
    return await this.#op(`start "${(options as { name?: unknown })?.name}"`, async () => {
      const { stopOnDispose, ...request } = startOptions(options, this.host.kind);
      const { startRecorder } = await import("../recorder/start.ts");
      const detail = await cancellable(request.signal, () => startRecorder(this.#engine, request));
      // Not enumerable: a JSON document or a spread of the detail stays plain data.
      Object.defineProperty(detail, Symbol.asyncDispose, {
        value: async () => {
          if (!stopOnDispose) return;
          // Stopped already (by the program, or by its script's exit and a gc): nothing left to do.
          await this.stop(request.name, undefined, { discard: true }).catch((err) => {
            if (!(err instanceof StapfrError && err.code === "not_found")) throw err;
          });
        },
        enumerable: false,
      });
      return detail as StartedRecorder;
    });
  }

  /**
   * Every recorder of this host, reconciled with what is loaded and alive, plus orphan modules (a recorder
   * being started is listed once it records).
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * assertEquals((await new Recorders({ sim: true, simRoot: root }).list()).recorders, []);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async list(): Promise<ListResult> {
    return await this.#op("list recorders", async () => {
      const { listRecorders } = await import("../recorder/inspect.ts");
      // The listing may not wait on anything (it reads its small files synchronously, for the command line's
      // start-up): a program that polls list() in a loop must still let its other work and its signal listeners
      // run. One asynchronous stat lets the event loop turn; a 0 ms timer would too, but takes 2 ms here (7 ms
      // the first time in a process).
      await Deno.lstat(this.#engine.registry.dir).catch(() => {});
      return await listRecorders(this.#engine);
    });
  }

  /**
   * One recorder in detail.
   *
   * @example A recorder that is not there: `not_found`
   * ```ts
   * import { assertEquals, assertRejects } from "@std/assert";
   * import { StapfrError } from "../errors.ts";
   * const root = await Deno.makeTempDir();
   * const err = await assertRejects(() => new Recorders({ sim: true, simRoot: root }).status("web"), StapfrError);
   * assertEquals((err as StapfrError).code, "not_found");
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async status(name: string): Promise<RecorderDetail> {
    const n = nameOption(name);
    return await this.#op(`status "${n}"`, async () => {
      const { recorderStatus } = await import("../recorder/inspect.ts");
      return await recorderStatus(this.#engine, n);
    });
  }

  /**
   * One read under the library's rules: options checked, `signal` rejects (after the reader detached), `until`
   * resolves with `outcome: "stopped"`, before the call as during it; the sink gets copies, and a stream sink
   * is closed at the end (aborted on a failure). `cancelled` is a stream's consumer going away.
   */
  async #read(
    command: "dump" | "attach" | "tail",
    name: string,
    out: OpenSink,
    o: ReadRequest,
    run: (sink: ByteSink, signal: AbortSignal | undefined) => Promise<EngineReadResult>,
    cancelled?: AbortSignal,
  ): Promise<ReadResult> {
    const stop = eitherSignal(o.signal, o.until, cancelled);
    try {
      const result = await this.#op(`${command} "${name}"`, async () => {
        o.signal?.throwIfAborted();
        const { getRecord } = await import("../recorder/engine.ts");
        const record = await getRecord(this.#engine, name);
        if (o.until?.aborted || cancelled?.aborted) {
          const r = stoppedBefore(name, record.mode, o.raw ?? false);
          return cancelled?.aborted && !o.until?.aborted
            ? { ...r, outcome: "closed" as const, closed: true }
            : r;
        }
        // A file read does not look at the signal while it copies: it ends at the next chunk instead.
        const sink: ByteSink = record.mode === "file"
          ? passingFileChunks(out.write, (chunk, more) => {
            if (stop?.aborted) throw new Deno.errors.BrokenPipe("stopped");
            return out.write(chunk, more);
          })
          : out.write;
        let r: EngineReadResult;
        try {
          r = await run(sink, stop);
        } catch (err) {
          if (!stop?.aborted || !causedByAbort(err, stop)) throw err;
          // Stopped (or cancelled) before it attached: as if stopped before the call.
          r = stoppedBefore(name, record.mode, o.raw ?? false) as EngineReadResult;
        }
        o.signal?.throwIfAborted();
        if (cancelled?.aborted && !o.until?.aborted) {
          return { ...publicResult(r, false), outcome: "closed", closed: true };
        }
        return publicResult(r, o.until?.aborted ?? false);
      });
      await out.close();
      return result as ReadResult;
    } catch (err) {
      await out.abort(err);
      throw err;
    }
  }

  /**
   * Everything the recorder holds, once, to `sink`; the recording goes on. A memory dump attaches, reads until
   * it caught up, and detaches (reading drains the ring); a file dump reads the files oldest to newest.
   *
   * @example Dump into a file's stream (closed at the end)
   * ```ts ignore
   * const file = await Deno.open("io.txt", { write: true, createNew: true });
   * const result = await recorders.dump("io", file.writable);
   * console.log(result.bytes, result.loss?.missing.total);
   * ```
   */
  async dump(name: string, sink: Sink, options?: ReadOptions): Promise<ReadResult> {
    const n = nameOption(name);
    const o = readOptions(options);
    const out = openSink(sink);
    return await this.#dump(n, out, o);
  }

  async #dump(name: string, out: OpenSink, o: ReadRequest, cancelled?: AbortSignal): Promise<ReadResult> {
    const { dumpRecorder } = await import("../recorder/read.ts");
    return await this.#read("dump", name, out, o, (sink, signal) =>
      dumpRecorder(this.#engine, name, sink, {
        signal,
        onDiagnostic: o.onDiagnostic,
        raw: o.raw,
        command: o.command ?? "dump",
      }), cancelled);
  }

  /**
   * {@linkcode dump} as a stream: see {@linkcode RecorderStream}. Options are checked here, synchronously.
   *
   * @example
   * ```ts ignore
   * const dump = recorders.dumpStream("io");
   * await dump.readable.pipeThrough(new TextDecoderStream()).pipeTo(somewhereForText);
   * console.log((await dump.result).loss);
   * ```
   */
  dumpStream(name: string, options?: ReadOptions): RecorderStream<ReadResult> {
    const n = nameOption(name);
    const o = readOptions(options);
    return new RecorderStream((sink, cancelled) => this.#dump(n, streamSink(sink), o, cancelled));
  }

  /**
   * Live output to `sink` until `until` aborts (then detach), the consumer goes away, or the recording ends.
   *
   * @example Ten seconds of live output
   * ```ts ignore
   * const result = await recorders.attach("io", Deno.stdout.writable, { until: AbortSignal.timeout(10_000) });
   * console.error(result.outcome); // "stopped"
   * ```
   */
  async attach(name: string, sink: Sink, options?: ReadOptions): Promise<ReadResult> {
    const n = nameOption(name);
    const o = readOptions(options);
    return await this.#attach(n, openSink(sink), o);
  }

  async #attach(name: string, out: OpenSink, o: ReadRequest, cancelled?: AbortSignal): Promise<ReadResult> {
    const { attachRecorder } = await import("../recorder/read.ts");
    return await this.#read(
      "attach",
      name,
      out,
      o,
      (sink, signal) =>
        attachRecorder(this.#engine, name, sink, {
          signal,
          onDiagnostic: o.onDiagnostic,
          raw: o.raw,
          command: o.command ?? "attach",
        }),
      cancelled,
    );
  }

  /**
   * {@linkcode attach} as a stream: live output until the stream is cancelled, `until` aborts, or the recording
   * ends.
   *
   * @example
   * ```ts ignore
   * await using live = recorders.attachStream("io");
   * for await (const text of live.readable.pipeThrough(new TextDecoderStream())) {
   *   if (text.includes("ERROR")) break; // leaving the loop cancels the stream: the reader detaches
   * }
   * ```
   */
  attachStream(name: string, options?: ReadOptions): RecorderStream<ReadResult> {
    const n = nameOption(name);
    const o = readOptions(options);
    return new RecorderStream((sink, cancelled) => this.#attach(n, streamSink(sink), o, cancelled));
  }

  /**
   * The last lines, then (with `follow`) new output until `until` aborts. No lines of a memory recorder is an
   * `invalid_option` error: reading drains its ring, so it would throw away everything the ring held and
   * print nothing.
   *
   * @example The last 20 lines, then new output for a minute
   * ```ts ignore
   * await recorders.tail("io", (chunk) => void process(chunk), { lines: 20, follow: true, until: AbortSignal.timeout(60_000) });
   * ```
   */
  async tail(name: string, sink: Sink, options?: TailOptions): Promise<ReadResult> {
    const n = nameOption(name);
    const o = tailOptions(options);
    return await this.#tail(n, openSink(sink), o);
  }

  async #tail(
    name: string,
    out: OpenSink,
    o: ReadRequest & { lines: number; follow?: boolean },
    cancelled?: AbortSignal,
  ): Promise<ReadResult> {
    if (o.lines === 0) {
      const { getRecord } = await import("../recorder/engine.ts");
      if ((await getRecord(this.#engine, name)).mode === "memory") {
        throw new UsageError(
          `Refusing no lines ("-n 0", lines: 0) of memory recorder "${name}": reading drains its ring, so it ` +
            `would discard everything the ring holds and print nothing`,
        );
      }
    }
    const { tailRecorder } = await import("../recorder/read.ts");
    return await this.#read("tail", name, out, o, (sink, signal) =>
      tailRecorder(this.#engine, name, sink, {
        signal,
        onDiagnostic: o.onDiagnostic,
        raw: o.raw,
        command: o.command ?? "tail",
        lines: o.lines,
        follow: o.follow,
      }), cancelled);
  }

  /**
   * {@linkcode tail} as a stream.
   *
   * @example
   * ```ts ignore
   * const text = await new Response(recorders.tailStream("io", { lines: 5 }).readable).text();
   * ```
   */
  tailStream(name: string, options?: TailOptions): RecorderStream<ReadResult> {
    const n = nameOption(name);
    const o = tailOptions(options);
    return new RecorderStream((sink, cancelled) => this.#tail(n, streamSink(sink), o, cancelled));
  }

  /**
   * Ends a recording: what was buffered and the end-probe output go to `sink` (discarded without one); the
   * entry is removed. Aborting `signal` while a memory recorder is drained detaches instead: the recorder
   * keeps recording, and the call rejects with `signal.reason`.
   *
   * @example Keep the last output and the end probes' in a file; or discard it
   * ```ts ignore
   * const file = await Deno.open("io.last.txt", { write: true, createNew: true });
   * await recorders.stop("io", file.writable);
   * await recorders.stop("other", undefined, { discard: true });
   * ```
   */
  async stop(name: string, sink?: Sink, options?: StopOptions): Promise<StopResult> {
    const n = nameOption(name);
    const o = stopOptions(options);
    const out = openSink(sink);
    try {
      const result = await this.#op(`stop "${n}"`, async () => {
        const { stopRecorder } = await import("../recorder/stop.ts");
        return await cancellable(o.signal, () => stopRecorder(this.#engine, n, out.write, o));
      });
      await out.close();
      return result;
    } catch (err) {
      await out.abort(err);
      throw err;
    }
  }

  /**
   * Removes dead entries; with `unloadOrphans`, unloads `stap_` modules nobody registered (those that look like
   * stapfr recorders only with `yes`: without it, gc throws `GcConfirmationNeeded` and changes nothing).
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * assertEquals((await new Recorders({ sim: true, simRoot: root }).gc()).actions, []);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async gc(options?: GcOptions): Promise<GcResult> {
    const o = gcOptions(options);
    return await this.#op("gc", async () => {
      const { collectGarbage } = await import("../recorder/gc.ts");
      const result = await collectGarbage(this.#engine, o);
      // What interrupted snapshots left in the store; a store stapfr may not use is said, not a failure of gc.
      try {
        for (const path of await (await this.#store()).collectPartials()) {
          result.actions.push({
            name: path,
            action: "removed",
            detail: "remains of an interrupted snapshot",
          });
        }
      } catch (err) {
        if (!(err instanceof StapfrError)) throw err;
        result.actions.push({ name: this.storeDir, action: "kept", detail: err.message });
      }
      return result;
    });
  }

  /**
   * Captures the recorder's current window into the snapshot store (memory: a drain, as `dump`; file mode: a
   * cut of its files) with a manifest; the recording goes on. The recorder's retention bounds apply after.
   *
   * @example
   * ```ts ignore
   * const { manifest, path } = await recorders.snapshot("io", { reason: "p99 spike" });
   * console.log(manifest.id, manifest.loss?.missing.total, path);
   * ```
   */
  async snapshot(name: string, options?: SnapshotOptions): Promise<SnapshotTaken> {
    const n = nameOption(name);
    const o = snapshotOptions(options);
    const trigger = (options as SnapshotOptions | undefined)?.trigger;
    if (trigger !== undefined) {
      const t = optionsObject(trigger, "trigger");
      stringOption(t.kind, "trigger.kind", { required: true, nonEmpty: true });
      if (t.detail !== null) stringOption(t.detail, "trigger.detail", { required: true });
    }
    return await this.#op(`snapshot "${n}"`, async () => {
      const { takeSnapshot, summarize } = await import("../snapshots/ops.ts");
      const store = await this.#store();
      const { snapshot, pruned } = await cancellable(
        o.signal,
        () => takeSnapshot(this.#engine, store, n, { ...o, ...(trigger ? { trigger: { ...trigger } } : {}) }),
      );
      return { manifest: snapshot.manifest, path: snapshot.path, pruned, summary: summarize(snapshot) };
    });
  }

  /**
   * The snapshots in the store (of one recorder, or all), oldest first, and directories that are broken.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * assertEquals(await new Recorders({ sim: true, simRoot: root }).snapshots("io"), { snapshots: [], broken: [] });
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async snapshots(name?: string): Promise<{ snapshots: SnapshotSummary[]; broken: BrokenSnapshot[] }> {
    const n = name === undefined ? undefined : nameOption(name);
    return await this.#op("list snapshots", async () => {
      const { listSnapshots } = await import("../snapshots/ops.ts");
      return await listSnapshots(await this.#store(), n);
    });
  }

  /**
   * Reads every data file of the snapshots given (`ID` or `NAME/ID`), or of the whole store, and checks its
   * size and SHA-256 against the manifest.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * assertEquals((await new Recorders({ sim: true, simRoot: root }).verifySnapshots()).ok, true);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async verifySnapshots(
    refs: readonly string[] = [],
    options?: { signal?: AbortSignal },
  ): Promise<VerifyResult> {
    const given = stringsOption(refs, "refs") ?? [];
    const { signal } = signalOnly(options);
    return await this.#op("verify snapshots", async () => {
      const { verifySnapshots } = await import("../snapshots/ops.ts");
      const store = await this.#store();
      return await cancellable(signal, () => verifySnapshots(store, given, signal));
    });
  }

  /**
   * One snapshot's manifest, by `ID` or `NAME/ID`.
   *
   * @example
   * ```ts ignore
   * const { manifest } = await recorders.snapshotManifest("io/20261201T051200Z-001");
   * console.log(manifest.reason, manifest.bytes, manifest.contiguous);
   * ```
   */
  async snapshotManifest(ref: string): Promise<{ manifest: Manifest; path: string }> {
    const r = stringOption(ref, "ref", { required: true, what: "a snapshot ID or NAME/ID" })!;
    return await this.#op(`show snapshot "${r}"`, async () => await (await this.#store()).find(r));
  }

  /**
   * One snapshot's data as one ordered stream to `sink` (bulk files merged as `dump` does), checked against its
   * manifest as it goes.
   *
   * @example
   * ```ts ignore
   * const file = await Deno.open("snapshot.txt", { write: true, createNew: true });
   * await recorders.snapshotData("io/20261201T051200Z-001", file.writable);
   * ```
   */
  async snapshotData(ref: string, sink: Sink, options?: { signal?: AbortSignal }): Promise<SnapshotData> {
    const r = stringOption(ref, "ref", { required: true, what: "a snapshot ID or NAME/ID" })!;
    const { signal } = signalOnly(options);
    return await this.#snapshotData(r, openSink(sink), signal);
  }

  async #snapshotData(
    ref: string,
    out: OpenSink,
    signal?: AbortSignal,
    cancelled?: AbortSignal,
  ): Promise<SnapshotData> {
    try {
      const result = await this.#op(`read snapshot "${ref}"`, () =>
        cancellable(signal, async () => {
          const { snapshotData } = await import("../snapshots/ops.ts");
          const store = await this.#store();
          const manifest = (await store.find(ref)).manifest;
          let written = 0;
          const sink: ByteSink = async (chunk) => {
            signal?.throwIfAborted();
            if (cancelled?.aborted) throw new Deno.errors.BrokenPipe("The stream's consumer cancelled it");
            await out.write(chunk);
            written += chunk.length;
            // Aborted while the consumer took this chunk: stop here rather than after the next one.
            signal?.throwIfAborted();
          };
          try {
            const { bytes } = await snapshotData(store, ref, sink);
            return { manifest, bytes, closed: false };
          } catch (err) {
            // The stream's consumer went away: what it took is what the read delivered.
            if (cancelled?.aborted && err instanceof Deno.errors.BrokenPipe) {
              return { manifest, bytes: written, closed: true };
            }
            throw err;
          }
        }));
      await out.close();
      return result;
    } catch (err) {
      await out.abort(err);
      throw err;
    }
  }

  /**
   * {@linkcode snapshotData} as a stream.
   *
   * @example
   * ```ts ignore
   * await using data = recorders.snapshotDataStream("io/20261201T051200Z-001");
   * for await (const text of data.readable.pipeThrough(new TextDecoderStream())) console.log(text);
   * ```
   */
  snapshotDataStream(ref: string, options?: { signal?: AbortSignal }): RecorderStream<SnapshotData> {
    const r = stringOption(ref, "ref", { required: true, what: "a snapshot ID or NAME/ID" })!;
    const { signal } = signalOnly(options);
    return new RecorderStream((sink, cancelled) =>
      this.#snapshotData(r, streamSink(sink), signal, cancelled)
    );
  }

  /**
   * Deletes the oldest snapshots until every bound holds (per recorder); `dryRun` only says which.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * const pruned = await new Recorders({ sim: true, simRoot: root }).pruneSnapshots({ keep: 20 }, { dryRun: true });
   * assertEquals(pruned.removed, []);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async pruneSnapshots(
    bounds: RetentionBounds,
    options?: { name?: string; dryRun?: boolean },
  ): Promise<PruneResult> {
    const b = retentionOption(bounds, "bounds", true);
    if (!b || Object.keys(b).length === 0) {
      throw new UsageError('Give at least one bound: "keep", "maxAgeMs" or "maxSize"');
    }
    const o = optionsObject(options);
    const name = o.name === undefined ? undefined : nameOption(o.name);
    const dryRun = booleanOption(o.dryRun, "dryRun");
    return await this.#op("prune snapshots", async () => {
      const { pruneSnapshots } = await import("../snapshots/ops.ts");
      return await pruneSnapshots(await this.#store(), b, { name, dryRun });
    });
  }

  /**
   * Watches the recorder and its triggers until `until` aborts (or the recorder ends), taking snapshots by the
   * policies; reports each event as data (`onEvent`) and as a log line (`log`). `signal` cancels it: it stops
   * as with `until` (without a service stop) and rejects with the reason.
   *
   * @example Watch in-process, and trigger it from the same program
   * ```ts ignore
   * const until = new AbortController();
   * const watching = recorders.watch({
   *   name: "io",
   *   triggers: [{ kind: "signal" }],
   *   policies: { cooldownMs: 60_000 },
   *   until: until.signal,
   *   onEvent: (event) => console.log(JSON.stringify(event)),
   * });
   * await recorders.trigger("io", { reason: "checkout failed" });
   * until.abort();
   * const { snapshots } = await watching;
   * ```
   */
  async watch(options: WatchOptions): Promise<WatchResult> {
    const o = optionsObject(options);
    const name = nameOption(o.name);
    if (!Array.isArray(o.triggers)) {
      throw new OptionTypeError("triggers", 'Invalid option "triggers": expected an array of triggers');
    }
    const patterns = o.triggers.some((t) => typeof (t as { pattern?: unknown })?.pattern === "string")
      ? (await import("../watch/pattern.ts")).compilePattern
      : () => {
        throw new Error("no pattern to compile");
      };
    const triggers = o.triggers.map((t, i) => triggerOption(t, `triggers[${i}]`, patterns));
    const watch = {
      name,
      triggers,
      policies: policiesOption(o.policies),
      retention: retentionOption(o.retention, "retention"),
      switchEveryMs: wholeOption(o.switchEveryMs, "switchEveryMs", {
        ...declared("watch", "switch-every"),
        unit: "milliseconds",
      }),
      service: booleanOption(o.service, "service"),
      until: signalOnly({ signal: o.until }).signal,
      signal: signalOnly(o).signal,
      log: functionOption(o.log, "log"),
      onEvent: functionOption(o.onEvent, "onEvent"),
      ship: o.ship as SnapshotShipping | undefined,
      pollMs: wholeOption(o.pollMs, "pollMs", { ...declared("watch", "interval"), unit: "milliseconds" }),
    };
    const out = openSink(o.out as Sink | undefined, "out");
    return await this.#op(`watch "${name}"`, () =>
      cancellable(watch.signal, async () => {
        const { runWatcher } = await import("../watch/watcher.ts");
        const result = await runWatcher(this.#engine, await this.#store(), { ...watch, out: out.write });
        watch.signal?.throwIfAborted();
        await out.close();
        return result;
      }));
  }

  /**
   * Fires the signal trigger of the recorder's watcher (over its socket: no signal is sent to any process), or
   * takes a plain snapshot when none runs.
   *
   * @example
   * ```ts ignore
   * const { decision, snapshot } = await recorders.trigger("io", { reason: "checkout failed" });
   * console.log(decision ?? `a plain snapshot: ${snapshot?.id}`);
   * ```
   */
  async trigger(name: string, options?: { reason?: string; signal?: AbortSignal }): Promise<TriggerResult> {
    const n = nameOption(name);
    const o = snapshotOptions(options);
    return await this.#op(`trigger "${n}"`, async () => {
      const { fireTrigger } = await import("../watch/trigger_request.ts");
      const store = await this.#store();
      return await cancellable(
        o.signal,
        () => fireTrigger(this.#engine, store, n, { reason: o.reason, signal: o.signal }),
      );
    });
  }

  async #store(): Promise<SnapshotStore> {
    const { SnapshotStore } = await import("../snapshots/store.ts");
    return new SnapshotStore(this.storeDir);
  }

  /**
   * Runs the script briefly as a temporary bulk file recorder, measures its output rate per CPU and
   * recommends `buffer` and `rotate` for the window; everything it started is stopped and removed. `until`
   * ends the measurement early (the plan uses what was measured).
   *
   * @example
   * ```ts ignore
   * const plan = await recorders.plan({ script: { file: "io.stp" }, windowMs: 10 * 60_000 });
   * console.log(plan.buffer?.flag, plan.rotate?.flag);
   * ```
   */
  async plan(options: PlanOptions): Promise<Plan & { measured_seconds: number }> {
    const o = planOptions(options);
    return await this.#op("plan", async () => {
      const { planRecorder } = await import("../recorder/plan.ts");
      return await cancellable(o.signal, () => planRecorder(this.#engine, o));
    });
  }

  /**
   * Compiles a recorder's module for a kernel (`stap -p4 -r`) and writes `stap_fr_NAME.ko` and its JSON
   * description into `outDir`; {@linkcode Recorders.start} with `module` starts it where only staprun is.
   *
   * @example
   * ```ts ignore
   * const built = await recorders.build({ name: "io", script: { file: "io.stp" }, kernel: "6.1.0-57-amd64", outDir: "mods" });
   * console.log(built.module_path); // mods/stap_fr_io.ko
   * ```
   */
  async build(options: BuildOptions): Promise<BuildResult> {
    const o = buildOptions(options);
    return await this.#op(`build "${o.name}"`, async () => {
      const { buildModule } = await import("../recorder/build.ts");
      return await cancellable(o.signal, () => buildModule(this.#engine, o));
    });
  }

  /**
   * Validates a script without loading anything.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * const root = await Deno.makeTempDir();
   * const report = await new Recorders({ sim: true, simRoot: root }).check({ text: "probe begin { exit() }" });
   * assertEquals([report.ok, report.checker], [true, "sim"]);
   * await Deno.remove(root, { recursive: true });
   * ```
   */
  async check(script: ScriptSource, options?: { signal?: AbortSignal }): Promise<CheckReport> {
    const s = scriptOption(script);
    const { signal } = signalOnly(options);
    return await this.#op("check", async () => {
      const { checkRecorderScript } = await import("../recorder/check.ts");
      return await cancellable(signal, () => checkRecorderScript(this.#engine, s, signal));
    });
  }
}
