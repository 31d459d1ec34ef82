/**
 * `stop`: ends a recording. Memory mode attaches, drains what is buffered, then sends SIGTERM so the end
 * probes run and their output arrives too; the module unloads. File mode sends SIGTERM to the stapio daemon
 * and prints what it appended to the files while ending. `discard` unloads without reading.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { listModules, moduleState, processAlive } from "../driver/kernel.ts";
import { sleep } from "../driver/run.ts";
import { unloadModule } from "../driver/unload.ts";
import { type ByteSink, copyFiles } from "../read_path/concat.ts";
import { cleanedSink, type DamageReport } from "../read_path/clean_sink.ts";
import { listRunFiles, type RunFile, streamsOf } from "../read_path/files.ts";
import { mergeStreams } from "../read_path/merge.ts";
import type { RecorderRecord } from "../registry.ts";
import { capacityOf, type Engine, getRecord, stateOf } from "./engine.ts";
import { clearReaderSlot, writeFailure } from "./reader_records.ts";
import type { LossReport } from "./loss.ts";
import { readMemory } from "./memory_read.ts";
import { Output } from "../read_path/output.ts";

const NO_DAMAGE: DamageReport = {
  damaged_lines: 0,
  damaged_bytes: 0,
  damage: { binary: 0, invalid_utf8: 0, stale: 0 },
  raw: false,
};
import type { RecorderState } from "../state.ts";

/** What `stop` did; the damage fields say what the line cleaner cut from text (docs/real-ring.md). */
export interface StopResult extends DamageReport {
  /** Memory mode: what the last read passed on and what is missing, by sequence number (null: unknown). */
  loss: LossReport | null;
  /** Why `loss` is null. */
  loss_unknown: string | null;
  /** The recorder. */
  name: string;
  /** Its mode. */
  mode: "memory" | "file";
  /** The state before stopping. */
  state: RecorderState;
  /** Whether there was a recording to end (false: it had already ended; the entry was removed). */
  stopped: boolean;
  /** Bytes of buffered and end-probe output passed to the sink. */
  bytes: number;
  /** Whether it was unloaded unread (`discard`). */
  discarded: boolean;
  /** File mode: the run directory, whose files are kept. */
  run_dir: string | null;
}

/** Options of {@linkcode stopRecorder}. */
export interface StopOptions {
  /** Unload without reading what is buffered. */
  discard?: boolean;
  /** Receives stapio's diagnostic lines (for example the transport-failure warning at unload). */
  onDiagnostic?: (line: string) => void;
  /** Pass the bytes on as stapio wrote them: no line cleaning (docs/real-ring.md). */
  raw?: boolean;
  /**
   * Aborting it while a memory recorder is drained detaches instead of ending the recording, and the stop
   * throws an `AbortError`: the recorder keeps recording, registered. Once the end has begun it completes.
   */
  signal?: AbortSignal;
}

/** Sends `signal` to a verified daemon until it exits; resends a lost signal, then gives up with an error. */
export async function signalDaemonUntilGone(
  pid: number,
  pidStart: number | undefined,
  signal: Deno.Signal,
  waitMs: number,
  attempts = 3,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (!(await processAlive(pid, pidStart))) return;
    try {
      Deno.kill(pid, signal);
    } catch {
      return; // Gone.
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!(await processAlive(pid, pidStart))) return;
      await sleep(25);
    }
  }
  if (!(await processAlive(pid, pidStart))) return;
  throw new StapfrError(`stapio daemon (pid ${pid}) did not exit after ${attempts} ${signal} signals`, {
    code: "timeout",
    hint: `Check it with "ps -p ${pid}"; "kill -KILL ${pid}" then "stapfr gc" unloads what it leaves`,
  });
}

