/**
 * Reading a recorder without ending it: `dump` (memory: attach, drain until idle, detach with SIGQUIT; file:
 * the files oldest to newest), `attach` (live until interrupted, then detach) and `tail` (last lines, then
 * follow). A memory reader never stays attached: attaching turns the ring's overwrite off.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { listModules, moduleState, processAlive } from "../driver/kernel.ts";
import { AttachSession, type WaitOutcome } from "../driver/session.ts";
import { sleep } from "../driver/run.ts";
import type { ByteSink } from "../readers/concat.ts";
import { copyFiles } from "../readers/concat.ts";
import { listRunFiles, streamsOf } from "../readers/files.ts";
import { followRun } from "../readers/follow.ts";
import { mergeStreams } from "../readers/merge.ts";
import { LineKeeper, tailBulk, tailFiles } from "../readers/tail.ts";
import type { RecorderRecord } from "../registry.ts";
import { capacityOf, type Engine, getRecord, stateOf } from "./engine.ts";
import { type Drain, logDrain } from "../snapshots/drains.ts";

/** What a read delivered. */
export interface ReadResult {
  /** The recorder. */
  name: string;
  /** Its mode. */
  mode: "memory" | "file";
  /** Bytes passed to the sink. */
  bytes: number;
  /** Memory mode: why reading stopped (`idle`, `closed` pipe, `aborted`, `full`, `exited`, …). */
  outcome: WaitOutcome | "done";
  /** The consumer closed its end (e.g. `dump | head`): the rest was read and discarded, the recorder goes on. */
  closed: boolean;
  /** The recording ended while we read (its script had called exit(); the module unloaded itself). */
  ended: boolean;
  /** File mode: files that were rotated away before they could be read. */
  missing_files: number;
  /** Bulk mode: sequence numbers missing in what was read (overwritten or dropped records). */
  gaps: number;
}

/** Options of the read operations. */
export interface ReadOptions {
  /** Aborting it ends the read (a memory reader detaches). */
  signal?: AbortSignal;
  /** Receives stapio's diagnostic lines (module warnings and errors). */
  onDiagnostic?: (line: string) => void;
  /**
   * Who drains a memory ring, for its drain log (default: the operation's own name). A snapshot logs its
   * drain itself, once it has an ID.
   */
  drainedBy?: Drain["by"];
}

/** Wraps a sink so that a closed pipe is remembered instead of thrown. */
function guarded(sink: ByteSink): { sink: ByteSink; closed: () => boolean; bytes: () => number } {
  let closed = false;
  let bytes = 0;
  return {
    sink: async (chunk) => {
      if (closed) return;
      try {
        await sink(chunk);
        bytes += chunk.length;
      } catch (err) {
        if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
        closed = true;
      }
    },
    closed: () => closed,
    bytes: () => bytes,
  };
}

async function requireLoaded(engine: Engine, record: RecorderRecord): Promise<void> {
  const state = await moduleState(engine.host.procRoot, record.module);
  if (state === "absent") {
    throw new StapfrError(
      `Recorder "${record.name}" is not running: module "${record.module}" is not loaded`,
      { hint: 'Its buffered output is gone with it; "stapfr gc" removes the recorder' },
    );
  }
  if (state === "attached") {
    throw new StapfrError(
      `Recorder "${record.name}" is already attached by another reader (module "${record.module}" is in use)`,
      { hint: "Only one reader at a time: wait for the other dump, attach or staprun -A to finish" },
    );
  }
}

async function markEnded(engine: Engine, record: RecorderRecord): Promise<void> {
  if ((await moduleState(engine.host.procRoot, record.module)) === "absent") {
    await engine.registry.put({ ...record, endedAt: new Date().toISOString() });
  }
}

/** Attaches, calls `during` while attached, then detaches (never unloads unless the module exits itself). */
async function withSession(
  engine: Engine,
  record: RecorderRecord,
  sink: ByteSink,
  options: ReadOptions,
  during: (session: AttachSession) => Promise<WaitOutcome>,
): Promise<{ outcome: WaitOutcome; ended: boolean; closed: boolean; bytes: number }> {
  await requireLoaded(engine, record);
  const out = guarded(sink);
  const session = AttachSession.open({
    host: engine.host,
    module: record.module,
    recorder: record.name,
    sink: async (chunk) => {
      await out.sink(chunk);
      if (out.closed()) throw new Deno.errors.BrokenPipe("closed");
    },
    onDiagnostic: options.onDiagnostic,
    signalWaitMs: engine.signalWaitMs,
  });
  let outcome: WaitOutcome;
  try {
    outcome = await during(session);
  } catch (err) {
    await session.detach().catch(() => {});
    throw err;
  }
  let ended = outcome === "exited";
  if (!ended) {
    await session.detach();
    await session.throwIfFailed();
    // The module may have asked to exit as we attached (its script had exited while detached).
    ended = (await moduleState(engine.host.procRoot, record.module)) === "absent";
  }
  await session.done;
  // The module drops its reader count when the control channel closes; give that a moment to show in
  // /proc/modules, so that the next command does not see this reader as "already attached".
  for (let i = 0; i < 40 && !ended; i++) {
    if ((await moduleState(engine.host.procRoot, record.module)) !== "attached") break;
    await sleep(25);
  }
  if (ended) await markEnded(engine, record);
  const by = options.drainedBy ?? "dump";
  if (by !== "snapshot") {
    await logDrain(engine.registry, record.name, {
      at: new Date().toISOString(),
      bytes: session.bytes,
      by,
      run: record.startedAt,
    });
  }
  return { outcome, ended, closed: out.closed(), bytes: out.bytes() };
}

