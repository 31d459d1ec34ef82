/**
 * The read pipeline of bulk records (docs/loss-accounting.md "The read path"): per-CPU byte streams (stapio's
 * outputs while attached, or a file recorder's rotated files) → framing ({@linkcode RecordFramer}) → the merge
 * by sequence number ({@linkcode SequenceMerge}) → the ledger of what was passed on ({@linkcode SequenceLedger})
 * → the payloads, batched, to an {@linkcode Output}. A record is passed on whole or not at all, in global
 * order, and every sequence number the read did not pass on between its first and its last is counted.
 * @module
 */
import { type FramingCounts, RecordFramer } from "./framing.ts";
import { SequenceLedger } from "./ledger.ts";
import type { Output } from "./output.ts";
import { seqBefore, SequenceMerge } from "./sequence_merge.ts";

/** Options of a {@linkcode RecordPipeline}. */
export interface PipelineOptions {
  /** How many CPU streams. */
  cpus: number;
  /** Where the payloads go. */
  output: Output;
  /**
   * Live streams: how long a quiet CPU may hold the others back (ms). Omitted for complete streams (files),
   * where a CPU's next record is always read before the merge goes on.
   */
  holdMs?: number;
  /** The sequence number expected first (the previous read's last plus one), when known. */
  expect?: number;
  /** Live streams: how long a CPU that has delivered nothing yet may hold the others back (ms). */
  startHoldMs?: number;
  /**
   * The first number the merge waits for, when it is before `expect`: a previous read's first pending number,
   * which a CPU may still deliver (it is passed on in order, then, and settled).
   */
  waitFrom?: number;
  /** Pass on at most this many payload bytes; later records are read and left out (counted). */
  maxBytes?: number;
  /** The clock (ms). */
  now?: () => number;
}

/** What the pipeline did. */
export interface PipelineReport {
  /** Sequence numbers passed on and missing. */
  ledger: SequenceLedger;
  /** What framing skipped, summed over the CPUs. */
  framing: FramingCounts;
  /** Records read but left out at `maxBytes`, and the last sequence number read (passed on or not). */
  leftOut: { records: number; bytes: number };
  /** The last sequence number read, passed on or left out; undefined when nothing was read. */
  lastRead: number | undefined;
  /** Per CPU, the last sequence number it passed on (undefined: none). */
  lastByCpu: (number | undefined)[];
  /**
   * Numbers before the one expected first that came and were passed on: a previous read's pending numbers
   * (docs/loss-accounting.md), which this read settles. They are not in the ledger.
   */
  settled: number[];
}

const BATCH = 1 << 20;

/**
 * Frames, merges and passes on the records of several CPU streams.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Output } from "./output.ts";
 * const rec = (seq: number, text: string) => {
 *   const p = new TextEncoder().encode(text);
 *   const r = new Uint8Array(8 + p.length);
 *   new DataView(r.buffer).setUint32(0, seq, true);
 *   new DataView(r.buffer).setUint32(4, p.length, true);
 *   r.set(p, 8);
 *   return r;
 * };
 * let text = "";
 * const output = new Output((c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
 * const pipeline = new RecordPipeline({ cpus: 2, output });
 * await pipeline.input(1, rec(2, "b\n"));
 * await pipeline.input(0, new Uint8Array([...rec(1, "a\n"), ...rec(4, "d\n")]));
 * await pipeline.end(0);
 * await pipeline.end(1);
 * const report = await pipeline.finish();
 * assertEquals(text, "a\nb\nd\n");
 * assertEquals([report.ledger.records, report.ledger.missingCount], [3, 1]);
 * ```
 */
