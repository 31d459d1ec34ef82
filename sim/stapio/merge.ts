/**
 * The 4.8 non-bulk reader's merge of the per-CPU relay streams by sequence number (docs/systemtap-4.8.md 2.3, 5.4).
 *
 * stapio 4.8 runs one reader thread per CPU. A thread holding a record waits until that record's sequence
 * number is the last written plus one, or until a timeout of `time(NULL) + 2` (so 1–2 s) expires, then writes
 * it and records its number as the last. A record with a smaller number than expected goes out at once, out of
 * order. So: gaps (lost records, or the first record after an attach, since the count starts at 0) cost a
 * stall; each CPU's records keep their own order, because a waiting thread reads nothing more.
 *
 * The stall is reproduced faithfully but its length is a parameter: `"4.8"` is the real rule (the next whole
 * second plus one), a number is a fixed wait in milliseconds (0: no wait, records go out as they come).
 * @module
 */
import type { RelayRecord } from "../kernel/transport.ts";

/** How long a record waits for its predecessor. */
export type { StallRule } from "../../lib/knobs.ts";
import type { StallRule } from "../../lib/knobs.ts";

/** A record ready to be written, with the CPU it came from. */
export interface MergedRecord {
  cpu: number;
  record: RelayRecord;
}

interface Pending {
  record: RelayRecord;
  /** When this record's reader thread started waiting with it (ms). */
  since?: number;
}

/**
 * Merges per-CPU records in the order stapio 4.8 writes them. Time is in milliseconds, real or virtual.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const m = new SequenceMerger(2, 1000);
 * const rec = (seq: number) => ({ seq, payload: new Uint8Array() });
 * m.push(1, rec(2), 0);
 * assertEquals(m.take(0).length, 0); // seq 2 waits for seq 1
 * m.push(0, rec(1), 10);
 * assertEquals(m.take(10).map((r) => r.record.seq), [1, 2]);
 * ```
 */
export class SequenceMerger {
  readonly #queues: Pending[][];
  readonly #stall: StallRule;
  #last: number;

  /** `last` is the sequence number taken as already written (0 for a fresh stapio). */
  constructor(cpus: number, stall: StallRule, last = 0) {
    this.#queues = Array.from({ length: cpus }, () => []);
    this.#stall = stall;
    this.#last = last;
  }

  /** The last sequence number written. */
  get last(): number {
    return this.#last;
  }

  /** Records waiting, over all CPUs. */
  get pending(): number {
    return this.#queues.reduce((n, q) => n + q.length, 0);
  }

  /** Whether a reader thread holds a record in the sequence wait (it is outside ppoll then). */
  get holding(): boolean {
    return this.pending > 0;
  }

  /** A record read from CPU `cpu`'s relay file at time `now`. */
  push(cpu: number, record: RelayRecord, now: number): void {
    const queue = this.#queues[cpu];
    queue.push({ record, since: queue.length === 0 ? now : undefined });
  }

  #deadline(p: Pending): number {
    const since = p.since!;
    if (this.#stall === "4.8") return (Math.floor(since / 1000) + 2) * 1000;
    return since + this.#stall;
  }

  /** Everything that may be written at time `now`, in the order it is written. */
  take(now: number): MergedRecord[] {
    const out: MergedRecord[] = [];
    for (;;) {
      let best = -1;
      for (let cpu = 0; cpu < this.#queues.length; cpu++) {
        const head = this.#queues[cpu][0];
        if (!head) continue;
        head.since ??= now;
        const ready = head.record.seq <= this.#last + 1 || now >= this.#deadline(head);
        if (ready && (best < 0 || head.record.seq < this.#queues[best][0].record.seq)) best = cpu;
      }
      if (best < 0) return out;
      const { record } = this.#queues[best].shift()!;
      this.#last = record.seq;
      const next = this.#queues[best][0];
      if (next) next.since = now;
      out.push({ cpu: best, record });
    }
  }

  /** When the earliest waiting record gives up waiting (ms), or undefined when nothing waits. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const queue of this.#queues) {
      const head = queue[0];
      if (!head || head.since === undefined) continue;
      const d = this.#deadline(head);
      if (min === undefined || d < min) min = d;
    }
    return min;
  }

  /** Everything still waiting, in sequence order (used at close: the simulator drains, see reader.ts). */
  drain(): MergedRecord[] {
    const all: MergedRecord[] = [];
    this.#queues.forEach((q, cpu) => q.forEach((p) => all.push({ cpu, record: p.record })));
    for (const q of this.#queues) q.length = 0;
    all.sort((a, b) => a.record.seq - b.record.seq);
    if (all.length) this.#last = all[all.length - 1].record.seq;
    return all;
  }
}
