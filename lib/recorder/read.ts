/**
 * Reading a recorder without ending it: `dump` (memory: attach, drain until idle, detach with SIGQUIT; file:
 * the files oldest to newest), `attach` (live until interrupted, then detach) and `tail` (last lines, then
 * follow). A memory reader never stays attached: attaching turns the ring's overwrite off. Every read of a
 * bulk recorder says what it passed on and what is missing, from the records' sequence numbers
 * (docs/loss-accounting.md); the memory read itself is lib/recorder/memory_read.ts.
 * @module
 */
import { listModules, processAlive } from "../driver/kernel.ts";
import { readCounters } from "../driver/counters.ts";
import type { WaitOutcome } from "../driver/session.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { passingFileChunks } from "../read_path/file_chunks.ts";
import { sendFiles } from "../read_path/send_file.ts";
import { cleanedSink, type DamageReport } from "../read_path/clean_sink.ts";
import { listRunFiles, streamsOf } from "../read_path/files.ts";
import { followRun } from "../read_path/follow.ts";
import { mergeStreams } from "../read_path/merge.ts";
import { Output } from "../read_path/output.ts";
import { tailBulk, type TailEnd, tailFiles } from "../read_path/tail.ts";
import type { RecorderRecord } from "../registry.ts";
import { capacityOf, type Engine, getRecord, stateOf } from "./engine.ts";
import { type LossReport, lossReport } from "./loss.ts";
import { readMemory } from "./memory_read.ts";
import type { ReadLogEntry } from "./read_log.ts";
import { requireRunDir } from "./problems.ts";
import { writeFailure } from "./reader_records.ts";
import { declared } from "../declarations/declared.ts";
import { LineKeeper } from "../read_path/tail.ts";

