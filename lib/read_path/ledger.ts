/**
 * The ledger of one read: which sequence numbers it passed on, and which it did not between its first and its
 * last (docs/loss-accounting.md "What each figure means"). Numbers are taken modulo 2^32 as the module counts
 * them, unwrapped onto a line internally so that a read across the counter's wrap still counts right.
 * @module
 */

/** A range of sequence numbers, both ends included (as the module numbers them, modulo 2^32). */
export type SeqRange = [from: number, to: number];

/** What the ledger decided about one record. */
export type SeqVerdict = "new" | "late" | "duplicate";

/**
 * Counts what a read passed on.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const ledger = new SequenceLedger();
 * for (const s of [5, 6, 9, 7, 12]) ledger.note(s);
 * assertEquals([ledger.first, ledger.last, ledger.records, ledger.missingCount], [5, 12, 5, 3]);
 * assertEquals(ledger.missingRanges(10).ranges, [[8, 8], [10, 11]]);
 * assertEquals(ledger.missingUpTo(10), 2); // 8 and 10
 * assertEquals(ledger.late, 1);
 * ```
 */
export class SequenceLedger {
  #base: number | undefined;
  #lastRaw = 0;
  #firstU = 0;
  #lastU = 0;
  /** Missing ranges inside [first, last], unwrapped, sorted, disjoint. */
  #missing: [number, number][] = [];
  #missingCount = 0;
  /** Records passed on. */
  records = 0;
  /** Records that came after a later one (their number was counted missing until they came). */
  late = 0;
  /** Records seen twice (not passed on again). */
  duplicates = 0;

  /** The first sequence number (the smallest), if any record was passed on. */
  get first(): number | undefined {
    return this.#base === undefined ? undefined : this.#raw(this.#firstU);
  }

  /** The last sequence number (the largest), if any. */
  get last(): number | undefined {
    return this.#base === undefined ? undefined : this.#raw(this.#lastU);
  }

  /** Numbers missing between the first and the last. */
  get missingCount(): number {
    return this.#missingCount;
  }

  #raw(u: number): number {
    return u >>> 0;
  }

  /** Takes one record's number; says whether it is new, late (it fills a gap) or a duplicate (drop it). */
  note(seq: number): SeqVerdict {
    if (this.#base === undefined) {
      this.#base = seq;
      this.#firstU = this.#lastU = seq;
      this.#lastRaw = seq;
      this.records++;
      return "new";
    }
    const u = this.#lastU + ((seq - this.#lastRaw) | 0);
    if (u > this.#lastU) {
      if (u > this.#lastU + 1) this.#addMissing(this.#lastU + 1, u - 1);
      this.#lastU = u;
      this.#lastRaw = seq;
      this.records++;
      return "new";
    }
    if (u < this.#firstU) {
      if (u < this.#firstU - 1) this.#missing.unshift([u + 1, this.#firstU - 1]);
      this.#missingCount += Math.max(0, this.#firstU - 1 - u);
      this.#firstU = u;
      this.records++;
      this.late++;
      return "late";
    }
    if (this.#removeMissing(u)) {
      this.records++;
      this.late++;
      return "late";
    }
    this.duplicates++;
    return "duplicate";
  }

  #addMissing(from: number, to: number): void {
    this.#missing.push([from, to]);
    this.#missingCount += to - from + 1;
  }

  #removeMissing(u: number): boolean {
    let lo = 0;
    let hi = this.#missing.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [from, to] = this.#missing[mid];
      if (u < from) hi = mid - 1;
      else if (u > to) lo = mid + 1;
      else {
        const parts: [number, number][] = [];
        if (from < u) parts.push([from, u - 1]);
        if (u < to) parts.push([u + 1, to]);
        this.#missing.splice(mid, 1, ...parts);
        this.#missingCount--;
        return true;
      }
    }
    return false;
  }

  /**
   * The missing numbers after `cutoff` (a number this read passed on), as ranges: those a CPU whose stream
   * stopped earlier may still hold (docs/loss-accounting.md "What stapfr cannot know").
   */
  missingAfter(cutoff: number): SeqRange[] {
    if (this.#base === undefined) return [];
    const c = this.#lastU + ((cutoff - this.#lastRaw) | 0);
    const out: SeqRange[] = [];
    for (const [from, to] of this.#missing) {
      if (to <= c) continue;
      out.push([this.#raw(Math.max(from, c + 1)), this.#raw(to)]);
    }
    return out;
  }

  /**
   * How many of the missing numbers are at most `limit` (a number as the module counts them, near this read's):
   * those written before a read began, when `limit` is the module's last number at its start.
   */
  missingUpTo(limit: number): number {
    if (this.#base === undefined) return 0;
    const c = this.#lastU + ((limit - this.#lastRaw) | 0);
    let count = 0;
    for (const [from, to] of this.#missing) {
      if (from > c) break;
      count += Math.min(to, c) - from + 1;
    }
    return count;
  }

  /** The missing ranges, at most `cap` of them (the first ones), as the module numbers them. */
  missingRanges(cap: number): { ranges: SeqRange[]; capped: boolean } {
    return {
      ranges: this.#missing.slice(0, cap).map(([a, b]) => [this.#raw(a), this.#raw(b)]),
      capped: this.#missing.length > cap,
    };
  }
}
