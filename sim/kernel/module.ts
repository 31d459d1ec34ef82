/**
 * The simulated SystemTap 4.8 kernel module: its life cycle, its control channel and its relay rings
 * (docs/systemtap-4.8.md sections 2.1–2.7, 5 and 6), on virtual time. Pure: time comes in through {@linkcode
 * SimModule.advance}, control messages go out through a bounded queue that the reader drains, data goes
 * into {@linkcode RelayBuffers}. The module host process (`sim/module_host/host.ts`) puts sockets and real time around it.
 *
 * Life cycle, as in the 4.8 runtime (`transport.c`):
 * - load: the rings exist, overwrite is off, STP_TRANSPORT is queued for the first reader.
 * - STP_START from a reader: the begin probes run; the reply START {target, res} is queued.
 * - attach (a reader opens `.cmd`; only one at a time, a second gets EBUSY): overwrite off. If the script
 *   called exit() while detached, STP_REQUEST_EXIT is sent now: the 4.8 timer that sends it runs only while
 *   someone is attached (2.3).
 * - detach (the reader closes `.cmd`): overwrite on, unless exit was already requested.
 * - STP_EXIT from a reader: the end probes run, the transport-failure warning is queued (2.7), then EXIT.
 * - unload (`staprun -d`, rmmod): the same clean-up if it has not happened (end probes, warning), nobody reads.
 * @module
 */
import type { CompiledScript, ScriptRun } from "./program.ts";
import { RelayBuffers, type RingModel } from "./relay.ts";
import { Msg } from "./transport.ts";

/** Control-channel buffers of the 4.8 runtime (STP_DEFAULT_BUFFERS in transport.c). */
export const CONTROL_BUFFERS = 256;

/**
 * Buffers of that pool set aside at load for the "special" messages (START, EXIT, TRANSPORT, REQUEST_EXIT and
 * the four overflow texts, control.c `_stp_ctl_alloc_special_buffers`): warnings and errors get the rest.
 */
const SPECIAL_BUFFERS = 8;

/** The overflow texts of 4.8 (docs/systemtap-4.8.md 2.3; runtime control.c). */
export const OVERFLOW_WARNING = "WARNING: too many pending (warning) messages\n";
export const OVERFLOW_ERROR = "ERROR: too many pending (error) messages\n";

/** errno values the control channel reports. */
export const EINVAL = 22;
export const EBUSY = 16;

const encoder = new TextEncoder();

/** How a module is configured at insert time. */
export interface ModuleConfig {
  /** Module name, as in /proc/modules. */
  name: string;
  script: CompiledScript;
  /** Simulated CPUs (one relay ring each). */
  cpus: number;
  /** Relay bytes per CPU, a multiple of 4096. */
  bufferBytes: number;
  seed: number;
  /** Workload events per second of virtual time. */
  rate: number;
  /** Compiled with `stap -b`: STP_BULK is accepted. */
  bulk?: boolean;
  args?: string[];
  guru?: boolean;
  /** Wall-clock time at load (ns since the epoch) for the script's gettimeofday; fixed when left out. */
  epochNs?: bigint;
  /** The ring: 4.8's, with its losses, or the clean one (sim/kernel/relay.ts); clean when left out. */
  ring?: RingModel;
}

/** A control message waiting in the module's queue. */
export interface QueuedMessage {
  type: number;
  payload: Uint8Array;
}

/** Where the module is in its life. */
export type ModuleState = "loaded" | "running" | "exited" | "unloaded";

/** A second reader tried to open `.cmd` (4.8 control.c: EBUSY). */
export class ModuleBusyError extends Error {
  constructor(name: string) {
    super(`Module "${name}" already has a reader attached`);
    this.name = "ModuleBusyError";
  }
}

/** The simulated kernel module. */
export class SimModule {
  readonly config: ModuleConfig;
  readonly relay: RelayBuffers;
  /** Called when a control message is queued, so that a host can wake its writer. */
  onControl?: () => void;
  #state: ModuleState = "loaded";
  #attached = false;
  #exitFlag = false;
  #requestExitSent = false;
  #run: ScriptRun | undefined;
  #queue: Array<QueuedMessage & { special?: string }> = [];
  /** Dynamic (warning, error, system) buffers in the queue. */
  #dynamic = 0;
  /** Special buffers in the queue, by the message they hold. */
  #special = new Set<string>();
  #nowNs = 0;