/** What a read delivered; the damage fields say what the line cleaner cut from text (docs/real-ring.md). */
export interface ReadResult extends DamageReport {
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

/** Options of the read operations. */
export interface ReadOptions {
  /** Aborting it ends the read (a memory reader detaches). */
  signal?: AbortSignal;
  /** Receives stapio's diagnostic lines (module warnings and errors). */
  onDiagnostic?: (line: string) => void;
  /** Pass the bytes on as stapio wrote them: no line cleaning of text output (docs/real-ring.md). */
  raw?: boolean;
  /** The command that reads (`dump`, `attach`, `tail`), for messages and the reader record (docs/strays.md). */
  command?: string;
}

const NO_DAMAGE: DamageReport = {
  damaged_lines: 0,
  damaged_bytes: 0,
  damage: { binary: 0, invalid_utf8: 0, stale: 0 },
  raw: false,
};

const TEXT_FILES = "a non-bulk file recorder writes text without sequence numbers";

/** A file recorder's bulk files: loss counted from the run's start (its first record is number 1). */
async function fileLoss(engine: Engine, record: RecorderRecord, report: Parameters<typeof lossReport>[0]) {
  const counters = record.counters ? await readCounters(engine.host.procRoot, record.module) : undefined;
  return lossReport(report, {
    expect: 1,
    failuresBefore: counters ? 0 : null,
    failuresAfter: counters?.transport_failures ?? null,
  });
}

/** Copies a file recorder's files, oldest to newest (merged by sequence number in bulk mode). */
async function dumpFiles(engine: Engine, record: RecorderRecord, sink: ByteSink, options: ReadOptions) {
  const files = listRunFiles(record.output!.runDir, record.output!.base);
  const base = { name: record.name, mode: "file" as const, outcome: "done" as const, ended: false };
  if (record.output!.bulk) {
    const output = new Output(sink);
    let loss: LossReport | null = null;
    try {
      const merged = await mergeStreams(streamsOf(files), (chunk) => output.write(chunk));
      loss = await fileLoss(engine, record, merged.report);
    } catch (err) {
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    }
    if (output.state === "failed") throw output.error;
    return {
      ...base,
      ...NO_DAMAGE,
      bytes: output.bytes,
      closed: output.state === "closed",
      missing_files: 0,
      beyond_capacity_bytes: 0,
      loss,
      loss_unknown: loss ? null : "the read ended early (the consumer closed its end)",
    };
  }
  const output = new Output(sink);
  const cleaned = cleanedSink((chunk) => output.write(chunk), options);
  // A sink that sends file chunks from their files (the command line's stdout) gets the cleaner's views of what
  // was read: lib/read_path/send_file.ts.
  const { missing } = await sendFiles(
    files,
    passingFileChunks(sink, async (chunk, more) => {
      await cleaned.sink(chunk, more);
      if (output.state === "closed") throw new Deno.errors.BrokenPipe("closed");
    }),
  ).catch((err) => {
    if (err instanceof Deno.errors.BrokenPipe) return { missing: 0 };
    throw err;
  });
  if (output.open) await cleaned.finish();
  if (output.state === "failed") throw output.error;
  return {
    ...base,
    ...cleaned.report(),
    bytes: output.bytes,
    closed: output.state === "closed",
    missing_files: missing,
    beyond_capacity_bytes: 0,
    loss: null,
    loss_unknown: TEXT_FILES,
  };
}

/**
 * `dump`: everything the recorder holds, once; the recording goes on. A memory dump passes on at most the
 * ring's capacity (what it can hold) and reads for at most the engine's drain limit (30 s), even when live
 * output keeps coming.
 */
export async function dumpRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: ReadOptions & { sinceSnapshot?: boolean } = {},
): Promise<ReadResult & { log?: ReadLogEntry }> {
  const record = await getRecord(engine, name);
  await requireRunDir(engine, record);
  if (record.mode === "file") return await dumpFiles(engine, record, sink, options);
  const maxBytes = await capacityOf(engine, record);
  const output = new Output(sink);
  const r = await readMemory(
    engine,
    record,
    output,
    {
      command: (options.command ?? "dump") as "dump",
      signal: options.signal,
      onDiagnostic: options.onDiagnostic,
      raw: options.raw,
      // A snapshot keeps all it read: what it left out would be in no snapshot.
      maxBytes: options.command === "snapshot" ? undefined : maxBytes,
      sinceSnapshot: options.sinceSnapshot,
    },
    (s) => s.waitIdle({ idleMs: engine.idleMs, maxBytes, maxMs: engine.drainMaxMs, signal: options.signal }),
  );
  return {
    name,
    mode: "memory",
    ...(r.damage ?? NO_DAMAGE),
    bytes: output.bytes,
    outcome: r.outcome,
    closed: output.state === "closed",
    ended: r.ended,
    missing_files: 0,
    beyond_capacity_bytes: r.left_out_bytes,
    loss: r.loss,
    loss_unknown: r.loss_unknown,
    log: r.log,
  };
}

/** `attach`: live output until `signal` aborts (then detach with SIGQUIT) or the recording ends. */
export async function attachRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  await requireRunDir(engine, record);
  if (record.mode === "file") return await followFile(engine, record, sink, 0, options);
  const output = new Output(sink);
  const r = await readMemory(engine, record, output, {
    command: "attach",
    signal: options.signal,
    onDiagnostic: options.onDiagnostic,
    raw: options.raw,
  }, (s) => s.waitExit(options.signal));
  return {
    name,
    mode: "memory",
    ...(r.damage ?? NO_DAMAGE),
    bytes: output.bytes,
    outcome: r.outcome,
    closed: output.state === "closed",
    ended: r.ended,
    missing_files: 0,
    beyond_capacity_bytes: 0,
    loss: r.loss,
    loss_unknown: r.loss_unknown,
  };
}