/** Copies a file recorder's files, oldest to newest (merged by sequence number in bulk mode). */
async function dumpFiles(record: RecorderRecord, sink: ByteSink): Promise<ReadResult> {
  const out = guarded(sink);
  const files = await listRunFiles(record.output!.runDir, record.output!.base);
  let missing = 0;
  let gaps = 0;
  if (record.output!.bulk) gaps = (await mergeStreams(streamsOf(files), out.sink)).gaps;
  else missing = (await copyFiles(files, out.sink)).missing;
  return {
    name: record.name,
    mode: "file",
    bytes: out.bytes(),
    outcome: "done",
    closed: out.closed(),
    ended: false,
    missing_files: missing,
    gaps,
  };
}

/** `dump`: everything the recorder holds, once; the recording goes on. */
export async function dumpRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  if (record.mode === "file") return await dumpFiles(record, sink);
  const maxBytes = await capacityOf(engine, record);
  const r = await withSession(
    engine,
    record,
    sink,
    options,
    (s) => s.waitIdle({ idleMs: engine.idleMs, maxBytes, signal: options.signal }),
  );
  return { name, mode: "memory", ...r, missing_files: 0, gaps: 0 };
}

/** `attach`: live output until `signal` aborts (then detach with SIGQUIT) or the recording ends. */
export async function attachRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  if (record.mode === "file") return await followFile(engine, record, sink, 0, options);
  const r = await withSession(
    engine,
    record,
    sink,
    { drainedBy: "attach", ...options },
    (s) => s.waitExit(options.signal),
  );
  return { name, mode: "memory", ...r, missing_files: 0, gaps: 0 };
}

async function followFile(
  engine: Engine,
  record: RecorderRecord,
  sink: ByteSink,
  before: number,
  options: ReadOptions,
): Promise<ReadResult> {
  const out = guarded(sink);
  await followRun({
    runDir: record.output!.runDir,
    base: record.output!.base,
    bulk: record.output!.bulk,
    sink: async (chunk) => {
      await out.sink(chunk);
      if (out.closed()) throw new Deno.errors.BrokenPipe("closed");
    },
    signal: options.signal,
    isRecording: async () =>
      (await processAlive(record.pid ?? undefined, record.pidStart ?? undefined)) &&
      (await stateOf(record, await listModules(engine.host.procRoot))) === "recording",
  }).catch((err) => {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  });
  return {
    name: record.name,
    mode: "file",
    bytes: before + out.bytes(),
    outcome: options.signal?.aborted ? "aborted" : out.closed() ? "closed" : "done",
    closed: out.closed(),
    ended: false,
    missing_files: 0,
    gaps: 0,
  };
}

/** Options of {@linkcode tailRecorder}. */
export interface TailOptions extends ReadOptions {
  /** How many lines (default 10). */
  lines?: number;
  /** Keep printing new output (across rotations in file mode) until `signal` aborts. */
  follow?: boolean;
}

/**
 * `tail`: the last lines, then (with `follow`) new output. On a memory recorder this drains the ring like
 * `dump` does (what it read is consumed) and prints the last lines of it.
 */
export async function tailRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: TailOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  const n = options.lines ?? 10;
  const encoder = new TextEncoder();
  if (record.mode === "file") {
    const files = await listRunFiles(record.output!.runDir, record.output!.base);
    const text = record.output!.bulk ? await tailBulk(streamsOf(files), n) : await tailFiles(files, n);
    const out = guarded(sink);
    await out.sink(encoder.encode(text));
    if (!options.follow || out.closed()) {
      return {
        name,
        mode: "file",
        bytes: out.bytes(),
        outcome: out.closed() ? "closed" : "done",
        closed: out.closed(),
        ended: false,
        missing_files: 0,
        gaps: 0,
      };
    }
    return await followFile(engine, record, sink, out.bytes(), options);
  }
  // Memory: keep the last lines of the drain, print them, then (with follow) pass live output through.
  const keeper = new LineKeeper(n);
  let live = false;
  const r = await withSession(
    engine,
    record,
    async (chunk) => {
      if (live) await sink(chunk);
      else keeper.push(chunk);
    },
    { drainedBy: "tail", ...options },
    async (s) => {
      const first = await s.waitIdle({
        idleMs: engine.idleMs,
        maxBytes: await capacityOf(engine, record),
        signal: options.signal,
      });
      await sink(encoder.encode(keeper.text()));
      if (!options.follow || first === "exited" || first === "aborted") return first;
      live = true;
      return await s.waitExit(options.signal);
    },
  );
  return { name, mode: "memory", ...r, missing_files: 0, gaps: 0 };
}
