/**
 * Capturing a recorder's current window into the store. Memory mode drains the ring as `dump` does (attach,
 * read until caught up, detach with SIGQUIT; same cleaning and bounds) into one data file. File mode takes a
 * cut of the run's files: closed (rotated) files are hard-linked, so files stapio rotates away afterwards stay
 * in the snapshot and a large run costs no copying; each stream's newest file, still being written, is copied
 * up to its last complete line (bulk: record). Rules: docs/snapshots.md "Capture".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { join } from "../path.ts";
import { classify, listRunFiles, type RunFile, streamsOf } from "../read_path/files.ts";
import type { RecorderRecord } from "../registry.ts";
import { capacityOf, type Engine } from "../recorder/engine.ts";
import { dumpRecorder } from "../recorder/read.ts";
import { Digest, HashCache } from "./digest.ts";
import { logRead, readLog, type ReadLogEntry } from "../recorder/read_log.ts";
import { type LossReport, type MissingRecords, records, were } from "../recorder/loss.ts";
import { readCounters } from "../driver/counters.ts";
import type { FileSequence } from "./digest.ts";
import { hostFacts } from "./host_facts.ts";
import { type Manifest, MANIFEST_SCHEMA, type SnapshotFile, type SnapshotTrigger } from "./manifest.ts";
import type { SnapshotStore, StoredSnapshot } from "./store.ts";
import { storeError } from "./store_errors.ts";

/** What to capture, and why. */
export interface CaptureOptions {
  /** Why (`--reason`). */
  reason?: string;
  /** Who asked (default: a user). */
  trigger?: SnapshotTrigger;
  /** Aborting it abandons the capture: nothing appears in the store. */
  signal?: AbortSignal;
  /** Receives stapio's diagnostic lines. */
  onDiagnostic?: (line: string) => void;
}

/** The part of a manifest a capture measures. */
type Measured = Pick<
  Manifest,
  | "files"
  | "per_cpu_bytes"
  | "capacity"
  | "wrapped"
  | "wrapped_evidence"
  | "damaged_lines"
  | "damaged_bytes"
  | "transport_failures"
  | "contiguous"
  | "gap_reason"
  | "window_seconds"
  | "first_seq"
  | "last_seq"
  | "records"
  | "missing"
  | "sequence_note"
>;

const TRANSPORT_RE = /There were (\d+) transport failures/;

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A ring holding at least this share of its capacity was full: what came before was overwritten. */
const FULL_SHARE = 0.9;

/** Why a memory snapshot does not continue the previous one, from its loss report; null when it does. */
function memoryGap(loss: LossReport, previous: StoredSnapshot | undefined, run: string): string | null {
  if (!previous || previous.manifest.recorder_started_at !== run) {
    return previous
      ? "the recorder was restarted since the previous snapshot"
      : "no earlier snapshot of this run";
  }
  const m = loss.missing;
  const why: string[] = [];
  if (m.before_read > 0) {
    why.push(
      `${records(m.before_read)} ${
        were(m.before_read)
      } overwritten (or taken by a reader that did not finish) before it`,
    );
  }
  if (m.other_reads > 0) why.push(`${records(m.other_reads)} went to other reads (dump, tail, attach)`);
  if (m.unreserved === null) why.push("the module cannot say how many records it could not reserve");
  else if (m.unreserved > 0) why.push(`the module could not reserve ${records(m.unreserved)}`);
  if (loss.first_seq === null && why.length === 0) {
    // Nothing read: contiguous only if nothing was written since (the module's own counter says).
    return null;
  }
  return why.length > 0 ? why.join("; ") : null;
}

