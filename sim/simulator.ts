/**
 * The simulator's in-process face: SystemTap's flight recorder on a virtual clock, deterministic for a seed,
 * without processes or sockets. A library user loads a script in memory mode (`stap -F`) or file mode
 * (`stap -F -o FILE [-S size,N] [-b]`), advances time, attaches and reads, detaches (SIGQUIT), rotates
 * (SIGUSR2) and stops (SIGTERM: end probes, unload). The kernel side is `sim/kernel/module.ts`; the user side is the
 * same stapio writer and merge as the process face (`sim/stapio/`), so the files and the order of the output
 * are those of stapio 4.8 (docs/systemtap-4.8.md sections 2, 4 and 5).
 * @module
 */
import { compileScript } from "./lang/mod.ts";
import { SimModule } from "./kernel/module.ts";
import type { CompiledScript } from "./kernel/program.ts";
import { DEFAULT_BUFFER_BYTES } from "./kernel/relay.ts";
import { SequenceMerger, type StallRule } from "./stapio/merge.ts";
import { MemoryFile, MemoryOutputFs, type OutputFs, type OutputHandle } from "./stapio/output_fs.ts";
import { disconnectText } from "./stapio/main_loop.ts";
import { parseFileSizeOption, type RotationSpec } from "./stapio/rotation.ts";
import { StapioWriter } from "./stapio/writer.ts";
import { Msg } from "./kernel/transport.ts";
import { READ_AHEAD, ReadAhead, ReaderThread } from "./stapio/relay_reader.ts";
import { OptionRangeError, OptionTypeError, StapfrError } from "../lib/errors.ts";
import {
  booleanOption,
  numberOption,
  optionsObject,
  stringOption,
  stringsOption,
  wholeOption,
} from "../lib/options.ts";

/** The longest step {@linkcode Simulator.advance} takes: a year of virtual time. */
const MAX_ADVANCE_MS = 365 * 86_400_000;
/** The largest relay buffer per CPU, as stap's `-s`: 4095 MiB. */
const MAX_BUFFER_BYTES = 4095 * 1024 * 1024;

/** The load options, checked (`bufferBytes` a multiple of 4 KiB). */
function loadOptions<T extends LoadOptions>(options: T | undefined): T {
  const o = optionsObject(options);
  wholeOption(o.bufferBytes, "bufferBytes", {
    min: 4096,
    max: MAX_BUFFER_BYTES,
    unit: "bytes",
    multipleOf: 4096,
  });
  booleanOption(o.bulk, "bulk");
  stringsOption(o.args, "args");
  booleanOption(o.guru, "guru");
  return o;
}

/** A module name as the kernel takes it. */
function moduleOption(name: unknown): string {
  const n = stringOption(name, "name", { required: true, nonEmpty: true })!;
  if (!/^[A-Za-z0-9_]{1,55}$/.test(n)) {
    throw new OptionRangeError(
      "name",
      `Invalid option "name": a module name is 1 to 55 letters, digits or "_", got ${JSON.stringify(n)}`,
    );
  }
  return n;
}

export type { CompiledScript, OutputFs, OutputHandle, RotationSpec, StallRule };
export type { ProbeSink, RunOptions, RuntimeCounters, ScriptRun, Unsupported } from "./kernel/program.ts";
export { MemoryFile, MemoryOutputFs };

/** How a {@linkcode Simulator} is set up. */
export interface SimulatorOptions {
  /** Simulated CPUs (default 2). */
  cpus?: number;
  /** Workload seed (default 1). */
  seed?: number;
  /** Workload events per second of virtual time (default 100). */
  rate?: number;
  /** The reader's sequence wait (docs/systemtap-4.8.md 2.3): "4.8" (default, 1–2 s of virtual time) or milliseconds. */
  stall?: StallRule;
  /** Where file-mode output goes (default: in memory, see {@linkcode Simulator.fs}). */
  fs?: OutputFs;
  /** Wall-clock time of virtual time 0, for strftime names (default 2024-01-01T00:00:00Z). */
  epochMs?: number;
}

/** How a script is loaded. */
export interface LoadOptions {
  /** Relay bytes per CPU, a multiple of 4096 (default 16 MiB, as stap). */
  bufferBytes?: number;
  /** `stap -b`. */
  bulk?: boolean;
  /** `$1`, `@1`, … */
  args?: string[];
  /** Guru mode (`stap -g`). */
  guru?: boolean;
}

/** File mode: where and how stapio writes. */
export interface FileOptions extends LoadOptions {
  /** `-o FILE` (absolute, or relative to "/"). */
  output: string;
  /** `-S size[,N]` as text ("1,2") or as a spec. */
  rotate?: string | RotationSpec;
}

