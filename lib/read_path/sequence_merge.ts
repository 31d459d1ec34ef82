/**
 * The merge of CPU streams by sequence number, as records arrive (docs/loss-accounting.md "The read path"): each
 * CPU's records come in increasing order, and the module numbers every record from one counter, so the record
 * with the smallest number among the CPUs' heads is the next one, as `stap-merge` does for whole files. While
 * reading live, a CPU that has nothing queued may still be about to deliver a smaller number; the head is held
 * until that cannot be so:
 *
 * - it is the number right after the last one passed on (nothing can come before it), or
 * - every other CPU has a later record queued, or has ended, or has been quiet for `holdMs`.
 *
 * So a gap in the numbers (lost records) costs at most `holdMs` of delay, not 4.8's 1–2 s per gap, and a
 * record that still arrives after a later one was passed on (a CPU that fell further behind than `holdMs`) is
 * passed on as soon as it comes, counted as late. Memory: what `holdMs` of output holds, bounded by
 * `maxHeldBytes`, past which the smallest head is passed on anyway.
 * @module
 */
import type { RelayRecord } from "./framing.ts";

/** A record and the CPU stream it came from. */
export interface MergedRecord extends RelayRecord {
  cpu: number;
}

/** Options of a {@linkcode SequenceMerge}. */
export interface MergeOptions {
  /** How long a quiet CPU may hold back the others' records (ms). */
  holdMs: number;
  /** The number expected first (the one after the previous read's last), when known. */
  expect?: number;
  /** Held records past this many bytes are passed on without waiting (default 16 MiB). */
  maxHeldBytes?: number;
  /** When the streams opened (ms, the clock of `push` and `take`): a CPU silent since then is quiet from then. */
  now?: number;
  /**
   * How long a CPU that has delivered nothing yet may hold the others back (ms; `holdMs` when left out):
   * stapio's reader threads start one after another, and on a loaded machine one may begin well after the
   * others. A CPU that writes nothing (a timer that fires on one CPU) costs it once, at the read's first gap.
   */
  startHoldMs?: number;
}

