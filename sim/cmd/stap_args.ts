/**
 * The simulated `stap`'s command line: the options a flight recorder uses, validated with stap 4.8's own
 * messages (docs/systemtap-4.8.md 1.3, checked against Debian's stap with `-p1`), and the module name stap picks
 * (docs/systemtap-4.8.md 3).
 * @module
 */
import { getopt } from "./getopt.ts";

// Imported when this module loads, not with the program: in the bundle a static `node:` import is loaded at
// every start-up, whichever command runs (lib/snapshots/digest.ts).
const { createHash } = await import("node:crypto");

/** stap's options, as parsed. */
export interface StapOptions {
  flightRecorder: boolean;
  /** `-s` as given: N (MiB per CPU), or `NK` (the simulator's extension for smaller buffers). */
  bufferSize?: string;
  /** `-s` in bytes. */
  bufferBytes?: number;
  outfile?: string;
  /** `-S` text, passed through to staprun. */
  sizeSpec?: string;
  bulk: boolean;
  moduleName?: string;
  /** `-e` text; undefined when the script is a file. */
  scriptText?: string;
  /** The script file (first positional) when there is no `-e`. */
  scriptFile?: string;
  /** Values of `$1`, `@1`, …. */
  args: string[];
  verbose: number;
  suppressWarnings: boolean;
  /** `-T`: seconds. */
  timeoutSeconds?: number;
  guru: boolean;
  /** `-r`: kernel release or build directory (recorded, no effect). */
  kernel?: string;
  /** `-p`: last pass to run (5 = run). */
  lastPass: number;
  targetPid?: number;
  targetCmd?: string;
  /** `-D NAME=VALUE` macros (recorded, no effect). */
  macros: string[];
  /** `--modinfo NAME=VALUE`: strings added to the module's `.modinfo` section. */
  modinfo: [string, string][];
  /** `-I DIR`: tapset directories searched besides the installed tapset. */
  includeDirs: string[];
  /** `-E SCRIPT`: scripts run in addition to the main one. */
  extraScripts: string[];
  /** Messages stap prints while parsing (e.g. `Truncating module name to 'foo'`). */
  notes: string[];
}

/** The outcome: options, help, version, or the error lines of stap (rc 1). */
export type StapParse =
  | { kind: "ok"; options: StapOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; stderr: string };

const OPTSTRING = "hVvtp:I:e:E:o:R:r:a:m:kgPc:x:D:bs:uqiwl:d:L:FS:B:J:jWG:T:C:";
const LONG = {
  help: "none",
  version: "none",
  vp: "required",
  "suppress-handler-errors": "none",
  "skip-badvars": "none",
  "suppress-time-limits": "none",
  "disable-cache": "none",
  "poison-cache": "none",
  "privilege": "required",
  "unprivileged": "none",
  "runtime": "required",
  "modinfo": "required",
  "color": "optional",
  "colour": "optional",
} as const;

/** Longest module name: the kernel's 55 characters (docs/systemtap-4.8.md 3). */
const MAX_MODULE = 55;

function safety(flag: string, value: string, pattern: string, flags = ""): string | undefined {
  return new RegExp(pattern, flags).test(value)
    ? undefined
    : `ERROR: Safety pattern mismatch for -${flag} parameter ('${value}' vs. '${pattern}') rc=1\n`;
}

/**
 * Parses stap's arguments.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const r = parseStapArgs(["-F", "-m", "Bad-Name", "-e", "probe begin {}"]);
 * assertEquals(r.kind === "error" && r.stderr,
 *   "ERROR: Safety pattern mismatch for -m parameter ('Bad-Name' vs. '^[a-z0-9_]+$') rc=1\n");
 * ```
 */