export class RecordPipeline {
  readonly #framers: RecordFramer[];
  readonly #merge: SequenceMerge;
  readonly #ledger = new SequenceLedger();
  readonly #output: Output;
  readonly #live: boolean;
  readonly #quietMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #lastInput: number[];
  readonly #ended: boolean[];
  #batch = new Uint8Array(BATCH);
  #fill = 0;
  #passed = 0;
  #full = false;
  #leftOut = { records: 0, bytes: 0 };
  #lastRead: number | undefined;
  readonly #lastByCpu: (number | undefined)[];
  readonly #expect: number | undefined;
  readonly #settled: number[] = [];
  /** Bytes have come on some stream. */
  #flowing = false;
  /** Writes happen one at a time, in order, whichever stream's input released them. */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: PipelineOptions) {
    this.#now = options.now ?? (() => Date.now());
    const now = this.#now();
    this.#framers = Array.from({ length: options.cpus }, () => new RecordFramer());
    this.#live = options.holdMs !== undefined;
    this.#quietMs = (options.holdMs ?? 0) / 2;
    this.#merge = new SequenceMerge(options.cpus, {
      holdMs: options.holdMs ?? Infinity,
      startHoldMs: options.startHoldMs,
      expect: options.waitFrom ?? options.expect,
      now,
    });
    this.#output = options.output;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#lastInput = new Array(options.cpus).fill(now);
    this.#lastByCpu = new Array(options.cpus).fill(undefined);
    this.#expect = options.expect;
    this.#ended = new Array(options.cpus).fill(false);
  }

  /** Whether `cpu`'s stream has nothing queued in the merge (a pull reader should read it next). */
  wants(cpu: number): boolean {
    return !this.#ended[cpu] && this.#merge.queued(cpu) === 0;
  }

  /** Bytes of `cpu`'s stream. */
  async input(cpu: number, chunk: Uint8Array): Promise<void> {
    const now = this.#now();
    if (!this.#flowing) {
      // The streams begin when stapio does, which may be long after the pipeline was made (a process to
      // start, outputs to open): a CPU is quiet only counting from then, so its first records are waited for.
      this.#flowing = true;
      this.#lastInput.fill(now);
      this.#merge.begin(now);
    }
    this.#lastInput[cpu] = now;
    const records = this.#framers[cpu].push(chunk);
    if (records.length > 0) this.#merge.push(cpu, records, now);
    else this.#merge.active(cpu, now);
    await this.#release(now);
  }

  /** `cpu`'s stream ended. */
  async end(cpu: number): Promise<void> {
    if (this.#ended[cpu]) return;
    this.#ended[cpu] = true;
    const records = this.#framers[cpu].end();
    if (records.length > 0) this.#merge.push(cpu, records, this.#lastInput[cpu]);
    this.#merge.end(cpu);
    await this.#release(this.#now());
  }

  /** Lets time pass in a live read: quiet streams give up their last record, held heads are released. */
  async tick(): Promise<void> {
    const now = this.#now();
    for (let c = 0; c < this.#framers.length; c++) {
      if (this.#ended[c] || now - this.#lastInput[c] < this.#quietMs) continue;
      const records = this.#framers[c].flush();
      if (records.length > 0) this.#merge.push(c, records, this.#lastInput[c]);
    }
    await this.#release(now);
  }

  /** How long until {@linkcode tick} may release something (ms); undefined when nothing is held. */
  wakeIn(): number | undefined {
    if (!this.#live) return undefined;
    const pending = this.#framers.some((f, c) => !this.#ended[c] && f.pending > 0);
    const merge = this.#merge.wakeIn(this.#now());
    if (!pending) return merge;
    return Math.min(merge ?? Infinity, this.#quietMs);
  }

  #release(now: number): Promise<void> {
    for (const r of this.#merge.take(now)) {
      this.#lastRead = r.seq;
      if (this.#full || this.#passed + r.payload.length > this.#maxBytes) {
        // What is passed on stays a prefix of the stream: once full, everything after is left out.
        this.#full = true;
        this.#leftOut.records++;
        this.#leftOut.bytes += r.payload.length;
        continue;
      }
      if (this.#expect !== undefined && seqBefore(r.seq, this.#expect)) {
        // A previous read's pending number (or its twin): passed on, settled, not this read's to count.
        if (this.#settled.includes(r.seq)) continue;
        this.#settled.push(r.seq);
      } else if (this.#ledger.note(r.seq) === "duplicate") continue;
      this.#lastByCpu[r.cpu] = r.seq;
      this.#passed += r.payload.length;
      this.#add(r.payload);
    }
    return this.#flush();
  }

  #add(payload: Uint8Array): void {
    if (this.#fill + payload.length > this.#batch.length) this.#queueWrite();
    if (payload.length > this.#batch.length) {
      const own = payload;
      this.#chain = this.#chain.then(() => this.#output.write(own));
      return;
    }
    this.#batch.set(payload, this.#fill);
    this.#fill += payload.length;
  }

  #queueWrite(): void {
    if (this.#fill === 0) return;
    // A batch at least half full is handed over and replaced. Less is copied and the batch kept: a live read
    // writes what each input released, often a few records, and a new 1 MiB batch for each of those left
    // garbage enough for a memory dump of a 2 x 16 MiB ring to peak at 137 MiB instead of 81 (bench/dump.ts).
    let chunk: Uint8Array;
    if (this.#fill >= BATCH / 2) {
      chunk = this.#batch.subarray(0, this.#fill);
      this.#batch = new Uint8Array(BATCH);
    } else chunk = this.#batch.slice(0, this.#fill);
    this.#fill = 0;
    this.#chain = this.#chain.then(() => this.#output.write(chunk));
  }

  /** Writes what was released; live reads write at once, file reads once a batch is full. */
  #flush(): Promise<void> {
    if (this.#live || this.#merge.done) this.#queueWrite();
    return this.#chain;
  }

  /** Ends every stream still open and passes on the rest; returns what the read did. */
  async finish(): Promise<PipelineReport> {
    for (let c = 0; c < this.#framers.length; c++) await this.end(c);
    this.#queueWrite();
    await this.#chain;
    const framing: FramingCounts = { skipped_bytes: 0, resyncs: 0 };
    for (const f of this.#framers) {
      framing.skipped_bytes += f.counts.skipped_bytes;
      framing.resyncs += f.counts.resyncs;
    }
    return {
      ledger: this.#ledger,
      framing,
      leftOut: { ...this.#leftOut },
      lastRead: this.#lastRead,
      lastByCpu: [...this.#lastByCpu],
      settled: [...this.#settled],
    };
  }
}
