/**
 * Statistics (`s <<< v`): count, sum, min, max, average, variance and log/linear histograms, with the
 * runtime's bucket rules and its ASCII histogram printer (`stat-common.c`), reproduced byte for byte.
 *
 * Differences from the kernel runtime, on purpose: stap keeps one statistic per CPU and merges them when read;
 * the simulator keeps one merged statistic (count, sum, min, max, averages and histograms are the same; the
 * variance of a merge can differ in the last integer digit).
 * @module
 */
import { add, fromBig, type Long, toBig, toNumber } from "./values.ts";

/** Number of buckets of a log histogram, and the bucket of 0 (`stat.h`). */
export const HIST_LOG_BUCKETS = 128;
export const HIST_LOG_BUCKET0 = 64;
/** Most buckets a linear histogram may have, including underflow and overflow. */
export const STP_MAX_BUCKETS = 128;
const HIST_WIDTH = 50;
const HIST_ELISION = 2;

/** Which histogram a statistic keeps (stap allows one kind per statistic variable). */
export type HistogramSpec =
  | { type: "none" }
  | { type: "log" }
  | { type: "linear"; start: number; stop: number; interval: number; buckets: number };

/** The number of buckets of `@hist_linear(s, start, stop, interval)`, or an error message. */
export function linearBuckets(start: number, stop: number, interval: number): number | string {
  if (interval === 0) return "histogram: interval cannot be zero.";
  const buckets = Math.trunc((stop - start) / interval) + 3;
  if (buckets > STP_MAX_BUCKETS || buckets < 3) {
    return `histogram: Number of buckets must be between 1 and ${STP_MAX_BUCKETS - 2}\n` +
      "Number_of_buckets = (stop - start) / interval.\n" +
      "Please adjust your start, stop, and interval values.";
  }
  return buckets;
}

/** One statistic. */
export class Stat {
  count = 0;
  sum: Long = 0;
  min: Long = 0;
  max: Long = 0;
  /** Welford state in shifted integer arithmetic, as `__stp_stat_add` keeps it. */
  private avgS = 0n;
  private m2 = 0n;
  readonly histogram: Float64Array | null;

  constructor(readonly spec: HistogramSpec, readonly shift = 0) {
    this.histogram = spec.type === "log"
      ? new Float64Array(HIST_LOG_BUCKETS)
      : spec.type === "linear"
      ? new Float64Array(spec.buckets)
      : null;
  }

  /** `s <<< value`. */
  add(value: Long): void {
    if (this.count === 0) {
      this.count = 1;
      this.sum = this.min = this.max = value;
      if (this.shift >= 0) this.avgS = toBig(value) << BigInt(this.shift);
      this.m2 = 0n;
    } else {
      this.count++;
      this.sum = add(this.sum, value);
      if (value > this.max) this.max = value;
      if (value < this.min) this.min = value;
      if (this.shift >= 0) {
        const shifted = toBig(value) << BigInt(this.shift);
        const delta = shifted - this.avgS;
        this.avgS += delta / BigInt(this.count);
        this.m2 += delta * (shifted - this.avgS);
      }
    }
    const h = this.histogram;
    if (h !== null) {
      if (this.spec.type === "log") {
        h[logBucket(value)]++;
      } else if (this.spec.type === "linear") {
        h[linearBucket(this.spec.start, this.spec.interval, this.spec.buckets, value)]++;
      }
    }
  }

  /** `@avg`: sum / count in integer division (the caller checks for an empty statistic). */
  avg(): Long {
    if (typeof this.sum === "number") return Math.trunc(this.sum / this.count) + 0;
    return fromBig(toBig(this.sum) / BigInt(this.count));
  }

  /** `@variance`: the sample variance, shifted back (the caller checks for an empty statistic). */
  variance(): Long {
    if (this.count < 2) return -1;
    const varianceS = this.m2 / BigInt(this.count - 1);
    return fromBig(varianceS >> BigInt(2 * this.shift));
  }

  /** Resets to empty (for `delete`). */
  clear(): void {
    this.count = 0;
    this.sum = this.min = this.max = 0;
    this.avgS = this.m2 = 0n;
    this.histogram?.fill(0);
  }
}

function clz64(v: Long): number {
  if (typeof v === "number") {
    if (v < 4294967296) return 32 + Math.clz32(v);
    return Math.clz32(Math.floor(v / 4294967296));
  }
  return 64 - v.toString(2).length;
}

