/**
 * stapio 4.8's main loop on a simulated module: the control handshake, the per-CPU readers and their merge,
 * the writer, and the signals (docs/systemtap-4.8.md 2.1–2.7, 4.3–4.8, section 6). It talks to the module through a
 * {@linkcode ModuleLink} (sockets in the process face) and writes through a {@linkcode StapioWriter}.
 *
 * Behaviour kept from 4.8:
 * - `load` (`staprun -L`): READY, TRANSPORT, START, then detach at once without waiting for the START reply,
 *   printing the Disconnecting text; no readers run, so begin-probe output stays in the rings (2.1).
 * - `attach` (`-A`): readers start before READY and there is no START (2.3).
 * - SIGQUIT detaches: no EXIT, no end probes, the module stays loaded (2.4).
 * - SIGINT, SIGTERM, SIGHUP send EXIT; a second resends; the third gives up and unloads (2.5).
 * - After the module's EXIT the module is unloaded as `staprun -d` would (the caller's `unload`).
 * - A module `ERROR:` makes the exit status 1; warnings are printed once unless verbose, dropped with `-w`
 *   (2.7).
 * - A write error on the output stops that CPU's reader and raises SIGTERM; under `-A` that SIGTERM is lost
 *   and stapio hangs until an external signal (section 6 item 4).
 * - Optional (`loseSignals`): the 4.8 `-A` signal race (2.5). Under `-A` the reader threads do not block
 *   SIGQUIT, SIGINT, SIGTERM and SIGHUP, which stapio ignores, except while they wait in ppoll; the kernel
 *   hands a signal for the process to a thread that does not block it, so one that comes while any reader is
 *   busy (reading, writing, or holding a record in the sequence wait) is lost. `busy` reproduces that: a
 *   reader waits in ppoll only while its ring is empty, so at a high rate every signal is lost (as the kernel
 *   lab saw: three SIGQUITs of three, four SIGTERMs of four) and a slow script's first one arrives. The
 *   other forms drop the first N signals, or each with a seeded probability, whatever the readers do.
 *
 * Simplifications: at EXIT the readers drain what the module flushed (4.8 may lose that tail, 2.5); at a
 * SIGQUIT detach, records already read but held in the sequence wait are written rather than lost.
 * @module
 */
import { Msg } from "../kernel/transport.ts";
import { Prng } from "../workload/prng.ts";
import type { ControlMessage, RelayRecord } from "../kernel/transport.ts";
import { BUFHDR_NO_DATA, type LinkEvents, type ModuleLink } from "./link.ts";
import { SequenceMerger, type StallRule } from "./merge.ts";
import { RotationCrash } from "./rotation.ts";
import { OutputWriteError, type StapioWriter } from "./writer.ts";

/** What stapio was started to do. */
export type StapioMode = "load" | "attach" | "run";

/** Signals stapio reacts to. */
export type StapioSignal = "SIGQUIT" | "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGUSR2";

/** How a stapio session is set up. */
export interface StapioOptions {
  moduleName: string;
  mode: StapioMode;
  /** Opens the module's control channel (throws when it cannot: the module is not running). */
  connect: (events: LinkEvents) => Promise<ModuleLink>;
  /**
   * Makes the output once the module has said whether it is in bulk mode (the STP_BULK query); not used in
   * `load` mode. The writer is opened before START in `run` mode, at once in `attach` mode.
   */
  makeWriter?: (bulk: boolean) => StapioWriter;
  /** The sequence wait (merge.ts). */
  stall: StallRule;
  suppressWarnings?: boolean;
  verbose?: number;
  /** stderr, or the syslog of a daemon. */
  diag: (text: string) => void;
  /** `staprun -d NAME`: returns its exit status. */
  unload: () => Promise<number>;
  /** Reproduce the `-A` signal race of 4.8 (STAPFR_SIM_LOSE_SIGNALS): which signals are lost. */
  loseSignals?: { count: number; probability: number; seed: number; busy?: boolean };
  targetPid?: number;
  /** Milliseconds, for the sequence wait. */
  now?: () => number;
  /** How long to wait at EXIT for the relay files to be drained (ms). */
  drainTimeoutMs?: number;
}

/** The text of a detach, on stderr (docs/systemtap-4.8.md 2.1, 2.4). */
export function disconnectText(name: string): string {
  return `\nDisconnecting from systemtap module.\nTo reconnect, type "staprun -A ${name}"\n`;
}

