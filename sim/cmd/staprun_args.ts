/**
 * staprun 4.8's command line: the options, and every validation error with its exact text, its order and
 * whether the usage follows (docs/systemtap-4.8.md 1.2; the order was checked against Debian's real staprun: getopt
 * errors in the order given, then the option conflicts, then `-F`, then the missing module, then module
 * options with `-A`, then the name length).
 * @module
 */
import { getopt, strtoul } from "./getopt.ts";
import { parseFileSizeOption, type RotationSpec } from "../stapio/rotation.ts";

/** staprun's (and stapio's) options, as parsed. */
export interface StaprunOptions {
  verbose: number;
  /** `-w`: drop the module's warnings. */
  suppressWarnings: boolean;
  attach: boolean;
  loadOnly: boolean;
  deleteModule: boolean;
  daemon: boolean;
  rename: boolean;
  outfile?: string;
  /** `-b`: bytes per CPU (`-b N` is N MiB; the simulator also takes `-b NK`). */
  bufferBytes?: number;
  /** `-S`: present when given. */
  rotation?: RotationSpec;
  targetPid?: number;
  targetCmd?: string;
  /** `-T`: parsed and, as in 4.8, without effect (docs/systemtap-4.8.md 1.1). */
  readerTimeoutMs?: number;
  color: "auto" | "never" | "always";
  /** The module argument as given (a name or a path). */
  module: string;
  /** `NAME=VALUE` arguments after the module. */
  moduleOptions: string[];
}

/** A validation failure: what goes to stderr and whether the usage text follows on stdout. */
export interface StaprunArgError {
  /** The message after `ERROR: ` (or the whole getopt line when `getopt` is set). */
  message: string;
  /** Print the 47-line usage on stdout. */
  usage: boolean;
  /** A getopt message, printed as `<argv0>: <message>` without the ERROR prefix. */
  getopt?: boolean;
  /** No newline after the message (`-C bogus`, docs/systemtap-4.8.md 1.2). */
  noNewline?: boolean;
}

/** The outcome of parsing: options, a request for help or version, or an error. */
export type StaprunParse =
  | { kind: "ok"; options: StaprunOptions }
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "error"; error: StaprunArgError };

/** The optstring of staprun 4.8 (common.c parse_args). */
export const STAPRUN_OPTSTRING = "+ALu::vhb:t:dc:o:x:N:S:DwRr:ViT:C:M:F:";

/** Longest module name staprun accepts (staprun.h). */
const MAX_MODULE_NAME = 56;

function fail(message: string, usage = true, extra: Partial<StaprunArgError> = {}): StaprunParse {
  return { kind: "error", error: { message, usage, ...extra } };
}

/** The module name staprun derives from its argument: the base name without a `.ko` suffix. */
export function moduleNameOf(arg: string): string {
  const base = arg.slice(arg.lastIndexOf("/") + 1);
  return base.endsWith(".ko") ? base.slice(0, -3) : base;
}

/**
 * Parses staprun's arguments.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const r = parseStaprunArgs(["-A", "-L", "stap_x"]);
 * assertEquals(r.kind === "error" && r.error.message, "You can't specify the '-A' and '-L' options together.");
 * ```
 */