/** Whether `a` comes before `b` in sequence order (modulo 2^32). */
export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * Merges records from `cpus` streams by sequence number.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const m = new SequenceMerge(2, { holdMs: 100, expect: 1, now: 0 });
 * const r = (seq: number) => ({ seq, payload: new Uint8Array() });
 * m.push(1, [r(2)], 0);
 * assertEquals(m.take(0).map((x) => x.seq), []); // 1 may still come from CPU 0
 * m.push(0, [r(1), r(4)], 10);
 * assertEquals(m.take(10).map((x) => x.seq), [1, 2]); // 3 may still come from CPU 1
 * assertEquals(m.take(200).map((x) => x.seq), [4]); // CPU 1 stayed quiet: 3 is lost
 * ```
 */
export class SequenceMerge {
  #queues: RelayRecord[][];
  #heads: number[];
  #lastInput: number[];
  #ended: boolean[];
  #holdMs: number;
  #startHoldMs: number;
  /** Per CPU: it has delivered bytes. */
  #started: boolean[];
  #maxHeld: number;
  #held = 0;
  #last: number | undefined;
  /** Records passed on after a later one had been (their CPU fell behind more than `holdMs`). */
  late = 0;

  constructor(cpus: number, options: MergeOptions) {
    this.#queues = Array.from({ length: cpus }, () => []);
    this.#heads = new Array(cpus).fill(0);
    this.#lastInput = new Array(cpus).fill(options.now ?? -Infinity);
    this.#ended = new Array(cpus).fill(false);
    this.#holdMs = options.holdMs;
    this.#startHoldMs = Math.max(options.holdMs, options.startHoldMs ?? options.holdMs);
    this.#started = new Array(cpus).fill(false);
    this.#maxHeld = options.maxHeldBytes ?? 16 * 1024 * 1024;
    this.#last = options.expect === undefined ? undefined : (options.expect - 1) >>> 0;
  }

  /** Records that `cpu` delivered at time `now` (ms); `now` also marks the stream as active. */
  push(cpu: number, records: readonly RelayRecord[], now: number): void {
    this.#lastInput[cpu] = now;
    this.#started[cpu] = true;
    for (const r of records) {
      this.#queues[cpu].push(r);
      this.#held += r.payload.length;
    }
  }

  /** `cpu` delivered bytes at `now` that are not yet whole records: it is not quiet. */
  active(cpu: number, now: number): void {
    this.#lastInput[cpu] = now;
    this.#started[cpu] = true;
  }

  /** The streams began at `now` (stapio started): every CPU that has delivered nothing is silent from then. */
  begin(now: number): void {
    for (let c = 0; c < this.#lastInput.length; c++) if (!this.#started[c]) this.#lastInput[c] = now;
  }

  /** How long `cpu` may stay silent before it counts as quiet. */
  #hold(cpu: number): number {
    return this.#started[cpu] ? this.#holdMs : this.#startHoldMs;
  }

  /** `cpu`'s stream ended. */
  end(cpu: number): void {
    this.#ended[cpu] = true;
  }

  /** Records of `cpu` waiting in the merge. */
  queued(cpu: number): number {
    return this.#queues[cpu].length - this.#heads[cpu];
  }

  /** Whether every stream ended and every record was taken. */
  get done(): boolean {
    return this.#ended.every(Boolean) && this.#queues.every((q, i) => this.#heads[i] >= q.length);
  }

  #head(cpu: number): RelayRecord | undefined {
    return this.#queues[cpu][this.#heads[cpu]];
  }

  /** The records that can be passed on at `now`, in order. */
  take(now: number): MergedRecord[] {
    const out: MergedRecord[] = [];
    while (true) {
      let pick = -1;
      for (let c = 0; c < this.#queues.length; c++) {
        const h = this.#head(c);
        if (h && (pick < 0 || seqBefore(h.seq, this.#head(pick)!.seq))) pick = c;
      }
      if (pick < 0) break;
      const head = this.#head(pick)!;
      if (!this.#releasable(pick, head.seq, now)) break;
      this.#heads[pick]++;
      this.#held -= head.payload.length;
      if (this.#last !== undefined && !seqBefore(this.#last, head.seq)) this.late++;
      else this.#last = head.seq;
      out.push({ ...head, cpu: pick });
      this.#compact(pick);
    }
    return out;
  }

  #releasable(cpu: number, seq: number, now: number): boolean {
    if (this.#last !== undefined && seq === ((this.#last + 1) >>> 0)) return true;
    if (this.#last !== undefined && !seqBefore(this.#last, seq)) return true; // Late: nothing to wait for.
    if (this.#held > this.#maxHeld) return true;
    for (let c = 0; c < this.#queues.length; c++) {
      if (c === cpu || this.#ended[c] || this.#head(c)) continue;
      if (now - this.#lastInput[c] < this.#hold(c)) return false;
    }
    return true;
  }

  /** Drops a queue's taken records now and then, so it does not grow without bound. */
  #compact(cpu: number): void {
    const q = this.#queues[cpu];
    if (this.#heads[cpu] === q.length) {
      q.length = 0;
      this.#heads[cpu] = 0;
    } else if (this.#heads[cpu] > 1024) {
      q.splice(0, this.#heads[cpu]);
      this.#heads[cpu] = 0;
    }
  }

  /** How long until a held head may be released (ms); undefined when nothing is held. */
  wakeIn(now: number): number | undefined {
    let soonest: number | undefined;
    let any = false;
    for (let c = 0; c < this.#queues.length; c++) {
      if (this.#head(c)) any = true;
      else if (!this.#ended[c]) {
        const at = Math.max(0, this.#lastInput[c] + this.#hold(c) - now);
        soonest = soonest === undefined ? at : Math.min(soonest, at);
      }
    }
    return any ? (soonest ?? 0) : undefined;
  }
}