/** Follows a file recorder's files (attach, tail -f) until `signal` aborts or the recording ends. */
async function followFile(
  engine: Engine,
  record: RecorderRecord,
  sink: ByteSink,
  before: number,
  options: ReadOptions,
  after?: TailEnd,
): Promise<ReadResult> {
  const output = new Output(sink);
  const cleaned = cleanedSink((chunk) => output.write(chunk), options);
  await followRun({
    after,
    runDir: record.output!.runDir,
    base: record.output!.base,
    bulk: record.output!.bulk,
    sink: async (chunk) => {
      await cleaned.sink(chunk);
      if (!output.open) throw new Deno.errors.BrokenPipe("closed");
    },
    signal: options.signal,
    isRecording: async () =>
      (await processAlive(record.pid ?? undefined, record.pidStart ?? undefined)) &&
      (await stateOf(record, await listModules(engine.host.procRoot))) === "recording",
  }).catch((err) => {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  });
  if (output.open) await cleaned.finish();
  if (output.state === "failed") throw output.error;
  return {
    name: record.name,
    mode: "file",
    ...cleaned.report(),
    bytes: before + output.bytes,
    outcome: options.signal?.aborted ? "aborted" : output.state === "closed" ? "closed" : "done",
    closed: output.state === "closed",
    ended: false,
    missing_files: 0,
    beyond_capacity_bytes: 0,
    loss: null,
    loss_unknown: "a live read of files follows them as they grow; a dump or snapshot accounts",
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
  await requireRunDir(engine, record);
  const n = options.lines ?? declared("tail", "lines").default!;
  if (record.mode === "file") {
    const files = listRunFiles(record.output!.runDir, record.output!.base);
    const tail = record.output!.bulk ? await tailBulk(streamsOf(files), n) : await tailFiles(files, n);
    const output = new Output(sink);
    const cleaned = cleanedSink((chunk) => output.write(chunk), options);
    await cleaned.sink(new TextEncoder().encode(tail.text));
    if (!options.follow || !output.open) {
      if (output.open) await cleaned.finish();
      if (output.state === "failed") throw output.error;
      return {
        name,
        mode: "file",
        ...cleaned.report(),
        bytes: output.bytes,
        outcome: output.state === "closed" ? "closed" : "done",
        closed: output.state === "closed",
        ended: false,
        missing_files: 0,
        beyond_capacity_bytes: 0,
        loss: null,
        loss_unknown: "tail reads the newest files only",
      };
    }
    await cleaned.finish();
    return await followFile(engine, record, sink, output.bytes, options, tail.end);
  }
  // Memory: keep the last lines of the drain, print them, then (with follow) pass live output through.
  const keeper = new LineKeeper(n);
  let live = false;
  const output = new Output(sink);
  const kept = new Output((chunk) => {
    if (live) return output.write(chunk);
    keeper.push(chunk);
    return Promise.resolve();
  });
  const r = await readMemory(engine, record, kept, {
    command: "tail",
    signal: options.signal,
    onDiagnostic: options.onDiagnostic,
    raw: options.raw,
  }, async (s) => {
    const first = await s.waitIdle({
      idleMs: engine.idleMs,
      maxBytes: await capacityOf(engine, record),
      maxMs: engine.drainMaxMs,
      signal: options.signal,
    });
    const following = options.follow && first !== "exited" && first !== "aborted";
    if (!following) return first;
    // The last lines of what came so far, then everything after it as it comes.
    await output.write(keeper.bytes());
    live = true;
    return await s.waitExit(options.signal);
  });
  // Without follow the read is over: its last lines are known only now (held records came last).
  if (!live) await output.write(keeper.bytes());
  // The ring was drained and the read logged: say what could not be written (docs/strays.md), as dump does.
  if (output.state === "failed") throw writeFailure("tail", name, output.error!);
  return {
    name,
    mode: "memory",
    ...(r.damage ?? NO_DAMAGE),
    bytes: output.bytes,
    outcome: r.outcome,
    closed: output.state === "closed",
    ended: r.ended,
    missing_files: 0,
    beyond_capacity_bytes: 0,
    loss: r.loss,
    loss_unknown: r.loss_unknown,
  };
}
