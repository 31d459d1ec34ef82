/**
 * The seam between the simulated kernel module (relay rings, control channel) and the script that runs in it
 * (the SystemTap language interpreter on the synthetic workload). The module only sees these interfaces; the
 * language only sees a {@linkcode ProbeSink}.
 *
 * Time is virtual nanoseconds since the module was loaded, as a plain number (exact up to 104 days).
 * @module
 */

/** What a running script needs from the module that hosts it. */
export interface ProbeSink {
  /**
   * The print buffer of one probe hit, flushed when the probe handler returns (at most 8 KiB, like stap's
   * per-CPU print buffer): it becomes one relay record on that CPU.
   */
  print(cpu: number, bytes: Uint8Array): void;
  /** A `WARNING: …` control message (warn(), MAXACTION skips and the like), without the prefix. */
  warning(text: string): void;
  /** An `ERROR: …` control message (error(), runtime errors), without the prefix. */
  error(text: string): void;
  /** The script asked to stop: exit(), `stap -T`, or the error limit. Probes other than end stop firing. */
  exit(): void;
}

/** How a script instance is set up. */
export interface RunOptions {
  /** Simulated CPUs, numbered 0..cpus-1. */
  cpus: number;
  /** Seed of the synthetic workload. */
  seed: number;
  /** Workload events per second of virtual time, over all CPUs. */
  rate: number;
  /** Where output and control messages go. */
  sink: ProbeSink;
  /** Values of `$1`, `@1`, … (stap's positional arguments after the script). */
  args?: string[];
  /** Guru mode (`-g`): embedded C is accepted (and not run). */
  guru?: boolean;
  /**
   * Wall-clock time at load, in ns since the Unix epoch, for `gettimeofday_*`. A process-level host passes the
   * real time; left out, the run starts at a fixed date so that it is deterministic.
   */
  epochNs?: bigint;
  /**
   * The runtime's own counters, which stapfr's tapset reads with embedded C (lib/driver/counters_tapset.ts):
   * the transport failures so far and the last sequence number handed out. Zero when left out.
   */
  counters?: () => RuntimeCounters;
}

/** What SystemTap's runtime counts while a module runs (`_stp_transport_failures`, `_stp_seq`). */
export interface RuntimeCounters {
  /** Records the runtime could not reserve (dropped, or cut short), since the module was loaded. */
  transportFailures: number;
  /** The last sequence number it handed out (0 before the first record). */
  sequence: number;
}

/** A script instance in a module: begin, then time advances, then end. */
export interface ScriptRun {
  /** Runs the begin probes at time 0. */
  begin(): void;
  /** Fires timers and workload events with times in (last advance, untilNs], in time order. */
  advance(untilNs: number): void;
  /** Runs the end probes. */
  end(): void;
  /** Probe hits so far (for benchmarks and status). */
  readonly hits: number;
  /** The files the script's procfs read probes serve (`/proc/systemtap/MODULE/NAME`). */
  readonly procfsFiles?: readonly string[];
  /** A read of one of them: its probe runs; its text, or undefined when the session is not running. */
  readProcfs?(name: string): string | undefined;
}

/** Something the simulator cannot run, with its place in the script. */
export interface Unsupported {
  /** The script file (`<input>` for `-e`). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What cannot run, in stap's wording where stap has one. */
  message: string;
}

/** A script ready to be instantiated in a module. */
export interface CompiledScript {
  /** Probe points and functions the simulator cannot run; empty when everything runs. */
  readonly unsupported: readonly Unsupported[];
  /** A fresh run of the script in a module with these options. */
  instantiate(options: RunOptions): ScriptRun;
}