async function captureMemory(
  engine: Engine,
  record: RecorderRecord,
  dir: string,
  previous: StoredSnapshot | undefined,
  options: CaptureOptions,
): Promise<Measured & { log: ReadLogEntry | undefined }> {
  const name = `${record.name}.out`;
  const logBefore = await readLog(engine.registry, record.name, record.startedAt);
  const capacity = await capacityOf(engine, record);
  const digest = new Digest();
  let transport: number | null = null;
  let result: Awaited<ReturnType<typeof dumpRecorder>>;
  {
    const path = join(dir, name);
    using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    result = await dumpRecorder(engine, record.name, async (chunk) => {
      digest.update(chunk);
      try {
        for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
      } catch (err) {
        // Said with the path and what to do (a full store); takeSnapshot keeps the reader's hint with it.
        throw storeError("write snapshot data", path, err);
      }
    }, {
      signal: options.signal,
      onDiagnostic: (line) => {
        const m = TRANSPORT_RE.exec(line);
        if (m) transport = (transport ?? 0) + Number(m[1]);
        options.onDiagnostic?.(line);
      },
      command: "snapshot",
      sinceSnapshot: true,
    });
  }
  if (options.signal?.aborted) {
    throw new StapfrError("Snapshot interrupted: nothing was kept", { code: "interrupted" });
  }
  const lastRead = logBefore.at(-1);
  const since = Date.parse(lastRead?.at ?? record.startedAt);
  const now = new Date();
  const loss = result.loss;
  let evidence: string | null;
  let gap: string | null;
  if (loss) {
    evidence = loss.missing.before_read > 0 ? "sequence numbers" : null;
    gap = memoryGap(loss, previous, record.startedAt);
  } else {
    // Text read (a module without bulk transport): the 4.8 ring's torn leading fragment, or a full ring.
    evidence = result.damage.stale > 0
      ? "leading fragment"
      : digest.bytes + result.damaged_bytes + result.beyond_capacity_bytes >= capacity * FULL_SHARE
      ? "ring full"
      : null;
    gap = "this recorder's output has no sequence numbers: contiguity cannot be proven";
  }
  return {
    files: [{ name, bytes: digest.bytes, lines: digest.lines, sha256: digest.hex(), cpu: null }],
    per_cpu_bytes: null,
    capacity,
    wrapped: evidence !== null,
    wrapped_evidence: evidence,
    damaged_lines: result.damaged_lines,
    damaged_bytes: result.damaged_bytes,
    transport_failures: transport,
    contiguous: gap === null,
    gap_reason: gap,
    window_seconds: Math.max(0, (now.getTime() - since) / 1000),
    first_seq: loss?.first_seq ?? null,
    last_seq: loss?.last_seq ?? null,
    records: loss?.records ?? null,
    missing: loss?.missing ?? null,
    sequence_note: loss ? null : result.loss_unknown,
    log: result.log,
  };
}

/**
 * Follows bulk record headers (`uint32 seq, uint32 len`, then `len` bytes) through a stream fed in blocks, to
 * know where the last complete record ends.
 */
class RecordWalker {
  /** Offset of the next header (the end of every record before it). */
  #next = 0;
  /** Offset of the last header read: the end of the last record known to be complete. */
  #last = 0;
  /** Bytes from `#next` on, when a header was cut by the end of a block. */
  #carry = new Uint8Array(0);