/** stapio's message when a module cannot be opened (docs/systemtap-4.8.md 2.8). */
export function notRunningText(name: string): string {
  return `ERROR: Cannot attach to module ${name} control channel; not running?\n`;
}

/** The 4.7 crash text: `staprun` even inside stapio, a NUL, then the shell's report. */
export const SEGFAULT_TEXT =
  "\nUNEXPECTED FATAL ERROR in staprun. Please file a bug report.\n\0Segmentation fault\n";

const decoder = new TextDecoder();

/**
 * One run of stapio. `start()` connects and returns; `done` resolves with the exit status.
 */
export class StapioSession {
  readonly done: Promise<number>;
  readonly #o: StapioOptions;
  #merger?: SequenceMerger;
  #writer?: StapioWriter;
  /** Records read before the STP_BULK answer made the writer. */
  #early: [number, RelayRecord][] = [];
  #transport = false;
  #bulkAnswer?: boolean;
  #resolve!: (code: number) => void;
  #link?: ModuleLink;
  #finished = false;
  /** Finishing has begun (records may still arrive while the relay files drain). */
  #ending = false;
  #signals = 0;
  /** Signals lost so far (loseSignals). */
  #lost = 0;
  #lossRandom?: Prng;
  #errorSeen = false;
  #sawAnything = false;
  #warnings = new Set<string>();
  #timer?: ReturnType<typeof setTimeout>;
  #tracesOpen = 0;
  #exiting?: () => void;
  #hung = false;
  /** Resolved once STP_BULK has been sent: an EXIT must not overtake it (the module answers in order). */
  #bulkQueried: Promise<void>;
  #queried!: () => void;
  readonly #deadReaders = new Set<number>();
  #started = false;
  /** The CPU whose record went to the writer last (an asynchronous stdout failure is that reader's). */
  #lastCpu = 0;

  constructor(options: StapioOptions) {
    this.#o = options;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    this.#bulkQueried = new Promise((resolve) => (this.#queried = resolve));
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now();
  }

  /** Whether a write error left this `-A` stapio waiting for an external signal (section 6 item 4). */
  get hung(): boolean {
    return this.#hung;
  }

  /** Connects and starts the mode's handshake. Throws when the module is not there. */
  async start(): Promise<void> {
    const link = await this.#o.connect({
      control: (m) => this.#onControl(m),
      controlClosed: () => this.#onControlClosed(),
      record: (cpu, r) => this.#onRecord(cpu, r),
      diagnostic: (_cpu, text) => this.#o.diag(text),
      traceClosed: () => {
        this.#tracesOpen--;
        if (this.#tracesOpen <= 0) this.#exiting?.();
      },
    });
    this.#link = link;
    if (this.#ending) {
      // A signal ended the session while it was connecting: #finish found no link to close.
      await link.close();
      return;
    }
    if (this.#o.mode === "attach") {
      await link.startReaders();
      this.#tracesOpen = link.cpus;
    }
    await link.send(Msg.READY);
    if (this.#o.mode !== "load") await link.send(Msg.BULK);
    this.#queried();
  }