  constructor(config: ModuleConfig) {
    this.config = config;
    this.relay = new RelayBuffers(config.cpus, config.bufferBytes, config.ring ?? "clean");
    // The runtime's transport init ends with STP_TRANSPORT: "send me STP_START".
    this.#send(Msg.TRANSPORT, new Uint8Array(0));
  }

  get state(): ModuleState {
    return this.#state;
  }

  /** A reader has `.cmd` open (lsmod refcount 1). */
  get attached(): boolean {
    return this.#attached;
  }

  /** The script asked to stop (exit(), -T, error limit). */
  get exitRequested(): boolean {
    return this.#exitFlag;
  }

  /** Virtual time of the last advance. */
  get nowNs(): number {
    return this.#nowNs;
  }

  /** Probe hits so far. */
  get hits(): number {
    return this.#run?.hits ?? 0;
  }

  /** Megabytes per CPU as the runtime reports them in its transport-failure warning. */
  get bufferMegabytes(): number {
    return Math.floor(this.config.bufferBytes / (1024 * 1024));
  }

  /** The files the script's procfs read probes serve (`/proc/systemtap/MODULE/NAME`). */
  get procfsFiles(): readonly string[] {
    return this.#state === "running" ? this.#run?.procfsFiles ?? [] : [];
  }

  /** A read of a procfs file: its probe runs; its text, or undefined while the module is not running. */
  readProcfs(name: string): string | undefined {
    return this.#state === "running" ? this.#run?.readProcfs?.(name) : undefined;
  }

