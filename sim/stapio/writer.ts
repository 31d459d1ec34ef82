/**
 * stapio 4.8's output side: where each CPU's records go, in stdout mode and in file mode (`-o`, `-S`, bulk),
 * with strftime names, SIGUSR2 switching, the size check before each write and deletion of file k−N
 * (docs/systemtap-4.8.md 4.1–4.5, 5.4). It is pure apart from the injected {@linkcode OutputFs}: the process face gives
 * it a real directory, tests and the in-process simulator an in-memory one.
 *
 * Reproduced 4.8 bug (docs/systemtap-4.8.md 4.5): in non-bulk mode with `-S`, every CPU's reader opens its own descriptor
 * on the same `F.k` (each with O_TRUNC and its own offset and size count), so with several CPUs producing
 * output they overwrite each other's data and switch at different times. The same holds after a SIGUSR2
 * switch without `-S` (inferred from the code: the switch is per reader thread). The stapfr engine avoids it
 * by using bulk mode for rotating recorders (docs/architecture.md).
 * @module
 */
import { encodeRecord, type RelayRecord } from "../kernel/transport.ts";
import { outfileName } from "./outfile_name.ts";
import type { OutputFs, OutputHandle } from "./output_fs.ts";
import { type RotationSpec, RotationState } from "./rotation.ts";

/** How stapio was asked to write. */
export interface WriterOptions {
  /** `-o` made absolute; undefined writes to stdout (non-bulk) or `stpd_cpuN` (bulk). */
  outfile?: string;
  /** Bulk mode (`stap -b`): one file per CPU with raw records. */
  bulk: boolean;
  /** Relay files (CPUs online at load). */
  cpus: number;
  /** `-S`; undefined or zero size and count when not given. */
  rotation?: RotationSpec;
  fs: OutputFs;
  /** Stdout, for non-bulk output without `-o`. */
  stdout?: OutputHandle;
  /** The clock for strftime names. */
  now: () => Date;
  /** Where `stpd_cpuN` goes. */
  cwd?: string;
}

/** A write failed: stapio prints `ERROR: Couldn't write to output <fd> for cpu <cpu>, exiting.: <reason>`. */
export class OutputWriteError extends Error {
  override name = "OutputWriteError";
  readonly fd: number;
  readonly cpu: number;
  constructor(fd: number, cpu: number, cause: unknown) {
    super(`Couldn't write to output ${fd} for cpu ${cpu}, exiting.: ${reason(cause)}`, { cause });
    this.fd = fd;
    this.cpu = cpu;
  }
}

/** An output file cannot be opened: stapio's `Couldn't open output file <path>: <strerror>`. */
export class OutputOpenError extends Error {
  override name = "OutputOpenError";
  constructor(readonly path: string, cause: unknown) {
    super(`Couldn't open output file ${path}: ${reason(cause)}`, { cause });
  }
}