export function parseStaprunArgs(args: string[]): StaprunParse {
  // GNU getopt permutes (the leading "+" of the real optstring is not honoured by Debian's build, as Debian's
  // staprun shows: `staprun -A m -L` reports -A with -L, docs/systemtap-4.8.md 1.2), so parse without it.
  const parsed = getopt(args, STAPRUN_OPTSTRING.slice(1));
  const o: StaprunOptions = {
    verbose: 0,
    suppressWarnings: false,
    attach: false,
    loadOnly: false,
    deleteModule: false,
    daemon: false,
    rename: false,
    color: "auto",
    module: "",
    moduleOptions: [],
  };
  let relayFd = false;
  for (const { name, value = "" } of parsed.opts) {
    switch (name) {
      case "v":
        o.verbose++;
        break;
      case "w":
        o.suppressWarnings = true;
        break;
      case "b": {
        // Simulator extension: `NK` is KiB, a multiple of 4 (one 4 KiB sub-buffer per CPU at least).
        const kib = /^(\d+)K$/i.exec(value);
        if (kib) {
          const bytes = Number(kib[1]) * 1024;
          if (bytes < 4096 || bytes % 4096 !== 0 || bytes > 4095 * 1024 * 1024) {
            return fail(`Invalid buffer size '${value}' (should be 1-4095).`);
          }
          o.bufferBytes = bytes;
          break;
        }
        const mb = strtoul(value);
        if (mb < 1 || mb > 4095) {
          return fail(`Invalid buffer size '${mb >= 2 ** 31 ? -1 : mb}' (should be 1-4095).`);
        }
        o.bufferBytes = mb * 1024 * 1024;
        break;
      }
      case "t":
      case "x":
        o.targetPid = strtoul(value) || undefined;
        break;
      case "d":
        o.deleteModule = true;
        break;
      case "c":
        o.targetCmd = value;
        break;
      case "o":
        o.outfile = value;
        break;
      case "R":
        o.rename = true;
        break;
      case "A":
        o.attach = true;
        break;
      case "L":
        o.loadOnly = true;
        break;
      case "F":
        relayFd = true;
        break;
      case "D":
        o.daemon = true;
        break;
      case "S": {
        const spec = parseFileSizeOption(value);
        if (!spec) return fail(`Invalid file size option '${value}'.`);
        o.rotation = spec;
        break;
      }
      case "T": {
        const ms = strtoul(value);
        if (ms < 1) return fail(`Invalid reader timeout value '${ms}' (should be >= 1).`);
        o.readerTimeoutMs = ms;
        break;
      }
      case "C":
        if (value !== "auto" && value !== "never" && value !== "always") {
          return fail(`Invalid option '${value}' for -C.`, true, { noNewline: true });
        }
        o.color = value;
        break;
      case "V":
        return { kind: "version" };
      case "h":
        return { kind: "help" };
      default:
        // u, N, r, i, M: accepted; they change nothing in the simulator.
        break;
    }
  }
  if (parsed.error) return fail(parsed.error, true, { getopt: true });

  if (o.attach && o.loadOnly) return fail("You can't specify the '-A' and '-L' options together.");
  if (o.attach && o.bufferBytes !== undefined) {
    return fail(
      "You can't specify the '-A' and '-b' options together.  The '-b'\n" +
        "buffer size option only has an effect when the module is inserted.",
    );
  }
  if (o.attach && o.targetCmd !== undefined) {
    return fail(
      "You can't specify the '-A' and '-c' options together.  The '-c cmd'\n" +
        "option used to start a command only has an effect when the module\nis inserted.",
    );
  }
  if (o.attach && o.targetPid !== undefined) {
    return fail(
      "You can't specify the '-A' and '-x' options together.  The '-x pid'\n" +
        "option only has an effect when the module is inserted.",
    );
  }
  if (o.targetCmd !== undefined && o.targetPid !== undefined) {
    return fail("You can't specify the '-c' and '-x' options together.");
  }
  if (o.daemon && o.loadOnly) return fail("You can't specify the '-D' and '-L' options together.");
  if (o.daemon && o.deleteModule) return fail("You can't specify the '-D' and '-d' options together.");
  if (o.daemon && o.targetCmd !== undefined) {
    return fail("You can't specify the '-D' and '-c' options together.");
  }
  if (o.daemon && o.outfile === undefined) return fail("You have to specify output FILE with '-D' option.");
  if (o.rotation && o.rotation.sizeLimit > 0 && o.outfile === undefined) {
    return fail("You have to specify output FILE with '-S' option.");
  }
  if (relayFd) return fail("Relay basedir -F option is invalid for staprun", false);
  if (parsed.positionals.length === 0) return fail("Need a module name or path to load.");
  [o.module, ...o.moduleOptions] = parsed.positionals;
  if (o.attach && o.moduleOptions.length > 0) return fail("Cannot have module options with attach (-A).");
  const name = moduleNameOf(o.module);
  if (name.length > MAX_MODULE_NAME) return fail(`Module name ('${name}') is too long.`, false);
  return { kind: "ok", options: o };
}

/**
 * `-S size[,N]` as the daemon is handed it again: whole MiB as staprun writes them, and a size below or off a
 * MiB boundary in the simulator's `NK` (KiB) form, so the daemon gets exactly the size the user asked for
 * (`parseFileSizeOption` reads both).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseFileSizeOption } from "../stapio/rotation.ts";
 * assertEquals(fileSizeOption({ sizeLimit: 2 * 1048576, fileCount: 3 }), "2,3");
 * assertEquals(fileSizeOption({ sizeLimit: 65536, fileCount: 3 }), "64K,3");
 * assertEquals(fileSizeOption({ sizeLimit: 4096, fileCount: 0 }), "4K");
 * assertEquals(parseFileSizeOption(fileSizeOption({ sizeLimit: 65536, fileCount: 3 })), { sizeLimit: 65536, fileCount: 3 });
 * ```
 */
export function fileSizeOption(spec: RotationSpec): string {
  const MiB = 1024 * 1024;
  const size = spec.sizeLimit % MiB === 0 ? `${spec.sizeLimit / MiB}` : `${spec.sizeLimit / 1024}K`;
  return spec.fileCount ? `${size},${spec.fileCount}` : size;
}