/** Waits (bounded) until the module is gone from /proc/modules; true when it is. */
async function waitUnloaded(engine: Engine, module: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (true) {
    if ((await moduleState(engine.host.procRoot, module)) === "absent") return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
}

async function stopMemory(
  engine: Engine,
  record: RecorderRecord,
  output: Output,
  options: StopOptions,
): Promise<Pick<StopResult, "loss" | "loss_unknown"> & { damage: DamageReport | null; aborted: boolean }> {
  if (options.discard) {
    await unloadModule(engine.host, record.module, record.name);
    return { loss: null, loss_unknown: "discarded unread", damage: null, aborted: false };
  }
  // Drains what is buffered, then SIGTERM: the end probes run and their output arrives; the module unloads.
  // A failed write detaches instead (readMemory): what it would print last could not be kept anywhere.
  const r = await readMemory(engine, record, output, {
    command: "stop",
    onDiagnostic: options.onDiagnostic,
    raw: options.raw,
    end: "unload",
  }, async (s) => {
    const outcome = await s.waitIdle({
      idleMs: engine.idleMs,
      maxBytes: await capacityOf(engine, record),
      maxMs: engine.drainMaxMs,
      signal: options.signal,
    });
    return s.sinkError ? "closed" : outcome;
  });
  // Aborted while draining: readMemory detached instead of ending it; the recorder goes on.
  if (r.outcome === "aborted") {
    return { loss: r.loss, loss_unknown: r.loss_unknown, damage: r.damage, aborted: true };
  }
  if (!(await waitUnloaded(engine, record.module, engine.signalWaitMs))) {
    // stapio gave up waiting (third signal) without unloading: finish the job.
    await unloadModule(engine.host, record.module, record.name);
  }
  return { loss: r.loss, loss_unknown: r.loss_unknown, damage: r.damage, aborted: false };
}

async function stopFile(
  engine: Engine,
  record: RecorderRecord,
  sink: ByteSink,
  options: StopOptions,
): Promise<number> {
  const output = record.output!;
  const before = new Map<string, number>();
  for (const f of listRunFiles(output.runDir, output.base)) {
    try {
      before.set(f.name, (await Deno.stat(f.path)).size);
    } catch {
      // Rotated away.
    }
  }
  if (record.pid !== null) {
    await signalDaemonUntilGone(record.pid, record.pidStart ?? undefined, "SIGTERM", engine.signalWaitMs);
  }
  if (!(await waitUnloaded(engine, record.module, engine.signalWaitMs))) {
    await unloadModule(engine.host, record.module, record.name);
  }
  if (options.discard) return 0;
  // What the end probes and the last reads appended: grown files from their old end, new files whole.
  const appended: RunFile[] = listRunFiles(output.runDir, output.base)
    .map((f) => ({ ...f, offset: before.get(f.name) ?? 0 }));
  let bytes = 0;
  const counting: ByteSink = async (chunk) => {
    bytes += chunk.length;
    await sink(chunk);
  };
  if (output.bulk) await mergeStreams(streamsOf(appended), counting);
  else await copyFiles(appended, counting);
  return bytes;
}

/** `stop`: ends the recording, passes what was still buffered and the end-probe output to `sink`. */
export async function stopRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: StopOptions = {},
): Promise<StopResult> {
  const record = await getRecord(engine, name);
  const release = await engine.registry.lock(name);
  const output = new Output(sink);
  try {
    let state = await stateOf(record, await listModules(engine.host.procRoot));
    const result: StopResult = {
      ...NO_DAMAGE,
      name,
      mode: record.mode,
      state,
      stopped: false,
      bytes: 0,
      discarded: options.discard ?? false,
      run_dir: record.output?.runDir ?? null,
      loss: null,
      loss_unknown: null,
    };
    if (state === "attached") {
      // A stray (its stapfr is gone) is ended with SIGQUIT; a live reader is named and refused.
      if (await clearReaderSlot(engine, record, { note: options.onDiagnostic })) result.state = "stray";
      state = await stateOf(record, await listModules(engine.host.procRoot));
    }
    options.signal?.throwIfAborted();
    if (record.mode === "memory" && state === "recording") {
      const r = await stopMemory(engine, record, output, options);
      if (r.aborted) {
        throw new DOMException(
          `Stop of "${name}" interrupted while draining: it was detached and keeps recording`,
          "AbortError",
        );
      }
      Object.assign(result, r.damage ?? {}, { loss: r.loss, loss_unknown: r.loss_unknown });
      result.stopped = true;
    } else if (record.mode === "file" && state !== "exited") {
      const cleaned = cleanedSink((chunk) => output.write(chunk), options);
      await stopFile(engine, record, cleaned.sink, options);
      if (output.open) await cleaned.finish();
      Object.assign(result, cleaned.report());
      result.stopped = true;
    }
    if (output.state === "failed") throw writeFailure("stop", name, output.error!);
    result.bytes = output.bytes;
    await engine.registry.remove(name);
    return result;
  } finally {
    await release();
  }
}