/** strerror(3) for the errors a write or an open meets. */
function reason(err: unknown): string {
  if (err instanceof Deno.errors.BrokenPipe) return "Broken pipe";
  if (err instanceof Deno.errors.NotFound) return "No such file or directory";
  if (err instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "Is a directory";
  if (err instanceof Deno.errors.NotADirectory) return "Not a directory";
  return err instanceof Error ? err.message : String(err);
}

interface Stream {
  state: RotationState;
  handle?: OutputHandle;
  /** The current file name (undefined for stdout). */
  path?: string;
}

/**
 * The output files of one stapio.
 *
 * @example Rotation with `-S 1,2`: at most two files, `F.k` after each switch
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { MemoryOutputFs } from "./output_fs.ts";
 * const fs = new MemoryOutputFs();
 * const w = new StapioWriter({
 *   outfile: "/t/log", bulk: false, cpus: 1, fs, now: () => new Date(0),
 *   rotation: { sizeLimit: 1 << 20, fileCount: 2 },
 * });
 * w.open();
 * w.switchFiles();
 * w.switchFiles();
 * assertEquals(fs.names(), ["/t/log.1", "/t/log.2"]);
 * ```
 */
export class StapioWriter {
  readonly #o: WriterOptions;
  readonly #spec: RotationSpec;
  readonly #streams: Stream[];
  #closed = false;

  constructor(options: WriterOptions) {
    this.#o = options;
    this.#spec = options.rotation ?? { sizeLimit: 0, fileCount: 0 };
    this.#streams = Array.from({ length: options.cpus }, () => ({ state: new RotationState(this.#spec) }));
  }

  /** Whether output goes to files (SIGUSR2 is ignored otherwise, docs/systemtap-4.8.md 4.6). */
  get toFiles(): boolean {
    return this.#o.outfile !== undefined;
  }

  /** Whether this writer writes raw records (bulk). */
  get bulk(): boolean {
    return this.#o.bulk;
  }

  /** The file each CPU writes to now (undefined entries for stdout). */
  currentFiles(): (string | undefined)[] {
    return this.#streams.map((s) => s.path);
  }

  #name(cpu: number, s: Stream, time: Date): string {
    return outfileName({
      template: this.#o.outfile,
      fnum: s.state.suffixed ? s.state.fnum : -1,
      cpu,
      bulk: this.#o.bulk,
      time,
      cwd: this.#o.cwd,
    });
  }

  #openStream(cpu: number): void {
    const s = this.#streams[cpu];
    const time = this.#o.now();
    s.path = this.#name(cpu, s, time);
    s.handle = this.#openFile(s.path);
    s.state.opened(time);
  }

  #openFile(path: string): OutputHandle {
    try {
      return this.#o.fs.open(path);
    } catch (err) {
      throw new OutputOpenError(path, err);
    }
  }

  /** Opens the first output(s), as stapio's init_relayfs does before the probes start. */
  open(): void {
    const { outfile, bulk } = this.#o;
    const separate = bulk || this.#spec.sizeLimit > 0;
    if (separate) {
      for (let cpu = 0; cpu < this.#streams.length; cpu++) this.#openStream(cpu);
      return;
    }
    // Stream mode: one output shared by every CPU, stdout or the unsuffixed F.
    let shared: OutputHandle;
    let path: string | undefined;
    if (outfile === undefined) {
      if (!this.#o.stdout) throw new Error("Stdout mode needs a stdout handle");
      shared = this.#o.stdout;
    } else {
      const time = this.#o.now();
      path = this.#name(0, this.#streams[0], time);
      shared = this.#openFile(path);
      for (const s of this.#streams) s.state.opened(time);
    }
    for (const s of this.#streams) {
      s.handle = shared;
      s.path = path;
    }
  }

  /**
   * Writes one record read from CPU `cpu`: the payload alone in non-bulk mode, header and payload in bulk
   * mode, after the size check (which may switch this CPU's stream first).
   * Throws {@linkcode OutputWriteError} when the output cannot be written.
   */
  write(cpu: number, record: RelayRecord): void {
    if (this.#closed) return;
    const s = this.#streams[cpu];
    const len = record.payload.length;
    if (this.toFiles && s.state.needsSwitch(len)) this.#switchStream(cpu);
    const bytes = this.#o.bulk ? encodeRecord(record.seq, record.payload, record.length) : record.payload;
    try {
      s.handle!.write(bytes);
    } catch (err) {
      throw new OutputWriteError(s.handle!.fd, cpu, err);
    }
    s.state.count(len, this.#o.bulk);
  }

  /** Resolves once at most `limit` bytes wait in `cpu`'s output (at once for outputs written directly). */
  async whenBelow(cpu: number, limit: number): Promise<void> {
    await this.#streams[cpu]?.handle?.whenBelow?.(limit);
  }

  #switchStream(cpu: number): void {
    const s = this.#streams[cpu];
    const shared = this.#streams.some((o, i) => i !== cpu && o.handle === s.handle);
    const old = s.state.advance();
    if (!shared) s.handle?.close();
    if (old) {
      this.#o.fs.remove(outfileName({
        template: this.#o.outfile,
        fnum: old.fnum,
        cpu,
        bulk: this.#o.bulk,
        time: old.time,
        cwd: this.#o.cwd,
      }));
    }
    this.#openStream(cpu);
  }

  /**
   * SIGUSR2: every CPU's stream moves to its next file number (docs/systemtap-4.8.md 4.3). Ignored without `-o`.
   * Throws a RotationCrash for `-S 0,N` (docs/systemtap-4.8.md 4.7).
   */
  switchFiles(): void {
    if (!this.toFiles || this.#closed) return;
    for (let cpu = 0; cpu < this.#streams.length; cpu++) this.#switchStream(cpu);
  }

  /** Resolves once every queued write (to a named pipe) is done: stapio's threads end after their writes. */
  async drain(): Promise<void> {
    await Promise.all(this.#streams.map((s) => s.handle?.drain?.()));
  }

  /** Closes every file (stdout is left open). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const seen = new Set<OutputHandle>();
    for (const s of this.#streams) {
      if (!s.handle || s.handle === this.#o.stdout || seen.has(s.handle)) continue;
      seen.add(s.handle);
      s.handle.close();
    }
  }
}
