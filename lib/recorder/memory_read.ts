/**
 * One read of a memory recorder's ring, in separate steps: open (`staprun -A`, with per-CPU named pipes for a
 * bulk module), drain (what the caller waits for: idle, exit, or an interrupt), end (detach with SIGQUIT, or
 * unload with SIGTERM for `stop`), then account: the records passed on, what is missing and why (lib/recorder/
 * loss.ts), logged for the next read (lib/recorder/read_log.ts). A bulk module's records go through the record
 * pipeline (framing, merge by sequence number, ledger); a module without bulk transport (a prebuilt one, or
 * one an older stapfr started) is read as text through the line cleaner, and its losses cannot be counted.
 * See docs/loss-accounting.md "The read path".
 * @module
 */
import { join } from "../path.ts";
import { StapfrError } from "../errors.ts";
import { moduleState, relayChannels } from "../driver/kernel.ts";
import { readCounters } from "../driver/counters.ts";
import { AttachSession, type WaitOutcome } from "../driver/session.ts";
import { sleep, within } from "../driver/run.ts";
import { cappedSink } from "../read_path/capped_sink.ts";
import { cleanedSink, type DamageReport } from "../read_path/clean_sink.ts";
import type { Output } from "../read_path/output.ts";
import { RecordPipeline } from "../read_path/record_pipeline.ts";
import type { SeqRange } from "../read_path/ledger.ts";
import type { RecorderRecord } from "../registry.ts";
import type { Engine } from "./engine.ts";
import { type LossReport, lossReport } from "./loss.ts";
import { logRead, readLog, type ReadLogEntry } from "./read_log.ts";
import { clearReaderSlot, registerReader, writeFailure } from "./reader_records.ts";
import { readerTurn } from "./reader_turn.ts";

/** How long a quiet CPU may hold the others' records back while reading live (ms). */
export const HOLD_MS = 200;
/**
 * The same for a read that ends once it has drained the ring (dump, snapshot, stop): nobody watches it live,
 * so it waits longer for a CPU whose stapio reader fell behind (in the kernel lab's emulated guest, by more
 * than 200 ms, which put a third of a dump out of order).
 */
export const DRAIN_HOLD_MS = 2000;
/**
 * How long a CPU whose stream has not begun yet may hold the others back (ms): stapio starts its reader
 * threads one after another, and in the kernel lab's emulated guest one began more than 200 ms after the other
 * (half of a dump's records then came out of order).
 */
export const START_HOLD_MS = 2000;
/** How long an interrupted read goes on passing on what stapio wrote before it detached. */
const ABORT_FLUSH_MS = 2000;
const TRANSPORT_RE = /There were (\d+) transport failures/;

/** Options of {@linkcode readMemory}. */
export interface MemoryReadOptions {
  /** Which command reads (the reader record, the read log). */
  command: ReadLogEntry["by"];
  /** Aborting it ends the drain (the reader detaches). */
  signal?: AbortSignal;
  /** stapio's diagnostic lines. */
  onDiagnostic?: (line: string) => void;
  /** Text reads: pass bytes as stapio wrote them, without the line cleaner. */
  raw?: boolean;
  /** Pass on at most this many payload bytes (a dump: the ring's capacity); later records are left out. */
  maxBytes?: number;
  /** How the read ends: `detach` (SIGQUIT; the recording goes on) or `unload` (SIGTERM: `stop`). */
  end?: "detach" | "unload";
  /** Count the numbers other reads took since the previous snapshot (`snapshot`). */
  sinceSnapshot?: boolean;
}

/** What a memory read did. */
export interface MemoryReadResult {
  /** Why the drain stopped. */
  outcome: WaitOutcome;
  /** The recording ended (the module unloaded itself, or was unloaded). */
  ended: boolean;
  /** Sequence accounting; null when the module's output has no sequence numbers (text). */
  loss: LossReport | null;
  /** Why `loss` is null. */
  loss_unknown: string | null;
  /** Records read and left out at `maxBytes`: their bytes. */
  left_out_bytes: number;
  /** Text reads: what the line cleaner cut. */
  damage: DamageReport | null;
  /** The read as it goes into the read log (a snapshot logs it with its ID). */
  log: ReadLogEntry;
}

