/**
 * Every `STAPFR_*` environment knob in one table: its name, what it accepts, its default and who reads it.
 * The command line reads and checks them all once, at startup, whatever the command (as it would a
 * configuration file), so a bad value is one usage error naming the variable instead of a surprise later; the
 * engine, the simulator's stand-ins and its module hosts get their values from this one parser.
 *
 * To add a knob: a field in {@linkcode KnobTable}, a row in {@linkcode KNOBS}, a line in the README's
 * "Environment" section.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * const env = (vars: Record<string, string>) => (name: string) => vars[name];
 * assertEquals(readKnobs(env({ STAPFR_IDLE_MS: "800" })).idleMs, 800);
 * assertEquals(readKnobs(env({})).simCpus, 2);
 * assertThrows(() => readKnobs(env({ STAPFR_SIM_CPUS: "0" })), KnobError, 'Invalid STAPFR_SIM_CPUS "0"');
 * ```
 * @module
 */
import { UsageError } from "./errors.ts";
import { parseSize } from "./units.ts";
import { parseDestination } from "./destination.ts";

/** An environment lookup, as `Deno.env.get`. */
export type EnvLookup = (name: string) => string | undefined;

/** Who reads a knob. */
export type KnobUser = "command line" | "engine" | "simulator";

/** One row of the table. `parse` returns undefined for a value it does not accept. */
export interface Knob<T> {
  /** The environment variable. */
  name: string;
  /** What it accepts, as the error message and the README say it. */
  accepts: string;
  /** Its value when unset or empty. */
  fallback: T;
  /** The default as a person reads it. */
  defaultText: string;
  /** Who reads it. */
  users: readonly KnobUser[];
  /** What it does (the README table says the same). */
  about: string;
  /** The value of a raw setting, or undefined when it does not accept it. */
  parse(raw: string): T | undefined;
}

/**
 * A bad knob value: a usage error (`code: "invalid_environment"`, exit 2) that names the variable and what it
 * accepts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new KnobError("STAPFR_IDLE_MS", "soon", "whole milliseconds, 1–3600000");
 * assertEquals([err.code, err.variable], ["invalid_environment", "STAPFR_IDLE_MS"]);
 * ```
 */
export class KnobError extends UsageError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "KnobError";
  /** The variable at fault. */
  readonly variable: string;
  /** A bad value of `variable`. */
  constructor(variable: string, raw: string, accepts: string) {
    super(`Invalid ${variable} "${raw}": expected ${accepts}`, { code: "invalid_environment" });
    this.variable = variable;
  }
}

