/**
 * The lab's views of loss accounting (docs/loss-accounting.md): what a read's lines and its report say against
 * the script's own counter. Each numbered line carries the counter; a read (a `--json dump -o FILE`, a
 * `--json snapshot`) reports what is missing by sequence number and by the module's count of records it could
 * not reserve. The views check, on each side, that every counter value missing from the reads is reported,
 * with the right count:
 *
 * - `exact` (one read): the values missing between the previous read's last and this read's last are as many
 *   as the read reports missing. It holds when every failure the module counted during the read fell before
 *   its last record (stapfr reads the count once stapio has ended); a script that writes while the count is
 *   read can move one from one read to the next.
 * - the account of a recorder (several reads): the values its reads passed on and the counts they reported
 *   missing add up to the counter's last value, whatever timing moved between reads. A chain of snapshots is
 *   accounted on its own: each snapshot reports what is missing since the previous snapshot (what other reads
 *   took included), so its union and its reports add up to its last value.
 * @module
 */
import type { Side } from "./runner.ts";

/** A numbered line: `tick N`, `N …`, or `NNNNNNNN cpuC …` (the counter, and the CPU where it says). */
const NUMBERED = /^(?:tick )?([0-9]+)(?: cpu([0-9]+))?(?: |$)/;
/** Lines a script prints without a number. */
const FIXED = new Set(["begin", "exited"]);

/** What one kind of read (any read, or the snapshots) of each recorder added up to. */
interface Chain {
  /** Every counter value passed on, per recorder. */
  seen: Map<string, Set<number>>;
  /** The counts reported missing, summed per recorder. */
  reported: Map<string, number>;
  /** Reads that could not say what was missing, per recorder. */
  unknown: Map<string, number>;
}

/** What a side's reads of each recorder added up to, across steps and scenarios. */
export interface LossLedger {
  /** Every read (a dump reports what is missing since the previous read of any kind). */
  reads: Chain;
  /** The snapshots (each reports what is missing since the previous snapshot). */
  snapshots: Chain;
}

function chain(): Chain {
  return { seen: new Map(), reported: new Map(), unknown: new Map() };
}

const ledgers = new WeakMap<Side, LossLedger>();

/** The ledger of one side. */
export function ledgerOf(side: Side): LossLedger {
  let l = ledgers.get(side);
  if (!l) {
    l = { reads: chain(), snapshots: chain() };
    ledgers.set(side, l);
  }
  return l;
}

/** Forgets a recorder (a new start numbers from 1 again). */
export function forget(side: Side, recorder: string): void {
  for (const c of [ledgerOf(side).reads, ledgerOf(side).snapshots]) {
    c.seen.delete(recorder);
    c.reported.delete(recorder);
    c.unknown.delete(recorder);
  }
}

/** Notes counter values another kind of read passed on (an attach, a plain dump): later reads start after them. */
export function notePassed(side: Side, recorder: string, numbers: readonly number[]): void {
  const seen = ledgerOf(side).reads.seen.get(recorder) ?? new Set<number>();
  for (const n of numbers) seen.add(n);
  ledgerOf(side).reads.seen.set(recorder, seen);
}

interface Missing {
  before_read: number;
  during_read: number;
  unreserved: number | null;
  other_reads: number;
  total: number;
}

/** The lines of a read: counter values in order, their CPUs, and how many lines were neither numbered nor known. */
export function parseLines(text: string): { numbers: number[]; cpus: Set<number>; damaged: number } {
  const numbers: number[] = [];
  const cpus = new Set<number>();
  let damaged = 0;
  for (const line of text.split("\n")) {
    if (line === "" || FIXED.has(line)) continue;
    const m = NUMBERED.exec(line);
    if (!m) {
      damaged++;
      continue;
    }
    numbers.push(Number(m[1]));
    if (m[2] !== undefined) cpus.add(Number(m[2]));
  }
  return { numbers, cpus, damaged };
}

/**
 * One read against the ledger: records what it passed on and reported, and says whether its report is exact
 * for the counter values since the previous read (null when it passed nothing on: only the account can say).
 */
export function checkRead(
  l: Chain,
  recorder: string,
  numbers: readonly number[],
  missing: Missing | null,
  pending = 0,
): { exact: boolean | null; absent: number | null; ordered: boolean; repeats: number } {
  const seen = l.seen.get(recorder) ?? new Set<number>();
  l.seen.set(recorder, seen);
  let previous = 0;
  for (const n of seen) previous = Math.max(previous, n);
  const repeats = numbers.filter((n) => seen.has(n)).length;
  const ordered = numbers.every((n, i) => i === 0 || n > numbers[i - 1]);
  let absent: number | null = null;
  if (numbers.length > 0) {
    const last = Math.max(...numbers);
    absent = last - previous - new Set(numbers.filter((n) => n > previous)).size;
  }
  for (const n of numbers) seen.add(n);
  if (missing === null) {
    l.unknown.set(recorder, (l.unknown.get(recorder) ?? 0) + 1);
    return { exact: null, absent, ordered, repeats };
  }
  l.reported.set(recorder, (l.reported.get(recorder) ?? 0) + missing.total);
  // Pending numbers (after the last one some CPU passed on) are the next read's to settle.
  return { exact: absent === null ? null : absent - pending === missing.total, absent, ordered, repeats };
}