/**
 * Reads `record`'s ring into `output`: `drain` runs while attached and returns why it stopped; the reader then
 * ends as `options.end` says. Throws a failed write (after detaching) and a failed attach.
 */
export async function readMemory(
  engine: Engine,
  record: RecorderRecord,
  output: Output,
  options: MemoryReadOptions,
  drain: (session: AttachSession) => Promise<WaitOutcome>,
): Promise<MemoryReadResult> {
  // Reads of this recorder from this process take turns (lib/recorder/reader_turn.ts).
  using _turn = await readerTurn(join(engine.registry.dir, record.name), options.signal);
  await clearReaderSlot(engine, record, { signal: options.signal, note: options.onDiagnostic });
  const host = engine.host;
  await requireLoaded(engine, record);
  const log = await readLog(engine.registry, record.name, record.startedAt);
  const previous = log.at(-1);
  const before = record.counters ? await readCounters(host.procRoot, record.module) : undefined;
  const cpus = record.bulk ? (await relayChannels(host.procRoot, record.module)) ?? record.cpus ?? 1 : 0;
  const pipesDir = record.bulk ? join(engine.registry.dir, `${record.name}.${Deno.pid}.pipes`) : undefined;
  let failuresSeen: number | null = null;
  const onDiagnostic = (line: string): void => {
    const m = TRANSPORT_RE.exec(line);
    if (m) failuresSeen = Number(m[1]);
    options.onDiagnostic?.(line);
  };
  const expect = expectedFirst(log);
  // A previous read's pending numbers (docs/loss-accounting.md): the merge waits for the first of them.
  const waitFrom = previous?.pending?.[0]?.[0];
  const pipeline = record.bulk
    ? new RecordPipeline({
      cpus,
      output,
      holdMs: options.command === "attach" || options.command === "tail" ? HOLD_MS : DRAIN_HOLD_MS,
      startHoldMs: START_HOLD_MS,
      expect,
      waitFrom,
      maxBytes: options.maxBytes,
    })
    : undefined;
  // A text read ends at the ring's capacity too: whole lines up to it.
  const capped = record.bulk ? undefined : cappedSink((chunk) => output.write(chunk), options.maxBytes);
  const cleaner = capped ? cleanedSink(capped.sink, { raw: options.raw }) : undefined;
  let strayStdout = 0;
  if (pipesDir) await Deno.mkdir(pipesDir, { mode: 0o700 });
  try {
    const session = await AttachSession.open({
      host,
      module: record.module,
      recorder: record.name,
      sink: async (chunk) => {
        if (cleaner) {
          await cleaner.sink(chunk);
          if (!output.open) throw new Deno.errors.BrokenPipe("closed");
        } else strayStdout += chunk.length; // A bulk stapio writes nothing there.
      },
      onDiagnostic,
      signalWaitMs: engine.signalWaitMs,
      register: (pid) =>
        registerReader(engine.registry.dir, {
          recorder: record.name,
          module: record.module,
          command: options.command,
        }, pid),
      bulk: pipeline && pipesDir
        ? {
          dir: pipesDir,
          cpus,
          onData: async (cpu, chunk) => {
            await pipeline.input(cpu, chunk);
            throwIfStopped(output);
          },
          onEnd: (cpu) => pipeline.end(cpu),
        }
        : undefined,
    });
    // A live merge releases held records as time passes, until the outputs have ended.
    // (Its outputs end before `done` resolves: once it has, there is nothing left to tick.)
    let ticking = true;
    void session.done.finally(() => (ticking = false));
    const ticker = pipeline
      ? (async () => {
        while (ticking) {
          await within(session.done, pipeline.wakeIn() ?? HOLD_MS);
          if (ticking) await pipeline.tick();
          if (!output.open) {
            session.stopSink(output.state === "closed" ? new Deno.errors.BrokenPipe("closed") : output.error);
          }
        }
      })()
      : Promise.resolve();
    let outcome: WaitOutcome;
    let counted: number | null = null;
    try {
      outcome = await drain(session);
      // An interrupted stop detaches: the recording goes on, as after any interrupted read.
      if (outcome !== "exited") {
        if (options.end === "unload" && !session.sinkError && outcome !== "aborted") await session.unload();
        else await session.detach();
      }
      if (outcome === "aborted") {
        // Interrupted: what stapio wrote before it detached is passed on, but a consumer that stopped reading
        // (a full pipe) must not keep an interrupted stapfr from ending.
        await within(session.done, ABORT_FLUSH_MS);
      } else await session.done;
      await session.throwIfFailed();
    } finally {
      ticking = false;
      await ticker;
    }
    const report = pipeline ? await pipeline.finish() : undefined;
    if (cleaner && output.open) await cleaner.finish();
    let ended = outcome === "exited" || (options.end === "unload" && outcome !== "aborted");
    if (!ended) {
      await waitDetached(engine, record);
      // The module may have asked to exit as we attached (its script had exited while detached).
      ended = (await moduleState(host.procRoot, record.module)) === "absent";
      // The count once stapio has ended: the records it passed on and the failures counted cover the same
      // time (read before the detach, a detach that takes long would leave failures among the records passed
      // on uncounted until the next read).
      if (!ended && record.counters) {
        counted = (await readCounters(host.procRoot, record.module))?.transport_failures ?? null;
      }
    }
    // A recording that ended in order is `exited`, not `dead` (lib/state.ts).
    if (ended && options.end !== "unload") {
      await engine.registry.put({ ...record, endedAt: new Date().toISOString() });
    }
    const failuresAfter = failuresSeen ?? counted;
    let loss: LossReport | null = null;
    const base = options.sinceSnapshot ? sinceSnapshot(log) : {
      expect,
      others: [],
      failures: previous?.transport_failures ?? (previous ? null : 0),
      pending: previous?.pending ?? [],
      otherSettled: 0,
    };
    if (report && base.expect !== undefined) {
      loss = lossReport(report, {
        expect: base.expect,
        settleTail: true,
        pendingBefore: base.pending,
        otherSettled: base.otherSettled,
        failuresBefore: before === undefined ? null : base.failures,
        failuresAfter: before === undefined ? null : failuresAfter,
        otherReads: base.others,
        sequenceBefore: before?.sequence,
      });
    } else if (report) {
      // The previous read left no sequence numbers (a text read of an older stapfr): count from this one.
      loss = lossReport(report, {
        expect: report.ledger.first ?? 1,
        failuresBefore: null,
        failuresAfter: null,
      });
    }
    // A read that passed nothing on accounted for the numbers up to the module's count when it began (before
    // the read, or lost at its start): the next read starts after them, or it would report them again.
    const accountedTo = report?.lastRead ??
      (report && base.expect !== undefined && before !== undefined ? before.sequence : undefined);
    const entry: ReadLogEntry = {
      at: new Date().toISOString(),
      bytes: output.bytes,
      by: options.command,
      run: record.startedAt,
      sequenced: report !== undefined,
      ...(report?.ledger.first !== undefined ? { first_seq: report.ledger.first } : {}),
      ...(accountedTo !== undefined ? { last_seq: accountedTo } : {}),
      ...(failuresAfter !== null ? { transport_failures: failuresAfter } : {}),
      ...(loss?.pending?.length ? { pending: loss.pending } : {}),
      ...(report?.settled.length ? { settled: report.settled } : {}),
    };
    const failed = session.sinkError !== undefined || output.state === "failed";
    // A snapshot logs its read itself, once it has an ID (lib/snapshots/capture.ts), unless it failed here.
    if (options.command !== "snapshot" || failed) await logRead(engine.registry, record.name, entry);
    if (strayStdout > 0) {
      options.onDiagnostic?.(
        `stapfr: stapio printed ${strayStdout} bytes on stdout in bulk mode; they were left out`,
      );
    }
    if (failed) throw writeFailure(options.command, record.name, output.error ?? session.sinkError!);
    return {
      outcome,
      ended,
      loss,
      loss_unknown: pipeline
        ? null
        : "its module writes text without sequence numbers (built without bulk transport, or started by an " +
          "older stapfr)",
      left_out_bytes: report?.leftOut.bytes ?? capped?.leftOutBytes() ?? 0,
      damage: cleaner ? cleaner.report() : null,
      log: entry,
    };
  } finally {
    if (pipesDir) await Deno.remove(pipesDir, { recursive: true }).catch(() => {});
  }
}

