/**
 * `tail -f` for file recorders: keeps reading the newest file and moves on to the next one when stapio
 * switches, across rotations and deletions. An open file stays readable after stapio deletes it, so a
 * file is read to its end before the follower moves on. Bulk runs are followed per CPU, and each batch of new
 * records is emitted in sequence order.
 * @module
 */
import type { ByteSink } from "./concat.ts";
import { listRunFiles, type RunFile } from "./files.ts";
import { sleep } from "../driver/run.ts";
import { concatBytes } from "../bytes.ts";
import { seqBefore } from "./sequence_merge.ts";
import type { TailEnd } from "./tail.ts";

/** Follows one stream (the non-bulk output, or one CPU's files). */
class StreamFollower {
  #runDir: string;
  #base: string;
  #cpu: number | null;
  #current: { index: number; file: Deno.FsFile } | undefined;
  #buf = new Uint8Array(1 << 20);

  constructor(runDir: string, base: string, cpu: number | null) {
    this.#runDir = runDir;
    this.#base = base;
    this.#cpu = cpu;
  }

  #files(): RunFile[] {
    return listRunFiles(this.#runDir, this.#base).filter((f) => f.cpu === this.#cpu);
  }

  /**
   * Opens the newest file, positioned at its end (`fromEnd`) or its start; or, `at` a place a tail's read
   * stopped, that file at that offset (the next one from its start, when stapio deleted it meanwhile).
   */
  async start(fromEnd: boolean, at?: { index: number; offset: number }): Promise<void> {
    const files = this.#files();
    if (at) {
      for (const f of files.filter((f) => f.index >= at.index)) {
        try {
          const file = await Deno.open(f.path, { read: true });
          if (f.index === at.index) await file.seek(at.offset, Deno.SeekMode.Start);
          this.#current = { index: f.index, file };
          return;
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
      return;
    }
    for (let i = files.length - 1; i >= 0; i--) {
      try {
        const file = await Deno.open(files[i].path, { read: true });
        if (fromEnd) await file.seek(0, Deno.SeekMode.End);
        this.#current = { index: files[i].index, file };
        return;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }

  /** Reads what is new; `newFile` marks the first piece of each file (a record never spans two). */
  async read(into: { chunk: Uint8Array; newFile: boolean }[]): Promise<void> {
    if (!this.#current) {
      await this.start(false);
      if (!this.#current) return;
      into.push({ chunk: new Uint8Array(0), newFile: true });
    }
    while (true) {
      await this.#drain(into);
      const next = this.#files().find((f) => f.index > this.#current!.index);
      if (!next) return;
      // Read what arrived in the old file between the drain and the listing, then move on.
      await this.#drain(into);
      this.#current.file.close();
      this.#current = undefined;
      try {
        this.#current = { index: next.index, file: await Deno.open(next.path, { read: true }) };
        into.push({ chunk: new Uint8Array(0), newFile: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        // Rotated away before we got to it: continue with whatever is newest now.
        await this.start(false);
        if (!this.#current) return;
        into.push({ chunk: new Uint8Array(0), newFile: true });
      }
    }
  }

  async #drain(into: { chunk: Uint8Array; newFile: boolean }[]): Promise<void> {
    while (true) {
      const n = await this.#current!.file.read(this.#buf);
      if (n === null || n === 0) return;
      into.push({ chunk: this.#buf.slice(0, n), newFile: false });
    }
  }

  close(): void {
    this.#current?.file.close();
    this.#current = undefined;
  }
}

/** Options of {@linkcode followRun}. */
export interface FollowOptions {
  runDir: string;
  base: string;
  bulk: boolean;
  sink: ByteSink;
  /** Aborting it ends the follow. */
  signal?: AbortSignal;
  /** Whether the recording still runs; the follow ends once it does not and everything is read. */
  isRecording: () => Promise<boolean>;
  /** Start at the current end of the newest files. Default true. */
  fromEnd?: boolean;
  /** Start where a tail's read stopped (lib/read_path/tail.ts): nothing written since is skipped. */
  after?: TailEnd;
  pollMs?: number;
  /** Called once the newest files are open (at their end with `fromEnd`): what is written after is read. */
  started?: () => void;
}

/** Follows a file recorder until `signal` aborts or the recording ends. */
export async function followRun(options: FollowOptions): Promise<void> {
  const cpus = options.bulk
    ? [...new Set(listRunFiles(options.runDir, options.base).map((f) => f.cpu))]
    : [null];
  const followers = new Map<number | null, StreamFollower>();
  const pending = new Map<number | null, Uint8Array>();
  const held: { seq: number; payload: Uint8Array }[] = [];
  const lastSeq = new Map<number | null, number>();
  let heldSince = Date.now();
  const follower = async (cpu: number | null, fromEnd: boolean): Promise<StreamFollower> => {
    let f = followers.get(cpu);
    if (!f) {
      f = new StreamFollower(options.runDir, options.base, cpu);
      await f.start(fromEnd, options.after?.streams.get(cpu));
      followers.set(cpu, f);
    }
    return f;
  };
  for (const cpu of cpus) await follower(cpu, options.fromEnd ?? true);
  options.started?.();
  try {
    let quietRounds = 0;
    while (!options.signal?.aborted) {
      if (options.bulk) {
        // A CPU whose first file appears later joins from its start.
        for (const f of listRunFiles(options.runDir, options.base)) await follower(f.cpu, false);
      }
      let got = 0;
      if (!options.bulk) {
        const pieces: { chunk: Uint8Array; newFile: boolean }[] = [];
        await (await follower(null, false)).read(pieces);
        for (const p of pieces) {
          if (p.chunk.length === 0) continue;
          got += p.chunk.length;
          await options.sink(p.chunk);
        }
      } else {
        for (const [cpu, f] of followers) {
          const pieces: { chunk: Uint8Array; newFile: boolean }[] = [];
          await f.read(pieces);
          let rest = pending.get(cpu) ?? new Uint8Array(0);
          const before = held.length;
          for (const p of pieces) {
            if (p.newFile) rest = new Uint8Array(0);
            rest = concatBytes(rest, p.chunk);
            rest = takeRecords(rest, held, options.after?.afterSeq);
          }
          pending.set(cpu, rest);
          if (held.length > before) lastSeq.set(cpu, held[held.length - 1].seq);
        }
        // Each CPU's stream is in sequence order, so every record up to the smallest "latest" sequence number
        // over the CPUs is final. A CPU that stays quiet holds the others back for at most a second.
        held.sort((a, b) => a.seq - b.seq);
        const quiet = held.length > 0 && Date.now() - heldSince > 1000;
        const watermark = quiet || !(await options.isRecording())
          ? Infinity
          : Math.min(...[...followers.keys()].map((cpu) => lastSeq.get(cpu) ?? -1));
        let n = 0;
        while (n < held.length && held[n].seq <= watermark) n++;
        for (const r of held.splice(0, n)) {
          got += r.payload.length;
          await options.sink(r.payload);
        }
        heldSince = n > 0 || held.length === 0 ? Date.now() : heldSince;
      }
      if (got > 0) {
        quietRounds = 0;
        continue;
      }
      // Two quiet rounds after the recording ended: everything it wrote has been read.
      if (!(await options.isRecording()) && ++quietRounds >= 2) return;
      await sleep(options.pollMs ?? 200, options.signal);
    }
  } finally {
    for (const f of followers.values()) f.close();
  }
}

/** Takes the whole records off the front of `bytes`, those up to `afterSeq` left out; returns the rest. */
function takeRecords(
  bytes: Uint8Array,
  into: { seq: number; payload: Uint8Array }[],
  afterSeq?: number,
): Uint8Array {
  let at = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (bytes.length - at >= 8) {
    const seq = view.getUint32(at, true);
    const len = view.getUint32(at + 4, true);
    if (bytes.length - at < 8 + len) break;
    if (afterSeq === undefined || seqBefore(afterSeq, seq)) {
      into.push({ seq, payload: bytes.slice(at + 8, at + 8 + len) });
    }
    at += 8 + len;
  }
  return bytes.subarray(at);
}