function wholeNumber(min: number, max: number): (raw: string) => number | undefined {
  return (raw) => {
    if (!/^\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}

const flag = (raw: string): boolean | undefined => raw === "1" ? true : raw === "0" ? false : undefined;
const text = (raw: string): string => raw;

/** The 4.8 reader's sequence wait: the real rule (`"4.8"`), or a fixed number of milliseconds. */
export type StallRule = "4.8" | number;

/** An hour: the longest wait a knob takes. */
const HOUR_MS = 3_600_000;

/** The knobs by the name the code uses; a new knob is a field here and a row in {@linkcode KNOBS}. */
export interface KnobTable {
  /** `STAPFR_SIM`. */
  sim: Knob<boolean>;
  /** `STAPFR_STATE_DIR`. */
  stateDir: Knob<string | undefined>;
  /** `STAPFR_STORE`. */
  store: Knob<string | undefined>;
  /** `STAPFR_IDLE_MS`. */
  idleMs: Knob<number>;
  /** `STAPFR_SIGNAL_WAIT_MS`. */
  signalWaitMs: Knob<number>;
  /** `STAPFR_DUMP_MAX_MS`. */
  dumpMaxMs: Knob<number>;
  /** `STAPFR_SIM_ROOT`. */
  simRoot: Knob<string | undefined>;
  /** `STAPFR_SIM_CPUS`. */
  simCpus: Knob<number>;
  /** `STAPFR_SIM_RATE`. */
  simRate: Knob<number>;
  /** `STAPFR_SIM_SEED`. */
  simSeed: Knob<number>;
  /** `STAPFR_SIM_SEQ_WAIT_MS`. */
  simSeqWaitMs: Knob<StallRule>;
  /** `STAPFR_SIM_LOSE_SIGNALS`. */
  simLoseSignals: Knob<{ count: number; probability: number; busy: boolean }>;
  /** `STAPFR_SIM_RING_DAMAGE`. */
  simRingDamage: Knob<boolean>;
  /** `STAPFR_SIM_DISK_BYTES`. */
  simDiskBytes: Knob<number | undefined>;
  /** `STAPFR_SIM_RELEASE`. */
  simRelease: Knob<string | undefined>;
  /** `STAPFR_SIM_ARGV0`. */
  simArgv0: Knob<string | undefined>;
  /** `STAPFR_HOST_NAME`. */
  hostName: Knob<string | undefined>;
  /** `STAPFR_SHIP_TO`. */
  shipTo: Knob<string | undefined>;
  /** `STAPFR_SHIP_TIMEOUT_MS`. */
  shipTimeoutMs: Knob<number>;
  /** `STAPFR_SHIP_ATTEMPTS`. */
  shipAttempts: Knob<number>;
  /** `STAPFR_SHIP_PART_SIZE`. */
  shipPartSize: Knob<number>;
  /** `STAPFR_SHIP_RATE`. */
  shipRate: Knob<number | undefined>;
  /** `STAPFR_SHIP_RETRY_MS`. */
  shipRetryMs: Knob<number>;
}

/** The table, in the README's order. */
export const KNOBS: KnobTable = {
  sim: {
    name: "STAPFR_SIM",
    accepts: '"1" (use the simulator) or "0"',
    fallback: false,
    defaultText: "0",
    users: ["command line"],
    about: "the same as --sim",
    parse: flag,
  },
  stateDir: {
    name: "STAPFR_STATE_DIR",
    accepts: "a directory",
    fallback: undefined,
    defaultText: "/var/lib/stapfr as root, else ~/.local/state/stapfr; SIM_ROOT/state with the simulator",
    users: ["command line", "engine"],
    about: "where recorders are registered (--state-dir overrides it)",
    parse: text,
  },
  store: {
    name: "STAPFR_STORE",
    accepts: "a directory",
    fallback: undefined,
    defaultText: "STATE_DIR/snapshots",
    users: ["engine"],
    about: "the snapshot store (--store overrides it)",
    parse: text,
  },
  idleMs: {
    name: "STAPFR_IDLE_MS",
    accepts: `a whole number of milliseconds from 1 to ${HOUR_MS}`,
    fallback: 2500,
    defaultText: "2500",
    users: ["engine"],
    about: "a memory dump ends after stapio was quiet this long (covers 4.8's hold of up to 2 s)",
    parse: wholeNumber(1, HOUR_MS),
  },
  signalWaitMs: {
    name: "STAPFR_SIGNAL_WAIT_MS",
    accepts: `a whole number of milliseconds from 1 to ${HOUR_MS}`,
    fallback: 3000,
    defaultText: "3000",
    users: ["engine"],
    about: "how long to wait before resending a signal stapio 4.8 may have lost",
    parse: wholeNumber(1, HOUR_MS),
  },
  dumpMaxMs: {
    name: "STAPFR_DUMP_MAX_MS",
    accepts: `a whole number of milliseconds from 1 to ${HOUR_MS}`,
    fallback: 30_000,
    defaultText: "30000",
    users: ["engine"],
    about:
      "a memory dump (and tail's and stop's drain) reads for at most this long, even under a live stream",
    parse: wholeNumber(1, HOUR_MS),
  },
  simRoot: {
    name: "STAPFR_SIM_ROOT",
    accepts: "a directory",
    fallback: undefined,
    defaultText: "${TMPDIR:-/tmp}/stapfr-sim-UID",
    users: ["engine", "simulator"],
    about: "where the simulator keeps its simulated /proc and, by default, its state directory",
    parse: text,
  },
  simCpus: {
    name: "STAPFR_SIM_CPUS",
    accepts: "a whole number from 1 to 1024",
    fallback: 2,
    defaultText: "2",
    users: ["simulator"],
    about: "the simulated machine's CPUs (one relay ring or file per CPU)",
    parse: wholeNumber(1, 1024),
  },
  simRate: {
    name: "STAPFR_SIM_RATE",
    accepts: "a number of events per second from 0 to 10000000",
    fallback: 100,
    defaultText: "100",
    users: ["simulator"],
    about: "the synthetic workload's events per second (0: a quiet machine)",
    parse: (raw) => {
      if (!/^\d+(\.\d+)?$/.test(raw)) return undefined;
      const n = Number(raw);
      return n <= 10_000_000 ? n : undefined;
    },
  },
  simSeed: {
    name: "STAPFR_SIM_SEED",
    accepts: "a whole number from 0 to 4294967295",
    fallback: 1,
    defaultText: "1",
    users: ["simulator"],
    about: "the seed of the synthetic workload (the same seed, the same events)",
    parse: wholeNumber(0, 0xffffffff),
  },
  simSeqWaitMs: {
    name: "STAPFR_SIM_SEQ_WAIT_MS",
    accepts: `"4.8" or a whole number of milliseconds from 0 to ${HOUR_MS}`,
    fallback: "4.8",
    defaultText: "4.8",
    users: ["simulator"],
    about: "the 4.8 reader's wait at a sequence gap and after attaching: 4.8's own 1-2 s, or this many ms",
    parse: (raw) => raw === "4.8" ? "4.8" : wholeNumber(0, HOUR_MS)(raw),
  },
  simLoseSignals: {
    name: "STAPFR_SIM_LOSE_SIGNALS",
    accepts:
      '"busy" (an attached stapio loses a signal while one of its readers is busy, as 4.8 does), a whole number N (drop the first N signals to an attached stapio) or a probability between 0 and 1 (each, drawn from STAPFR_SIM_SEED)',
    fallback: { count: 0, probability: 0, busy: false },
    defaultText: "0",
    users: ["simulator"],
    about:
      "reproduce 4.8's lost signals under staprun -A (docs/systemtap-4.8.md 2.5), to test a wrapper's resend",
    parse: (raw) => {
      if (raw === "busy") return { count: 0, probability: 0, busy: true };
      if (/^\d+$/.test(raw)) return { count: Number(raw), probability: 0, busy: false };
      const n = Number(raw);
      return /^0?\.\d+$/.test(raw) && n > 0 && n < 1 ? { count: 0, probability: n, busy: false } : undefined;
    },
  },
  simRingDamage: {
    name: "STAPFR_SIM_RING_DAMAGE",
    accepts: '"1" (the 4.8 ring, with its losses) or "0" (a clean ring, as SystemTap 5.1 and later)',
    fallback: true,
    defaultText: "1",
    users: ["simulator"],
    about:
      "records dropped at a sub-buffer's last 1-8 bytes, records cut short on a full ring, a wrapped ring read from inside a record (docs/loss-accounting.md)",
    parse: flag,
  },
  simDiskBytes: {
    name: "STAPFR_SIM_DISK_BYTES",
    accepts: "a whole number of bytes",
    fallback: undefined,
    defaultText: "(no limit)",
    users: ["simulator"],
    about:
      'a fault: the simulated disk is full after each stapio wrote this many bytes ("No space left on device")',
    parse: wholeNumber(0, Number.MAX_SAFE_INTEGER),
  },
  simRelease: {
    name: "STAPFR_SIM_RELEASE",
    accepts: "a kernel release",
    fallback: undefined,
    defaultText: "6.1.0-sim",
    users: ["engine", "simulator"],
    about: "the simulated kernel's release (uname -r): what sim stap -p4 builds for and sim staprun accepts",
    parse: text,
  },
  simArgv0: {
    name: "STAPFR_SIM_ARGV0",
    accepts: "a program name",
    fallback: undefined,
    defaultText: '(set by the wrappers of "stapfr sim shims")',
    users: ["simulator"],
    about: "the name a stand-in was called by, for its usage text",
    parse: text,
  },
  hostName: {
    name: "STAPFR_HOST_NAME",
    accepts: 'a host name of letters, digits, ".", "-" and "_" (at most 253)',
    fallback: undefined,
    defaultText: "the machine's host name",
    users: ["engine"],
    about: "this host's name in snapshot manifests and in the fleet's store (docs/fleet.md)",
    parse: (raw) => /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/.test(raw) ? raw : undefined,
  },
  shipTo: {
    name: "STAPFR_SHIP_TO",
    accepts: "an s3://BUCKET/PREFIX URL",
    fallback: undefined,
    defaultText: "(none)",
    users: ["command line"],
    about: "where ship, snapshot --ship and the fleet view go when no --to or --remote is given",
    // Its own check: a URL holding credentials is refused without being repeated.
    parse: (raw) => (parseDestination(raw, "STAPFR_SHIP_TO"), raw),
  },
  shipTimeoutMs: {
    name: "STAPFR_SHIP_TIMEOUT_MS",
    accepts: `a whole number of milliseconds from 100 to ${HOUR_MS}`,
    fallback: 60_000,
    defaultText: "60000",
    users: ["engine"],
    about: "a request to the store that makes no progress for this long fails (a full store hangs)",
    parse: wholeNumber(100, HOUR_MS),
  },
  shipAttempts: {
    name: "STAPFR_SHIP_ATTEMPTS",
    accepts: "a whole number from 1 to 20",
    fallback: 4,
    defaultText: "4",
    users: ["engine"],
    about: "attempts per request to the store (the first and its retries, with backoff)",
    parse: wholeNumber(1, 20),
  },
  shipPartSize: {
    name: "STAPFR_SHIP_PART_SIZE",
    accepts: 'a size from 5M to 5G, like "8M"',
    fallback: 8 * 1024 * 1024,
    defaultText: "8M",
    users: ["engine"],
    about: "the part size of multipart uploads (larger files are sent in parts, four at a time)",
    parse: (raw) => {
      const bytes = sizeOrUndefined(raw);
      return bytes !== undefined && bytes >= 5 * 1024 * 1024 && bytes <= 5 * 1024 * 1024 * 1024
        ? bytes
        : undefined;
    },
  },
  shipRate: {
    name: "STAPFR_SHIP_RATE",
    accepts: 'a size per second, like "20M"',
    fallback: undefined,
    defaultText: "(no limit)",
    users: ["engine"],
    about: "shipping sends at most this many bytes per second (spares a busy host's network)",
    parse: (raw) => {
      const bytes = sizeOrUndefined(raw);
      return bytes !== undefined && bytes > 0 ? bytes : undefined;
    },
  },
  shipRetryMs: {
    name: "STAPFR_SHIP_RETRY_MS",
    accepts: `a whole number of milliseconds from 100 to ${HOUR_MS}`,
    fallback: 30_000,
    defaultText: "30000",
    users: ["engine"],
    about: "the watcher's first wait before shipping again after a failure (doubling, at most 1 hour)",
    parse: wholeNumber(100, HOUR_MS),
  },
};

function sizeOrUndefined(raw: string): number | undefined {
  try {
    return parseSize(raw);
  } catch {
    return undefined;
  }
}

/** Every knob's value. */
export type Knobs = { [K in keyof KnobTable]: KnobTable[K] extends Knob<infer T> ? T : never };

/** One knob's value; unset or empty gives its default. Throws {@linkcode KnobError} on a bad value. */
export function readKnob<T>(env: EnvLookup, knob: Knob<T>): T {
  const raw = env(knob.name);
  if (raw === undefined || raw === "") return knob.fallback;
  const value = knob.parse(raw);
  if (value === undefined) throw new KnobError(knob.name, raw, knob.accepts);
  return value;
}

/** Every knob's value from the environment. Throws {@linkcode KnobError} on the first bad one. */
export function readKnobs(env: EnvLookup = (name) => Deno.env.get(name)): Knobs {
  const out: Record<string, unknown> = {};
  for (const [key, row] of Object.entries(KNOBS) as [string, Knob<unknown>][]) out[key] = readKnob(env, row);
  return out as Knobs;
}

/** The defaults (every knob unset). */
export function defaultKnobs(): Knobs {
  return readKnobs(() => undefined);
}