/**
 * The sequence number a read should start at: one after the last number any read of this run took, or 1 when
 * no read took any. Undefined when an earlier read had no sequence numbers (a text read): then what it took
 * cannot be told apart from what was overwritten.
 */
function expectedFirst(log: readonly ReadLogEntry[]): number | undefined {
  for (let i = log.length - 1; i >= 0; i--) {
    if (log[i].last_seq !== undefined) return (log[i].last_seq! + 1) >>> 0;
    if (!log[i].sequenced) return undefined;
  }
  return 1;
}

/** Throws what became of an output that no longer takes bytes (the session then stops passing them on). */
function throwIfStopped(output: Output): void {
  if (output.state === "closed") throw new Deno.errors.BrokenPipe("the consumer closed its end");
  if (output.state === "failed") throw output.error;
}

/**
 * Where a snapshot's accounting starts: one after the previous snapshot's last number (1 when there is none),
 * the numbers other reads took since then, and the module's count of unreserved records when the previous
 * snapshot ended (0 for the run's first; null: unknown), so that a chain of snapshots counts every record
 * without a number once. Undefined when a read since then had no sequence numbers.
 */
function sinceSnapshot(
  log: readonly ReadLogEntry[],
): {
  expect: number | undefined;
  others: SeqRange[];
  failures: number | null;
  pending: SeqRange[];
  otherSettled: number;
} {
  const others: SeqRange[] = [];
  const settled = new Set<number>();
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i];
    if (!e.sequenced) return { expect: undefined, others, failures: null, pending: [], otherSettled: 0 };
    if (e.by === "snapshot" && e.snapshot !== undefined) {
      if (e.last_seq !== undefined) {
        // The previous snapshot's pending numbers another read passed on went to other reads.
        const pending: SeqRange[] = [];
        let otherSettled = 0;
        for (const [a, b] of e.pending ?? []) {
          for (let n = a, k = 0; k <= ((b - a) >>> 0); n = (n + 1) >>> 0, k++) {
            if (settled.has(n)) otherSettled++;
            else pending.push([n, n]);
          }
        }
        return {
          expect: (e.last_seq + 1) >>> 0,
          others,
          failures: e.transport_failures ?? null,
          pending,
          otherSettled,
        };
      }
      continue;
    }
    for (const n of e.settled ?? []) settled.add(n);
    if (e.first_seq !== undefined && e.last_seq !== undefined) others.unshift([e.first_seq, e.last_seq]);
  }
  return { expect: 1, others, failures: 0, pending: [], otherSettled: 0 };
}

/** Refuses to attach to a module that is not loaded, or that another reader holds (said plainly). */
async function requireLoaded(engine: Engine, record: RecorderRecord): Promise<void> {
  const state = await moduleState(engine.host.procRoot, record.module);
  if (state === "absent") {
    throw new StapfrError(
      `Recorder "${record.name}" is not running: module "${record.module}" is not loaded`,
      { code: "not_running", hint: 'Its buffered output is gone with it; "stapfr gc" removes the recorder' },
    );
  }
  if (state === "attached") {
    throw new StapfrError(
      `Recorder "${record.name}" is already attached by another reader (module "${record.module}" is in use)`,
      {
        code: "busy",
        hint: "Only one reader at a time: wait for the other dump, attach or staprun -A to finish",
      },
    );
  }
}

/**
 * The module drops its reader count when the control channel closes; gives that a moment to show in
 * /proc/modules, so that the next command does not see this reader as "already attached".
 */
async function waitDetached(engine: Engine, record: RecorderRecord): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if ((await moduleState(engine.host.procRoot, record.module)) !== "attached") return;
    await sleep(25);
  }
}
