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
import { cleanedSink, type DamageReport } from "../readers/clean_sink.ts";
import { listRunFiles, streamsOf } from "../readers/files.ts";
import { followRun } from "../readers/follow.ts";
import { mergeStreams } from "../readers/merge.ts";
import { tailBulk, tailFiles } from "../readers/tail.ts";
import type { RecorderRecord } from "../registry.ts";
import { capacityOf, type Engine, getRecord, stateOf } from "./engine.ts";

/** What a read delivered; the damage fields say what the line cleaner cut (docs/real-ring.md). */
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
  /** File mode: files that were rotated away before they could be read. */
  missing_files: number;
  /** Bulk mode: sequence numbers missing in what was read (overwritten or dropped records). */
  gaps: number;
  /**
   * Memory `dump`: bytes read after the output reached the ring's capacity (live output that came while
   * detaching), left out so that a dump is never more than the ring can hold.
   */
  beyond_capacity_bytes: number;
}

/** A read's result before the cleaner's report is added. */
type ReadCore = Omit<ReadResult, keyof DamageReport | "beyond_capacity_bytes">;

/** Options of the read operations. */
export interface ReadOptions {
  /** Aborting it ends the read (a memory reader detaches). */
  signal?: AbortSignal;
  /** Receives stapio's diagnostic lines (module warnings and errors). */
  onDiagnostic?: (line: string) => void;
  /** Pass the bytes on as stapio wrote them: no line cleaning (docs/real-ring.md). */
  raw?: boolean;
}

/**
 * Passes on at most `maxBytes`, cut after the last newline that fits (a prefix of what stapio wrote, whole
 * lines); what comes after is counted and dropped.
 */
export function capped(sink: ByteSink, maxBytes: number): { sink: ByteSink; dropped: () => number } {
  let passed = 0;
  let dropped = 0;
  let full = false;
  return {
    sink: async (chunk) => {
      if (full) {
        dropped += chunk.length;
        return;
      }
      if (passed + chunk.length <= maxBytes) {
        passed += chunk.length;
        return await sink(chunk);
      }
      full = true;
      const room = chunk.subarray(0, maxBytes - passed);
      const cut = room.lastIndexOf(0x0a) + 1;
      dropped += chunk.length - cut;
      passed += cut;
      if (cut > 0) await sink(chunk.subarray(0, cut));
    },
    dropped: () => dropped,
  };
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

/** How long an interrupted read goes on passing on what stapio printed before it detached. */
const ABORT_FLUSH_MS = 2000;

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
  if (outcome === "aborted") {
    // Interrupted: what stapio printed before it detached is passed on, but a consumer that stopped reading
    // (a full pipe) must not keep an interrupted stapfr from ending.
    const timer = new AbortController();
    await Promise.race([session.done, sleep(ABORT_FLUSH_MS, timer.signal)]);
    timer.abort();
  } else {
    await session.done;
  }
  // The module drops its reader count when the control channel closes; give that a moment to show in
  // /proc/modules, so that the next command does not see this reader as "already attached".
  for (let i = 0; i < 40 && !ended; i++) {
    if ((await moduleState(engine.host.procRoot, record.module)) !== "attached") break;
    await sleep(25);
  }
  if (ended) await markEnded(engine, record);
  return { outcome, ended, closed: out.closed(), bytes: out.bytes() };
}