/** How many numbers `ranges` (both ends included) hold. */
function count(ranges: readonly [number, number][] | undefined): number {
  return (ranges ?? []).reduce((n, [a, b]) => n + b - a + 1, 0);
}

/**
 * The account of a recorder: the values passed on and the counts reported missing, against `total` (the
 * counter's last value; the largest value seen when not given).
 */
export function account(
  side: Side,
  recorder: string,
  options: { total?: number; snapshots?: boolean } = {},
): Record<string, unknown> {
  const l = options.snapshots ? ledgerOf(side).snapshots : ledgerOf(side).reads;
  const total = options.total;
  const seen = l.seen.get(recorder) ?? new Set<number>();
  let last = 0;
  for (const n of seen) last = Math.max(last, n);
  const want = total ?? last;
  const passed = [...seen].filter((n) => n <= want).length;
  const reported = l.reported.get(recorder) ?? 0;
  return {
    exact: (l.unknown.get(recorder) ?? 0) === 0 && passed + reported === want,
    total: want,
    passed,
    reported,
    unknown: l.unknown.get(recorder) ?? 0,
  };
}

/** The view of a `--json dump NAME -o FILE`: the dump's lines (from the file) against its loss report. */
export async function dumpLossView(
  raw: { code: number; stdout: string; stderr: string },
  side: Side,
  recorder: string,
  shape: boolean,
): Promise<{ view: Record<string, unknown>; info: Record<string, unknown> }> {
  let result: { file?: string; loss?: { missing: Missing; pending?: [number, number][] } | null } = {};
  try {
    result = JSON.parse(raw.stdout);
  } catch {
    return { view: { code: raw.code, stdout: raw.stdout.slice(0, 200) }, info: {} };
  }
  const text = result.file ? await Deno.readTextFile(result.file).catch(() => "") : "";
  const lines = parseLines(text);
  const missing = result.loss?.missing ?? null;
  const pending = count(result.loss?.pending);
  const check = checkRead(ledgerOf(side).reads, recorder, lines.numbers, missing, pending);
  const view: Record<string, unknown> = {
    code: raw.code,
    clean: lines.damaged === 0,
    ordered: check.ordered,
    repeats: check.repeats,
    exact: check.exact,
    counted: missing !== null,
  };
  if (lines.cpus.size > 0) view.cpus = lines.cpus.size;
  if (shape && missing) {
    // Which causes a read met: what the step is about, where both sides must meet the same ones.
    view.before = missing.before_read > 0;
    view.during = missing.during_read > 0;
    view.unreserved = (missing.unreserved ?? 0) > 0;
  }
  return {
    view,
    info: {
      lines: lines.numbers.length,
      numbers: lines.numbers.length ? [Math.min(...lines.numbers), Math.max(...lines.numbers)] : [],
      absent: check.absent,
      pending,
      missing,
      stderr: raw.stderr.split("\n").filter((l) => l.startsWith("stapfr: ")),
    },
  };
}

/** What a `--json snapshot` manifest's data says against the counter (its files read from the manifest's path). */
export async function snapshotLoss(
  manifest: { id?: string; path?: string; files?: { name: string }[]; missing?: Missing | null },
  side: Side,
  recorder: string,
): Promise<{ view: Record<string, unknown>; info: Record<string, unknown> }> {
  const numbers: number[] = [];
  const cpus = new Set<number>();
  let damaged = 0;
  for (const f of manifest.files ?? []) {
    const text = await Deno.readTextFile(`${manifest.path}/${f.name}`).catch(() => "");
    const lines = parseLines(text);
    numbers.push(...lines.numbers);
    lines.cpus.forEach((c) => cpus.add(c));
    damaged += lines.damaged;
  }
  // The snapshot's pending numbers are in the read log (STATE_DIR/NAME.reads), not in the manifest.
  let pending = 0;
  try {
    const log = JSON.parse(await Deno.readTextFile(`${side.stateDir}/${recorder}.reads`));
    pending = count(log.find((e: { snapshot?: string }) => e.snapshot === manifest.id)?.pending);
  } catch {
    // No log: nothing pending.
  }
  const check = checkRead(ledgerOf(side).snapshots, recorder, numbers, manifest.missing ?? null, pending);
  // What the snapshot passed on, later reads do not need again.
  notePassed(side, recorder, numbers);
  return {
    // In order is the dump's check (global-order); a snapshot that reads live output for a while may pass a
    // record late on a loaded machine, which the manifest counts.
    view: { clean: damaged === 0, exact: check.exact },
    info: {
      ordered: check.ordered,
      pending,
      lines: numbers.length,
      cpus: cpus.size,
      absent: check.absent,
      missing: manifest.missing ?? null,
    },
  };
}