export function parseStapArgs(args: string[]): StapParse {
  const parsed = getopt(args, OPTSTRING, LONG);
  const o: StapOptions = {
    flightRecorder: false,
    bulk: false,
    args: [],
    verbose: 0,
    suppressWarnings: false,
    guru: false,
    lastPass: 5,
    macros: [],
    modinfo: [],
    includeDirs: [],
    extraScripts: [],
    notes: [],
  };
  for (const { name, value = "" } of parsed.opts) {
    switch (name) {
      case "h":
      case "help":
        return { kind: "help" };
      case "V":
      case "version":
        return { kind: "version" };
      case "v":
        o.verbose++;
        break;
      case "vp":
        o.verbose = Math.max(o.verbose, ...[...value].map(Number).filter((n) => !Number.isNaN(n)));
        break;
      case "p": {
        const pass = /^\d+$/.test(value) ? Number(value) : 0;
        if (pass < 1 || pass > 5) return { kind: "error", stderr: "Invalid pass number (should be 1-5).\n" };
        o.lastPass = pass;
        break;
      }
      case "e":
        o.scriptText = value;
        break;
      case "o":
        o.outfile = value;
        break;
      case "I":
        o.includeDirs.push(value);
        break;
      case "E":
        o.extraScripts.push(value);
        break;
      case "r":
        o.kernel = value;
        break;
      case "m": {
        // stap strips ".ko" before it checks the pattern (Debian's stap accepts "-m foo.ko").
        let name = value;
        if (/\.(ko|so)$/.test(name)) name = name.slice(0, -3);
        const bad = safety("m", name, "^[a-z0-9_]+$", "i");
        if (bad) return { kind: "error", stderr: bad };
        if (name.length > MAX_MODULE) name = name.slice(0, MAX_MODULE);
        if (name !== value) o.notes.push(`Truncating module name to '${name}'`);
        o.moduleName = name;
        break;
      }
      case "g":
        o.guru = true;
        break;
      case "c":
        if (value === "") return { kind: "error", stderr: "Empty CMD string invalid.\n" };
        o.targetCmd = value;
        break;
      case "x":
        if (!/^\d+$/.test(value)) return { kind: "error", stderr: "Invalid target process ID number.\n" };
        o.targetPid = Number(value);
        break;
      case "D": {
        const bad = safety("D", value, "^[a-z_][a-z_0-9]*(=-?[a-z_0-9]+)?$", "i");
        if (bad) return { kind: "error", stderr: bad };
        o.macros.push(value);
        break;
      }
      case "modinfo": {
        const eq = value.indexOf("=");
        o.modinfo.push(eq < 0 ? [value, ""] : [value.slice(0, eq), value.slice(eq + 1)]);
        break;
      }
      case "b":
        o.bulk = true;
        break;
      case "s": {
        const kib = /^(\d+)K$/i.exec(value);
        const bytes = kib ? Number(kib[1]) * 1024 : (/^\d+$/.test(value) ? Number(value) : 0) * 1024 * 1024;
        if (bytes < (kib ? 4096 : 1024 * 1024) || bytes > 4095 * 1024 * 1024 || bytes % 4096 !== 0) {
          return { kind: "error", stderr: "Invalid buffer size (should be 1-4095).\n" };
        }
        o.bufferSize = value;
        o.bufferBytes = bytes;
        break;
      }
      case "w":
        o.suppressWarnings = true;
        break;
      case "F":
        o.flightRecorder = true;
        break;
      case "S": {
        // The simulator also takes `NK` sizes; the message names stap's own pattern.
        const bad = /^[0-9]+K?(,[0-9]+)?$/i.test(value)
          ? undefined
          : safety("S", value, "^[0-9]+(,[0-9]+)?$");
        if (bad) return { kind: "error", stderr: bad };
        o.sizeSpec = value;
        break;
      }
      case "T": {
        const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : 0;
        if (!(seconds > 0)) return { kind: "error", stderr: "Invalid timeout interval.\n" };
        o.timeoutSeconds = seconds;
        break;
      }
      default:
        // The rest (-R, -k, -u, -t, -P, -G, -d, -B, …) change nothing in the simulator.
        break;
    }
  }
  if (parsed.error) {
    return {
      kind: "error",
      stderr: `stap: ${parsed.error}\nTry '--help' for more information. [man stap]\n` +
        "A message like [man foo] means for more info, run % man foo\n",
    };
  }
  const rest = [...parsed.positionals];
  if (o.scriptText === undefined) {
    o.scriptFile = rest.shift();
    if (o.scriptFile === undefined) {
      return {
        kind: "error",
        stderr: "A script must be specified.\nTry '--help' for more information. [man stap]\n",
      };
    }
  }
  o.args = rest;
  return { kind: "ok", options: o };
}

/**
 * The default module name of docs/systemtap-4.8.md 3: `stap_` + 32 hex digits of a hash of the script and the options
 * + `_` + the number of bytes hashed, cut to 55 characters. (stap hashes with MD4; MD5 here gives the same
 * shape.)
 *
 * @example
 * ```ts
 * import { assertMatch } from "@std/assert";
 * assertMatch(defaultModuleName("probe begin {}", ["-F"]), /^stap_[0-9a-f]{32}_\d+$/);
 * ```
 */
export function defaultModuleName(script: string, options: string[]): string {
  const material = new TextEncoder().encode([script, ...options].join("\0"));
  const hex = createHash("md5").update(material).digest("hex");
  return `stap_${hex}_${material.length}`.slice(0, MAX_MODULE);
}

/**
 * staprun's `-R` rename (docs/systemtap-4.8.md 3): keep the name's length, replacing its tail with `_<pid>`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   renameModule("stap_0123456789abcdef0123456789abcdef_1234", 98765),
 *   "stap_0123456789abcdef0123456789abcde_98765",
 * );
 * ```
 */
export function renameModule(name: string, pid: number): string | undefined {
  const suffix = `_${pid}`;
  if (name.length <= suffix.length) return undefined;
  return name.slice(0, name.length - suffix.length) + suffix;
}