  /** Opens the control channel. Throws {@linkcode ModuleBusyError} when a reader is already attached. */
  attach(): void {
    if (this.#state === "unloaded") throw new Error(`Module "${this.config.name}" is not loaded`);
    if (this.#attached) throw new ModuleBusyError(this.config.name);
    this.#attached = true;
    this.relay.attached();
    this.#maybeRequestExit();
  }

  /** Closes the control channel. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    if (!this.#exitFlag) this.relay.overwrite = true;
  }

  /**
   * A message written by the reader to `.cmd`. Returns what the write would return in 4.8: 0 when absorbed,
   * `-EINVAL` for STP_BULK without bulk mode and for unknown types.
   */
  handle(type: number, payload: Uint8Array): number {
    switch (type) {
      case Msg.START:
        if (payload.length >= 8) {
          this.#start(new DataView(payload.buffer, payload.byteOffset).getInt32(0, true));
        }
        return 0;
      case Msg.EXIT:
        this.#cleanupAndExit(true);
        return 0;
      case Msg.BULK:
        return this.config.bulk ? 0 : -EINVAL;
      case Msg.READY:
      case Msg.NAMESPACES_PID:
        return 0;
      default:
        // STP_RELOCATION, TZINFO, PRIVILEGE_CREDENTIALS, REMOTE_ID (whatever their numbers): absorbed, as the
        // simulator has nothing to relocate. Anything past STP_MAX_CMD is invalid.
        return type >= 0 && type < 19 ? 0 : -EINVAL;
    }
  }

  /** Runs the script up to virtual time `ns` (timers and workload events); then a pending exit request. */
  advance(ns: number): void {
    if (ns <= this.#nowNs) return;
    this.#nowNs = ns;
    if (this.#state === "running" && !this.#exitFlag && this.#run) this.#run.advance(ns);
    this.#maybeRequestExit();
  }

  /** The next control message for the reader, oldest first. */
  takeControl(): QueuedMessage | undefined {
    const message = this.#queue.shift();
    if (!message) return undefined;
    // The buffer goes back to the pool once the reader has it.
    if (message.special) this.#special.delete(message.special);
    else this.#dynamic--;
    return message;
  }

  /** Puts back a message the reader never got (it closed `.cmd` first): it stays for the next reader. */
  unread(message: QueuedMessage): void {
    const { special } = message as QueuedMessage & { special?: string };
    if (special) this.#special.add(special);
    else this.#dynamic++;
    this.#queue.unshift(message);
  }

  /** All queued control messages (for in-process readers and tests). */
  drainControl(): QueuedMessage[] {
    const out: QueuedMessage[] = [];
    for (let m = this.takeControl(); m; m = this.takeControl()) out.push(m);
    return out;
  }

  /** Control messages waiting. */
  get pendingControl(): number {
    return this.#queue.length;
  }

  /**
   * Unloads the module (`staprun -d`, rmmod): the clean-up runs if it has not (end probes, the
   * transport-failure warning), without a reader. Returns the control messages nobody read, for a log.
   */
  unload(): QueuedMessage[] {
    if (this.#state === "unloaded") return [];
    this.#cleanupAndExit(false);
    this.#state = "unloaded";
    this.#attached = false;
    return this.drainControl();
  }

  #start(target: number): void {
    if (this.#state !== "loaded") return;
    let res = 0;
    try {
      this.#run = this.config.script.instantiate({
        cpus: this.config.cpus,
        seed: this.config.seed,
        rate: this.config.rate,
        args: this.config.args,
        guru: this.config.guru,
        epochNs: this.config.epochNs,
        counters: () => ({ transportFailures: this.relay.stats.failures, sequence: this.relay.lastSequence }),
        sink: {
          print: (cpu, bytes) => {
            if (this.#state !== "unloaded") this.relay.write(cpu, bytes);
          },
          warning: (text) => this.#oob(`WARNING: ${text}`),
          error: (text) => this.#oob(`ERROR: ${text}`),
          exit: () => {
            this.#exitFlag = true;
          },
        },
      });
      this.#state = "running";
      this.#run.begin();
    } catch (err) {
      // systemtap_module_init failed: probes never started.
      res = -EINVAL;
      this.#state = "exited";
      this.#oob(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    }
    const reply = new Uint8Array(8);
    const view = new DataView(reply.buffer);
    view.setInt32(0, target, true);
    view.setInt32(4, res, true);
    this.#send(Msg.START, reply);
    this.#maybeRequestExit();
  }

  /** `_stp_cleanup_and_exit`: only once, and only after the probes started. */
  #cleanupAndExit(sendExit: boolean): void {
    if (this.#state !== "running") return;
    this.#exitFlag = true;
    this.relay.overwrite = false;
    this.#run?.end();
    this.#state = "exited";
    const failures = this.relay.stats.failures;
    if (failures) {
      this.#oob(
        `WARNING: There were ${failures} transport failures. Try stap -s to increase the buffer size from ${this.bufferMegabytes}.`,
      );
    }
    if (sendExit) this.#send(Msg.EXIT, new Uint8Array(0));
  }

  #maybeRequestExit(): void {
    if (this.#attached && this.#exitFlag && this.#state === "running" && !this.#requestExitSent) {
      this.#requestExitSent = true;
      this.#send(Msg.REQUEST_EXIT, new Uint8Array(0));
    }
  }

  /** A WARNING:/ERROR: line as `_stp_vlog` sends it: newline added if missing, NUL-terminated. */
  #oob(text: string): void {
    const line = text.endsWith("\n") ? text : `${text}\n`;
    const bytes = encoder.encode(`${line}\0`);
    if (this.#dynamic < CONTROL_BUFFERS - SPECIAL_BUFFERS) {
      this.#dynamic++;
      this.#enqueue({ type: Msg.OOB_DATA, payload: bytes });
      return;
    }
    // Out of buffers: one fixed overflow text per kind may be pending; anything more is lost.
    const overflow = line.startsWith("WARNING: ")
      ? OVERFLOW_WARNING
      : line.startsWith("ERROR: ")
      ? OVERFLOW_ERROR
      : "";
    if (overflow && !this.#special.has(overflow)) {
      this.#special.add(overflow);
      this.#enqueue({ type: Msg.OOB_DATA, payload: encoder.encode(`${overflow}\0`), special: overflow });
    }
  }

  /** START, EXIT, TRANSPORT, REQUEST_EXIT: one buffer each, so at most one of each pending. */
  #send(type: number, payload: Uint8Array): void {
    const key = String(type);
    if (this.#special.has(key)) return;
    this.#special.add(key);
    this.#enqueue({ type, payload, special: key });
  }

  #enqueue(message: QueuedMessage & { special?: string }): void {
    this.#queue.push(message);
    this.onControl?.();
  }
}