/** `_stp_val_to_bucket`: the log-histogram bucket of a value. */
export function logBucket(value: Long): number {
  if (value === 0) return HIST_LOG_BUCKET0;
  if (value > 0) return HIST_LOG_BUCKETS - clz64(value);
  const magnitude: Long = typeof value === "number" ? -value : BigInt.asUintN(64, -value);
  const res = HIST_LOG_BUCKETS - clz64(magnitude);
  return HIST_LOG_BUCKETS - res;
}

/** `_stp_bucket_to_val`: the lower bound of a log-histogram bucket. */
export function logBucketValue(bucket: number): Long {
  if (bucket === HIST_LOG_BUCKET0) return 0;
  if (bucket < HIST_LOG_BUCKET0) return fromBig(-(1n << 63n) >> BigInt(bucket));
  return fromBig(1n << BigInt(bucket - HIST_LOG_BUCKET0 - 1));
}

function linearBucket(start: number, interval: number, buckets: number, value: Long): number {
  const v = toNumber(value) - start;
  let b = v < 0 ? 0 : Math.floor(v / interval) + 1;
  if (b >= buckets - 1) b = buckets - 1;
  return b;
}

function neededSpace(v: Long): number {
  if (v === 0) return 1;
  const s = typeof v === "number" ? String(Math.abs(v)) : (v < 0 ? -v : v).toString();
  return s.length + (v < 0 ? 1 : 0);
}

function pad(s: string, width: number): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

/** `_stp_stat_print_histogram_buf`: the ASCII histogram of a statistic (which must not be empty). */
export function formatHistogram(stat: Stat): string {
  const spec = stat.spec;
  const hist = stat.histogram;
  if (hist === null || spec.type === "none") return "";
  const buckets = hist.length;
  let low = -1, high = 0, valmax = 0, over = 0, under = 0;
  for (let i = 0; i < buckets; i++) {
    if (hist[i] > 0 && low === -1) low = i;
    if (hist[i] > 0) high = i;
    if (hist[i] > valmax) valmax = hist[i];
  }
  for (let i = 0; i < 2; i++) {
    if (spec.type === "log") {
      if (low !== HIST_LOG_BUCKET0 && low > 0) low--;
    } else if (low > 0) low--;
    if (high < buckets - 1) high++;
  }
  if (spec.type === "linear") {
    if (low === 0 && hist[0] === 0) low++;
    if (high === buckets - 1 && hist[high] === 0) high--;
    if (low === 0) under = 1;
    if (high === buckets - 1) over = 1;
  }
  const scale = valmax <= HIST_WIDTH ? 1 : Math.ceil(valmax / HIST_WIDTH);
  const cntSpace = neededSpace(valmax);
  let valSpace: number;
  if (spec.type === "linear") {
    valSpace = Math.max(
      neededSpace(spec.start) + under,
      neededSpace(spec.start + spec.interval * high) + over,
    );
  } else {
    valSpace = Math.max(neededSpace(logBucketValue(high)), neededSpace(logBucketValue(low)));
  }
  valSpace = Math.max(valSpace, 5);
  let out = pad("value", valSpace) + " |" + "-".repeat(HIST_WIDTH) + " count\n";
  let eliding = false;
  for (let i = low; i <= high; i++) {
    const maxElide = Math.min(HIST_ELISION, buckets);
    const minBucket = Math.max(low, i - maxElide);
    const maxBucket = Math.min(high, i + maxElide);
    let elide = true;
    for (let k = minBucket; k <= maxBucket; k++) if (hist[k] !== 0) elide = false;
    if (elide) {
      eliding = true;
      continue;
    }
    if (eliding) {
      out += " ".repeat(valSpace) + " ~\n";
      eliding = false;
    }
    let val: Long;
    let prefix = "";
    if (spec.type === "linear") {
      if (i === 0) {
        val = spec.start;
        prefix = "<";
      } else if (i === buckets - 1) {
        val = spec.start + (i - 2) * spec.interval;
        prefix = ">";
      } else val = spec.start + (i - 1) * spec.interval;
    } else val = logBucketValue(i);
    out += pad(prefix, valSpace - neededSpace(val)) + String(val) + " |";
    const v = Math.floor(hist[i] / scale);
    out += "@".repeat(v);
    out += pad(String(hist[i]), HIST_WIDTH - v + 1 + cntSpace) + "\n";
  }
  return out + "\n";
}