/** A reader (an attached stapio or a file-mode daemon) on one module. */
interface Reader {
  module: SimModule;
  writer: StapioWriter;
  merger?: SequenceMerger;
  /** stapio's reader threads, one per CPU, and what each has read ahead. */
  threads: ReaderThread[];
  aheads: ReadAhead[];
  stdout: Uint8Array[];
  stderr: string[];
  exiting: boolean;
  closed: boolean;
}

const READ_BUFFER = READ_AHEAD;
/** Virtual time between two reads of the relay by an attached reader. */
const STEP_NS = 10_000_000;

/**
 * SystemTap's flight recorder on virtual time.
 *
 * @example Memory mode: load, let it run, attach and read, detach; the recording goes on
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * const sim = new Simulator({ seed: 7, rate: 1000 });
 * sim.load("stap_fr_demo", 'probe vfs.read { printf("%s %d\\n", pn(), pid()) }');
 * sim.advance(1000);
 * const reader = sim.attach("stap_fr_demo");
 * sim.advance(2000); // the 4.8 reader holds the first record for 1–2 s
 * assert(reader.output().startsWith("vfs.read "));
 * assertEquals(reader.detach(), '\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A stap_fr_demo"\n');
 * assertEquals(sim.modules(), [{ name: "stap_fr_demo", refcount: 0 }]);
 * ```
 */
export class Simulator {
  /** The output files of file mode. */
  readonly fs: OutputFs;
  readonly #o: Required<Omit<SimulatorOptions, "fs">>;
  readonly #modules = new Map<string, SimModule>();
  readonly #readers = new Map<string, Reader>();
  #nowNs = 0;