/** Copies a file recorder's files, oldest to newest (merged by sequence number in bulk mode). */
async function dumpFiles(record: RecorderRecord, sink: ByteSink): Promise<ReadCore> {
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

/**
 * Runs a read with its output cleaned (unless `options.raw`), and adds what the cleaner cut to the result.
 * The cleaner passes on its held last line once the read is over.
 */
async function cleaned(
  sink: ByteSink,
  options: ReadOptions,
  read: (sink: ByteSink) => Promise<ReadCore & { beyond_capacity_bytes?: number }>,
): Promise<ReadResult> {
  // `bytes` is what reached the sink, after the cleaner.
  let delivered = 0;
  const out = cleanedSink(async (chunk) => {
    await sink(chunk);
    delivered += chunk.length;
  }, options);
  const r = await read(out.sink);
  if (!r.closed) {
    await out.finish().catch((err) => {
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    });
  }
  return { ...r, bytes: delivered, beyond_capacity_bytes: r.beyond_capacity_bytes ?? 0, ...out.report() };
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
  options: ReadOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  if (record.mode === "file") return await cleaned(sink, options, (s) => dumpFiles(record, s));
  const maxBytes = await capacityOf(engine, record);
  return await cleaned(sink, options, async (clean) => {
    // The cap comes before the cleaner: what is passed on is a prefix of what stapio wrote.
    const cap = capped(clean, maxBytes);
    const r = await withSession(
      engine,
      record,
      cap.sink,
      options,
      (s) =>
        s.waitIdle({ idleMs: engine.idleMs, maxBytes, maxMs: engine.drainMaxMs, signal: options.signal }),
    );
    return {
      name,
      mode: "memory" as const,
      ...r,
      missing_files: 0,
      gaps: 0,
      beyond_capacity_bytes: cap.dropped(),
    };
  });
}

/** `attach`: live output until `signal` aborts (then detach with SIGQUIT) or the recording ends. */
export async function attachRecorder(
  engine: Engine,
  name: string,
  sink: ByteSink,
  options: ReadOptions = {},
): Promise<ReadResult> {
  const record = await getRecord(engine, name);
  return await cleaned(sink, options, async (clean) => {
    if (record.mode === "file") return await followFile(engine, record, clean, 0, options);
    const r = await withSession(engine, record, clean, options, (s) => s.waitExit(options.signal));
    return { name, mode: "memory" as const, ...r, missing_files: 0, gaps: 0 };
  });
}

async function followFile(
  engine: Engine,
  record: RecorderRecord,
  sink: ByteSink,
  before: number,
  options: ReadOptions,
): Promise<ReadCore> {
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

/** Keeps the last `n` lines of a byte stream (a trailing newline does not start an empty line). */
export class ByteLineKeeper {
  #n: number;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(n: number) {
    this.#n = n;
  }

  /** Adds bytes. */
  push(chunk: Uint8Array): void {
    const next = new Uint8Array(this.#buf.length + chunk.length);
    next.set(this.#buf);
    next.set(chunk, this.#buf.length);
    this.#buf = next.length > 1 << 16 ? this.bytes(next) : next;
  }

  /** The last lines so far, each with its newline (a final partial line without). */
  bytes(buf: Uint8Array = this.#buf): Uint8Array {
    if (this.#n <= 0) return new Uint8Array(0);
    let at = buf.length;
    if (buf[at - 1] === 0x0a) at--;
    for (let i = 0; i < this.#n; i++) {
      const nl = buf.lastIndexOf(0x0a, at - 1);
      if (nl < 0) return buf;
      at = nl;
    }
    return buf.slice(at + 1);
  }
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
    return await cleaned(sink, options, async (clean) => {
      const files = await listRunFiles(record.output!.runDir, record.output!.base);
      const text = record.output!.bulk ? await tailBulk(streamsOf(files), n) : await tailFiles(files, n);
      const out = guarded(clean);
      await out.sink(encoder.encode(text));
      if (!options.follow || out.closed()) {
        return {
          name,
          mode: "file" as const,
          bytes: out.bytes(),
          outcome: out.closed() ? "closed" as const : "done" as const,
          closed: out.closed(),
          ended: false,
          missing_files: 0,
          gaps: 0,
        };
      }
      return await followFile(engine, record, clean, out.bytes(), options);
    });
  }
  // Memory: keep the last clean lines of the drain, print them, then (with follow) pass live output through.
  // Kept as bytes, so that `raw` gets them exactly as stapio wrote them.
  const keeper = new ByteLineKeeper(n);
  let live = false;
  let delivered = 0;
  const counted: ByteSink = async (chunk) => {
    await sink(chunk);
    delivered += chunk.length;
  };
  const out = cleanedSink(async (chunk) => {
    if (live) await counted(chunk);
    else keeper.push(chunk);
  }, options);
  const r = await withSession(
    engine,
    record,
    out.sink,
    options,
    async (s) => {
      const first = await s.waitIdle({
        idleMs: engine.idleMs,
        maxBytes: await capacityOf(engine, record),
        maxMs: engine.drainMaxMs,
        signal: options.signal,
      });
      const following = options.follow && first !== "exited" && first !== "aborted";
      // Without follow, the last line without a newline belongs to the lines printed now.
      if (!following) await out.finish();
      await counted(keeper.bytes());
      if (!following) return first;
      live = true;
      return await s.waitExit(options.signal);
    },
  );
  if (live && !r.closed) await out.finish();
  return {
    name,
    mode: "memory",
    ...r,
    bytes: delivered,
    missing_files: 0,
    gaps: 0,
    beyond_capacity_bytes: 0,
    ...out.report(),
  };
}