  /** Takes the block that starts at offset `at`. */
  feed(block: Uint8Array, at: number): void {
    let data = block;
    let base = at;
    if (this.#carry.length > 0) {
      data = new Uint8Array(this.#carry.length + block.length);
      data.set(this.#carry);
      data.set(block, this.#carry.length);
      base = this.#next;
    }
    this.#carry = new Uint8Array(0);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let i = this.#next - base;
    while (i >= 0 && i + 8 <= data.length) {
      this.#last = this.#next;
      const len = view.getUint32(i + 4, true);
      this.#next += 8 + len;
      i += 8 + len;
    }
    if (i >= 0 && i < data.length) this.#carry = data.slice(i);
  }

  /** Where the last complete record ends, of the first `size` bytes. */
  end(size: number): number {
    return this.#next <= size ? this.#next : this.#last;
  }
}

/**
 * Copies the first `limit` bytes of `from` into a new 0600 file, in blocks (a file being written can be large),
 * then cuts the copy back to its last complete unit: a whole line, or in bulk mode a whole record.
 */
export async function copyCut(from: string, to: string, limit: number, bulk: boolean): Promise<number> {
  const buf = new Uint8Array(1 << 20);
  const walker = new RecordWalker();
  let copied = 0;
  let lineEnd = 0;
  {
    using src = await Deno.open(from, { read: true });
    using dst = await Deno.open(to, { write: true, createNew: true, mode: 0o600 });
    while (copied < limit) {
      const n = await src.read(buf.subarray(0, Math.min(buf.length, limit - copied)));
      if (n === null) break;
      const block = buf.subarray(0, n);
      for (let done = 0; done < n;) done += await dst.write(block.subarray(done));
      if (bulk) walker.feed(block, copied);
      else if (block.lastIndexOf(10) >= 0) lineEnd = copied + block.lastIndexOf(10) + 1;
      copied += n;
    }
  }
  const keep = bulk ? walker.end(copied) : lineEnd;
  await Deno.truncate(to, keep);
  return keep;
}

async function placeFile(f: RunFile, to: string, newest: boolean, bulk: boolean): Promise<boolean> {
  try {
    if (newest) {
      await copyCut(f.path, to, (await Deno.stat(f.path)).size, bulk);
      return true;
    }
    try {
      await Deno.link(f.path, to);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw err;
      // Another file system, or links not allowed: copy instead.
      await Deno.copyFile(f.path, to);
    }
    // Traced data is 0600 (a link shares its mode with the run's file, which should be 0600 too).
    await Deno.chmod(to, 0o600);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false; // Rotated away since we listed it.
    throw err;
  }
}

/** The first file number a stream starts with: -1 (no suffix) without `-S`, else 0. */
function firstIndex(record: RecorderRecord): number {
  return record.output?.rotate ? 0 : -1;
}

async function captureFiles(
  engine: Engine,
  store: SnapshotStore,
  record: RecorderRecord,
  dir: string,
  previous: StoredSnapshot | undefined,
): Promise<Measured> {
  const out = record.output!;
  const listed = listRunFiles(out.runDir, out.base);
  if (listed.length === 0) {
    throw new StapfrError(`Recorder "${record.name}" has no files in "${out.runDir}"`, {
      code: "not_found",
      hint: 'Its run directory is empty or gone: see "stapfr status"',
    });
  }
  const files: SnapshotFile[] = [];
  const perCpu: Record<string, number> = {};
  const hashes = await HashCache.open(store.recorderDir(record.name));
  let rotatedAway = false;
  const cutIndexes: [string, number][] = [];
  const sequences: FileSequence[] = [];
  for (const stream of streamsOf(listed)) {
    // The files of a stream are numbered without holes; a lower first number than the oldest present means
    // files were rotated away (older data lost before this window).
    if (stream[0].index > firstIndex(record)) rotatedAway = true;
    for (const [i, f] of stream.entries()) {
      const to = join(dir, f.name);
      if (!(await placeFile(f, to, i === stream.length - 1, out.bulk))) {
        rotatedAway = true;
        continue;
      }
      const { seq, ...d } = await hashes.digest(to, out.bulk);
      if (seq) sequences.push(seq);
      files.push({ name: f.name, ...d, cpu: f.cpu });
      if (f.cpu !== null) perCpu[f.cpu] = (perCpu[f.cpu] ?? 0) + d.bytes;
      cutIndexes.push([String(f.cpu), f.index]);
    }
  }
  // Contiguous when, for every stream, the file the previous snapshot was cutting is still here: everything
  // written after that cut is in this one.
  let gap: string | null = null;
  if (!previous || previous.manifest.recorder_started_at !== record.startedAt) {
    gap = previous
      ? "the recorder was restarted since the previous snapshot"
      : "no earlier snapshot of this run";
  } else {
    const lastBefore = new Map<string, number>();
    for (const f of previous.manifest.files) {
      const c = classify(f.name, out.base);
      if (c) lastBefore.set(String(c.cpu), Math.max(lastBefore.get(String(c.cpu)) ?? -2, c.index));
    }
    for (const [stream, last] of lastBefore) {
      const oldestNow = Math.min(...cutIndexes.filter(([cpu]) => cpu === stream).map(([, index]) => index));
      if (!(oldestNow <= last)) {
        gap = "files were rotated away between the snapshots";
        break;
      }
    }
  }
  await hashes.save();
  const streams = new Set(files.map((f) => f.cpu)).size;
  const numbered = out.bulk ? await fileSequence(engine, record, sequences) : undefined;
  if (numbered) {
    // The numbers are the evidence: a window that does not reach back to the previous one lost records.
    rotatedAway = numbered.first_seq !== null && numbered.first_seq > 1;
    if (previous?.manifest.recorder_started_at === record.startedAt && previous.manifest.last_seq != null) {
      gap = numbered.first_seq !== null && numbered.first_seq > previous.manifest.last_seq + 1
        ? `records ${previous.manifest.last_seq + 1}–${
          numbered.first_seq - 1
        } were rotated away between the snapshots`
        : numbered.missing.unreserved === null
        ? "the module cannot say how many records it could not reserve"
        : numbered.missing.unreserved > 0
        ? `the module could not reserve ${numbered.missing.unreserved} records since it started`
        : null;
    }
  }
  return {
    files,
    per_cpu_bytes: out.bulk ? perCpu : null,
    capacity: out.rotate?.count ? out.rotate.size * out.rotate.count * Math.max(1, streams) : null,
    wrapped: rotatedAway,
    wrapped_evidence: rotatedAway ? "files rotated away" : null,
    damaged_lines: 0,
    damaged_bytes: 0,
    transport_failures: null,
    contiguous: gap === null,
    gap_reason: gap,
    window_seconds: null,
    first_seq: numbered?.first_seq ?? null,
    last_seq: numbered?.last_seq ?? null,
    records: numbered?.records ?? null,
    missing: numbered?.missing ?? null,
    sequence_note: numbered
      ? numbered.missing.during_read > 0 ? "missing ranges inside the window are counted, not listed" : null
      : "a non-bulk file recorder writes text without sequence numbers",
  };
}

/**
 * The sequence accounting of a bulk file window from its files' numbers: a file recorder's numbering starts
 * at 1, so what lies before the window's first number was rotated away; what is absent inside it is the span
 * less the records. (The ranges inside are not listed: that would take a merge of every file.)
 */
async function fileSequence(
  engine: Engine,
  record: RecorderRecord,
  files: readonly FileSequence[],
): Promise<
  Pick<Manifest, "first_seq" | "last_seq" | "records"> & { missing: MissingRecords; first_seq: number | null }
> {
  const counters = record.counters ? await readCounters(engine.host.procRoot, record.module) : undefined;
  const unreserved = counters?.transport_failures ?? null;
  if (files.length === 0) {
    return {
      first_seq: null,
      last_seq: null,
      records: 0,
      missing: {
        before_read: 0,
        during_read: 0,
        backlog: null,
        unreserved,
        other_reads: 0,
        total: unreserved ?? 0,
        ranges: [],
        ranges_capped: false,
      },
    };
  }
  const first = Math.min(...files.map((f) => f.first));
  const last = Math.max(...files.map((f) => f.last));
  const records = files.reduce((n, f) => n + f.records, 0);
  const before = first - 1;
  const during = Math.max(0, last - first + 1 - records);
  return {
    first_seq: first,
    last_seq: last,
    records,
    missing: {
      before_read: before,
      during_read: during,
      backlog: null,
      unreserved,
      other_reads: 0,
      total: before + during + (unreserved ?? 0),
      ranges: before > 0 ? [[1, before]] : [],
      ranges_capped: during > 0,
    },
  };
}

/** Captures `record`'s window into `store`; returns the stored snapshot. */
export async function captureSnapshot(
  engine: Engine,
  store: SnapshotStore,
  record: RecorderRecord,
  options: CaptureOptions = {},
): Promise<StoredSnapshot> {
  const previous = (await store.list(record.name)).snapshots.at(-1);
  const started = new Date();
  const partial = await store.begin(record.name, started.getTime());
  let drained: ReadLogEntry | undefined;
  try {
    const measured = record.mode === "memory"
      ? await captureMemory(engine, record, partial.dir, previous, options)
      : await captureFiles(engine, store, record, partial.dir, previous);
    const facts = await hostFacts(engine.host, engine.knobs);
    const { log, ...fields } = measured as Measured & { log?: ReadLogEntry };
    drained = log;
    const manifest: Omit<Manifest, "id"> = {
      schema: MANIFEST_SCHEMA,
      recorder: record.name,
      mode: record.mode,
      module: record.module,
      host_kind: engine.host.kind,
      ...facts,
      script_sha256: record.script ? await sha256Hex(record.script) : null,
      script_file: record.scriptFile,
      stap_args: record.stapArgs,
      recorder_started_at: record.startedAt,
      reason: options.reason ?? null,
      trigger: options.trigger ?? { kind: "user", detail: null },
      capture_started_at: started.toISOString(),
      capture_ended_at: new Date().toISOString(),
      ...fields,
      bytes: fields.files.reduce((s, f) => s + f.bytes, 0),
      lines: fields.files.reduce((s, f) => s + f.lines, 0),
      previous: previous?.manifest.id ?? null,
    };
    if (options.signal?.aborted) {
      throw new StapfrError("Snapshot interrupted: nothing was kept", { code: "interrupted" });
    }
    const { id, path } = await partial.commit(manifest);
    if (log) await logRead(engine.registry, record.name, { ...log, snapshot: id });
    return { path, manifest: { ...manifest, id } as Manifest };
  } catch (err) {
    await partial.abandon();
    // The ring was drained before the capture failed: log that read without a snapshot, so the next snapshot
    // counts what it took as taken by another read, not as part of a snapshot.
    if (drained) await logRead(engine.registry, record.name, drained);
    throw err;
  }
}