  /** Makes the writer once bulk mode is known; in `attach` mode opens it and writes what was read so far. */
  #makeWriter(bulk: boolean): void {
    if (!this.#o.makeWriter || this.#writer) return;
    this.#writer = this.#o.makeWriter(bulk);
    if (!bulk) this.#merger = new SequenceMerger(1024, this.#o.stall);
    if (this.#o.mode === "attach") {
      this.#writer.open();
      for (const [cpu, record] of this.#early.splice(0)) this.#onRecord(cpu, record);
    }
  }

  #startPayload(): Uint8Array {
    const payload = new Uint8Array(8);
    new DataView(payload.buffer).setInt32(0, this.#o.targetPid ?? 0, true);
    return payload;
  }

  #onControl(m: ControlMessage): void {
    this.#sawAnything = true;
    if (this.#ending) return;
    switch (m.type) {
      case Msg.TRANSPORT:
        this.#transport = true;
        void this.#onTransport();
        return;
      case Msg.BULK:
        // The host's answer to the STP_BULK query: int32 rc, 0 in bulk mode, -EINVAL otherwise.
        this.#bulkAnswer = m.payload.length >= 4 &&
          new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true) === 0;
        this.#makeWriter(this.#bulkAnswer);
        if (this.#transport) void this.#onTransport();
        return;
      case Msg.START: {
        const res = m.payload.length >= 8
          ? new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(4, true)
          : 0;
        // A failed init (res≠0) makes stapio unload the module and exit 1 (docs/systemtap-4.8.md 2.1, inferred
        // from the code).
        if (res !== 0) {
          this.#errorSeen = true;
          void this.#finish({ unload: true });
        }
        return;
      }
      case Msg.OOB_DATA:
        this.#onText(decoder.decode(m.payload).replace(/\0+$/, ""));
        return;
      case Msg.REQUEST_EXIT:
        void this.#bulkQueried.then(() => this.#sendExit());
        return;
      case Msg.EXIT:
        void this.#finish({ unload: true, drain: true });
        return;
      default:
        // SYSTEM requests and the rest: the simulator runs no commands for the module.
        return;
    }
  }

  async #onTransport(): Promise<void> {
    const link = this.#link!;
    if (this.#o.mode === "load") {
      // 4.8 opens the relay files but starts no readers, sends START and detaches at once (2.1).
      await link.send(Msg.START, this.#startPayload());
      await this.#finish({ detach: true });
      return;
    }
    if (this.#o.mode === "run") {
      // Both the handshake and the bulk answer are needed before the files can be made.
      if (this.#bulkAnswer === undefined || this.#started) return;
      this.#started = true;
      try {
        this.#writer?.open();
      } catch (err) {
        // init_relayfs failed: stapio reports it, then unloads the module and exits 1.
        this.#o.diag(`ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
        this.#errorSeen = true;
        await this.#finish({ unload: true });
        return;
      }
      await link.startReaders();
      this.#tracesOpen = link.cpus;
      await link.send(Msg.START, this.#startPayload());
    }
  }

  #onText(text: string): void {
    if (text.startsWith("WARNING:")) {
      if (this.#o.suppressWarnings) return;
      if (!this.#o.verbose) {
        if (this.#warnings.has(text)) return;
        if (this.#warnings.size >= 1024) {
          this.#o.diag("WARNING deduplication table full\n");
          return;
        }
        this.#warnings.add(text);
      }
    } else if (text.startsWith("ERROR:")) this.#errorSeen = true;
    this.#o.diag(text);
  }

  #onControlClosed(): void {
    if (this.#ending) return;
    // A module host that closes `.cmd` before saying anything refused us: another stapio is attached (EBUSY).
    // (An accepted reader always hears at least the STP_BULK answer, so no clock is needed: under load the
    // refusal can come well after the connect.)
    if (!this.#sawAnything && this.#o.mode === "attach") {
      this.#o.diag(notRunningText(this.#o.moduleName));
      this.#errorSeen = true;
      void this.#finish({});
      return;
    }
    void this.#finish({ drain: true });
  }

  #onRecord(cpu: number, record: RelayRecord): void {
    this.#sawAnything = true;
    if (this.#finished) return;
    const writer = this.#writer;
    if (!writer) {
      if (this.#o.makeWriter) this.#early.push([cpu, record]);
      return;
    }
    if (!this.#merger) {
      this.#write(cpu, record);
      return;
    }
    this.#merger.push(cpu, record, this.#now());
    this.#pump();
  }

  #write(cpu: number, record: RelayRecord): void {
    // A reader thread that failed to write has exited: what it held is gone.
    if (this.#deadReaders.has(cpu)) return;
    this.#lastCpu = cpu;
    try {
      this.#writer!.write(cpu, record);
    } catch (err) {
      if (!(err instanceof OutputWriteError)) throw err;
      this.#readerFailed(err);
    }
  }

  /**
   * Stdout failed after the write was queued (the process face writes asynchronously): the same as a write
   * that fails at once, for the reader that wrote last.
   */
  outputFailed(err: unknown): void {
    if (this.#finished || this.#deadReaders.has(this.#lastCpu)) return;
    this.#readerFailed(new OutputWriteError(1, this.#lastCpu, err));
  }

  #readerFailed(err: OutputWriteError): void {
    this.#deadReaders.add(err.cpu);
    this.#o.diag(`ERROR: ${err.message}\n`);
    this.#link?.stopReader(err.cpu);
    // The reader thread sends SIGTERM to its own process; under -A the 4.8 signal setup loses it.
    if (this.#o.mode === "attach") this.#hung = true;
    else this.#raise("SIGTERM");
  }

  #pump(): void {
    const merger = this.#merger!;
    for (const { cpu, record } of merger.take(this.#now())) this.#write(cpu, record);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = merger.nextDeadline();
    if (deadline !== undefined && !this.#finished) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#finished) this.#pump();
      }, Math.max(0, deadline - this.#now()));
    }
  }

  async #sendExit(): Promise<void> {
    try {
      await this.#link?.send(Msg.EXIT);
    } catch {
      // the module went away; its closing ends the run
    }
  }

  /** Whether this signal is lost to the 4.8 race under `-A` (loseSignals). */
  #loses(sig: StapioSignal): boolean {
    const lose = this.#o.loseSignals;
    if (!lose || this.#o.mode !== "attach" || sig === "SIGUSR2") return false;
    if (lose.busy) {
      // A reader outside ppoll takes it and ignores it: one reading or writing, or one whose record waits
      // for its turn in the sequence wait (pthread_cond_timedwait).
      const busy = (this.#link?.busy ?? false) || (this.#merger?.holding ?? false);
      if (busy) this.#lost++;
      return busy;
    }
    if (this.#lost < lose.count) {
      this.#lost++;
      return true;
    }
    if (lose.probability <= 0) return false;
    this.#lossRandom ??= new Prng(lose.seed);
    const lost = this.#lossRandom.nextUint32() / 0x1_0000_0000 < lose.probability;
    if (lost) this.#lost++;
    return lost;
  }

  /** Delivers a signal to stapio. */
  signal(sig: StapioSignal): void {
    if (this.#ending) return;
    if (this.#loses(sig)) return;
    if (sig === "SIGQUIT") {
      if (this.#o.mode !== "load") void this.#finish({ detach: true });
      return;
    }
    if (sig === "SIGUSR2") {
      this.#switchFiles();
      return;
    }
    this.#raise(sig);
  }

  #raise(_sig: StapioSignal): void {
    if (this.#o.mode === "load") return;
    this.#signals++;
    if (this.#signals >= 3) {
      // The third signal: stop waiting, kill the readers, unload anyway (2.5).
      void this.#finish({ unload: true });
      return;
    }
    void this.#sendExit();
  }

  #switchFiles(): void {
    const writer = this.#writer;
    if (!writer?.toFiles) return;
    try {
      writer.switchFiles();
    } catch (err) {
      if (!(err instanceof RotationCrash)) throw err;
      // 4.7: stapio dies; the module stays loaded.
      this.#o.diag(SEGFAULT_TEXT);
      this.#errorSeen = true;
      void this.#finish({ crashed: true });
      return;
    }
    // 4.6: each reader the signal finds in ppoll (its ring empty) reads a header from its empty relay file,
    // fails and says so; a busy reader does the same at its next ppoll if its ring is empty then (link.ts).
    const parked = this.#link?.interruptReaders() ?? 0;
    for (let i = 0; i < parked; i++) this.#o.diag(BUFHDR_NO_DATA);
  }

  async #finish(
    how: { detach?: boolean; unload?: boolean; drain?: boolean; crashed?: boolean },
  ): Promise<void> {
    if (this.#ending) return;
    this.#ending = true;
    if (how.drain && this.#tracesOpen > 0) {
      // The module flushed its rings before replying EXIT; the host closes traceN once they are empty.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.drainTimeoutMs ?? 1000);
        this.#exiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    // The readers finish their round: what they read is written, what they did not read stays in the ring.
    if (!how.crashed) await this.#link?.stopReaders();
    // Never told whether it is bulk (the module went away first): what was read is written as non-bulk.
    if (!this.#writer && this.#early.length && this.#o.makeWriter && !how.crashed) this.#makeWriter(false);
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#merger && this.#writer && !how.crashed) {
      for (const { cpu, record } of this.#merger.drain()) this.#write(cpu, record);
    }
    await this.#link?.close();
    await this.#writer?.drain();
    this.#writer?.close();
    let code = this.#errorSeen ? 1 : 0;
    if (how.detach) {
      this.#o.diag(disconnectText(this.#o.moduleName));
    } else if (how.unload && !how.crashed) {
      const rc = await this.#o.unload();
      if (rc !== 0) code = 1;
    }
    this.#resolve(code);
  }
}