  /** A simulator with nothing loaded, at virtual time 0. */
  constructor(options: SimulatorOptions = {}) {
    options = optionsObject(options);
    wholeOption(options.cpus, "cpus", { min: 1, max: 1024, unit: "CPUs" });
    wholeOption(options.seed, "seed", { min: 0, max: 0xffff_ffff, unit: "" });
    numberOption(options.rate, "rate", { min: 0, max: 10_000_000, unit: "events per second" });
    numberOption(options.epochMs, "epochMs", { min: -8.64e15, max: 8.64e15, unit: "milliseconds" });
    if (options.stall !== undefined && options.stall !== "4.8") {
      wholeOption(options.stall, "stall", { min: 0, max: 3_600_000, unit: "milliseconds" });
    }
    if (options.fs !== undefined && (typeof options.fs !== "object" || options.fs === null)) {
      throw new OptionTypeError("fs", 'Invalid option "fs": expected an OutputFs object');
    }
    this.fs = options.fs ?? new MemoryOutputFs();
    this.#o = {
      cpus: options.cpus ?? 2,
      seed: options.seed ?? 1,
      rate: options.rate ?? 100,
      stall: options.stall ?? "4.8",
      epochMs: options.epochMs ?? Date.UTC(2024, 0, 1),
    };
  }

  /** Virtual milliseconds since the simulator was made. */
  get nowMs(): number {
    return this.#nowNs / 1e6;
  }

  #insert(name: string, script: string | CompiledScript, options: LoadOptions): SimModule {
    name = moduleOption(name);
    options = loadOptions(options);
    if (typeof script !== "string" && (typeof script !== "object" || script === null)) {
      throw new OptionTypeError(
        "script",
        'Invalid option "script": expected the script text or a compiled script',
      );
    }
    if (this.#modules.has(name)) {
      throw new StapfrError(`Module "${name}" is already loaded`, { code: "exists" });
    }
    const compiled = typeof script === "string"
      ? compileScript(script, { args: options.args, guru: options.guru })
      : script;
    const module = new SimModule({
      name,
      script: compiled,
      cpus: this.#o.cpus,
      bufferBytes: options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
      seed: this.#o.seed,
      rate: this.#o.rate,
      bulk: options.bulk,
      args: options.args,
      guru: options.guru,
    });
    module.advance(this.#nowNs);
    this.#modules.set(name, module);
    return module;
  }

  /**
   * Memory mode (`stap -F -m NAME`, i.e. `staprun -L`): inserts the module, runs the begin probes, detaches.
   * Returns what `stap` prints on stderr.
   */
  load(name: string, script: string | CompiledScript, options: LoadOptions = {}): string {
    const module = this.#insert(name, script, options);
    module.attach();
    module.takeControl(); // STP_TRANSPORT
    module.handle(Msg.READY, new Uint8Array());
    module.handle(Msg.START, new Uint8Array(8));
    // 4.8 detaches without reading the START reply: it waits for the next reader (2.1).
    module.detach();
    return disconnectText(name);
  }

  /**
   * File mode (`stap -F -o FILE`, i.e. `staprun -D`): a stapio daemon writes `output` as time advances.
   * Returns the daemon's pid line (a made-up pid).
   */
  loadToFiles(name: string, script: string | CompiledScript, options: FileOptions): string {
    stringOption(optionsObject(options).output, "output", { required: true, nonEmpty: true });
    const module = this.#insert(name, script, options);
    const rotation = typeof options.rotate === "string"
      ? parseFileSizeOption(options.rotate)
      : options.rotate;
    if (options.rotate !== undefined && rotation === undefined) {
      throw new OptionRangeError(
        "rotate",
        `Invalid option "rotate": invalid file size option "${options.rotate}"`,
      );
    }
    module.attach();
    module.takeControl();
    const reader = this.#reader(module, options.output, rotation, options.bulk ?? false);
    module.handle(Msg.START, new Uint8Array(8));
    this.#service(reader);
    return `${10000 + this.#modules.size}\n`;
  }

  #reader(
    module: SimModule,
    output: string | undefined,
    rotation: RotationSpec | undefined,
    bulk: boolean,
  ): Reader {
    const writer = new StapioWriter({
      outfile: output === undefined ? undefined : (output.startsWith("/") ? output : `/${output}`),
      bulk,
      cpus: module.config.cpus,
      rotation,
      fs: this.fs,
      stdout: { fd: 1, write: (b) => reader.stdout.push(b.slice()), close() {} },
      now: () => new Date(this.#o.epochMs + this.nowMs),
      cwd: "/",
    });
    const reader: Reader = {
      module,
      writer,
      merger: bulk ? undefined : new SequenceMerger(module.config.cpus, this.#o.stall),
      threads: Array.from({ length: module.config.cpus }, () => new ReaderThread()),
      aheads: Array.from({ length: module.config.cpus }, () => new ReadAhead()),
      stdout: [],
      stderr: [],
      exiting: false,
      closed: false,
    };
    writer.open();
    this.#readers.set(module.config.name, reader);
    return reader;
  }

  /** Advances virtual time by `ms` (0 to a year's milliseconds): probes fire, attached readers read as they go. */
  advance(ms: number): void {
    numberOption(ms, "ms", { min: 0, max: MAX_ADVANCE_MS, unit: "milliseconds" });
    const target = this.#nowNs + Math.round(ms * 1e6);
    while (this.#nowNs < target) {
      const attached = this.#readers.size > 0;
      this.#nowNs = attached ? Math.min(target, this.#nowNs + STEP_NS) : target;
      for (const module of this.#modules.values()) module.advance(this.#nowNs);
      for (const reader of [...this.#readers.values()]) this.#service(reader);
    }
  }

  /** One pass of a reader: control messages, relay records, the merge. */
  #service(reader: Reader): void {
    if (reader.closed) return;
    const { module } = reader;
    const buf = new Uint8Array(READ_BUFFER);
    const read = (cpu: number) => (count: number): Uint8Array | number => {
      const n = module.relay.read(cpu, buf.subarray(0, Math.min(count, buf.length)));
      return n > 0 ? buf.slice(0, n) : n;
    };
    for (let cpu = 0; cpu < module.config.cpus; cpu++) {
      const thread = reader.threads[cpu];
      const ahead = reader.aheads[cpu];
      for (;;) {
        const request = thread.next();
        // The thread waits in ppoll until its relay file has data: until a later step.
        if (request.wait && ahead.held === 0 && !module.relay.hasData(cpu)) break;
        const got = ahead.read(request.count, read(cpu));
        for (const event of thread.got(got)) {
          if (event.kind === "record") {
            const record = {
              seq: event.seq,
              payload: event.payload,
              ...(event.length !== event.payload.length ? { length: event.length } : {}),
            };
            if (reader.merger) reader.merger.push(cpu, record, this.nowMs);
            else reader.writer.write(cpu, record);
          } else if (event.kind === "diag") reader.stderr.push(event.text);
        }
        if (request.wait && got === 0) break;
      }
    }
    if (reader.merger) {
      for (const { cpu, record } of reader.merger.take(this.nowMs)) reader.writer.write(cpu, record);
    }
    for (const m of module.drainControl()) {
      if (m.type === Msg.OOB_DATA) {
        reader.stderr.push(new TextDecoder().decode(m.payload).replace(/\0+$/, ""));
      } else if (m.type === Msg.REQUEST_EXIT) this.#exit(reader);
      else if (m.type === Msg.EXIT) this.#close(reader, true);
      else if (m.type === Msg.START && m.payload.length >= 8) {
        if (new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(4, true) !== 0) {
          this.#close(reader, true);
        }
      }
    }
  }

  #exit(reader: Reader): void {
    if (reader.exiting) return;
    reader.exiting = true;
    reader.module.handle(Msg.EXIT, new Uint8Array());
    this.#service(reader);
  }

  /** Ends a reader: what it read goes out, then it detaches, or (after EXIT) the module is unloaded. */
  #close(reader: Reader, unload: boolean): void {
    if (reader.closed) return;
    reader.closed = true;
    if (reader.merger) {
      for (const { cpu, record } of reader.merger.drain()) {
        reader.writer.write(cpu, record);
      }
    }
    reader.writer.close();
    this.#readers.delete(reader.module.config.name);
    if (unload) {
      reader.module.unload();
      this.#modules.delete(reader.module.config.name);
    } else reader.module.detach();
  }

  /**
   * `staprun -A NAME`: attaches a reader that prints to its own stdout (read it with `output()`). Throws
   * like staprun when the module is absent or already attached.
   */
  attach(name: string): SimAttachment {
    const module = this.#modules.get(name);
    if (!module || this.#readers.has(name)) {
      throw new StapfrError(`ERROR: Cannot attach to module ${name} control channel; not running?`, {
        code: module ? "busy" : "not_running",
      });
    }
    module.attach();
    const reader = this.#reader(module, undefined, undefined, false);
    this.#service(reader);
    return new SimAttachment({
      stdout: () => reader.stdout,
      stderr: () => reader.stderr,
      detach: () => {
        this.#close(reader, false);
        return disconnectText(name);
      },
      stop: () => {
        this.#exit(reader);
        if (!reader.closed) this.#close(reader, true);
      },
    });
  }

  /**
   * A signal to the file-mode daemon of `name`: SIGUSR2 switches files, SIGQUIT detaches (the module stays),
   * SIGTERM/SIGINT/SIGHUP run the end probes and unload.
   */
  signal(name: string, sig: "SIGUSR2" | "SIGQUIT" | "SIGTERM" | "SIGINT" | "SIGHUP"): void {
    const reader = this.#readers.get(name);
    if (!reader) throw new StapfrError(`No stapio runs for module "${name}"`, { code: "not_running" });
    if (sig === "SIGUSR2") reader.writer.switchFiles();
    else if (sig === "SIGQUIT") this.#close(reader, false);
    else {
      this.#exit(reader);
      if (!reader.closed) this.#close(reader, true);
    }
  }

  /** `staprun -d NAME`: unloads a detached module. Throws when it is attached or absent (docs/systemtap-4.8.md 2.8). */
  unload(name: string): void {
    const module = this.#modules.get(name);
    if (!module || module.attached) {
      throw new StapfrError(`ERROR: '${name}' is not a zombie systemtap module.`, {
        code: module ? "busy" : "not_running",
      });
    }
    module.unload();
    this.#modules.delete(name);
  }

  /** The loaded modules, as lsmod shows them (refcount 1 while a reader is attached). */
  modules(): { name: string; refcount: number }[] {
    return [...this.#modules.values()].map((m) => ({ name: m.config.name, refcount: m.attached ? 1 : 0 }));
  }
}

/** What a {@linkcode SimAttachment} is made of (by {@linkcode Simulator.attach}). */
export interface AttachmentOps {
  /** The chunks written to the reader's stdout. */
  stdout(): Uint8Array[];
  /** The module messages delivered to the reader. */
  stderr(): string[];
  /** SIGQUIT; returns the Disconnecting text. */
  detach(): string;
  /** SIGINT: EXIT, end probes, unload. */
  stop(): void;
}

/**
 * An attached `staprun -A`.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * const sim = new Simulator({ rate: 1000 });
 * sim.load("stap_fr_x", 'probe timer.ms(10) { printf("x\\n") }');
 * const reader = sim.attach("stap_fr_x");
 * sim.advance(2500);
 * assert(reader.output().includes("x\n"));
 * reader.stop(); // end probes, then unloaded
 * assert(sim.modules().length === 0);
 * ```
 */
export class SimAttachment {
  readonly #ops: AttachmentOps;

  /** Made by {@linkcode Simulator.attach}. */
  constructor(ops: AttachmentOps) {
    this.#ops = ops;
  }

  /** Everything written to this reader's stdout so far. */
  output(): string {
    const dec = new TextDecoder();
    return this.#ops.stdout().map((b) => dec.decode(b, { stream: true })).join("") + dec.decode();
  }

  /** Module warnings and errors delivered to this reader's stderr. */
  errors(): string {
    return this.#ops.stderr().join("");
  }

  /** SIGQUIT: detaches and returns the text stapio prints. The module keeps recording. */
  detach(): string {
    return this.#ops.detach();
  }

  /** SIGINT/SIGTERM: end probes run (their output is in `output()`), then the module is unloaded. */
  stop(): void {
    this.#ops.stop();
  }
}
