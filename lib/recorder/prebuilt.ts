/**
 * The checks `start --module` makes on a prebuilt module before anything is loaded or registered: the file
 * is a kernel module, it is `stap_fr_NAME.ko` inside and out, it was built for the running kernel, and it can
 * record the way it is asked to (bulk or not). Each refusal is one line that says what to do.
 * @module
 */
import { basename, resolve } from "../path.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { osCode } from "../os_errors.ts";
import { type ModuleInfo, NotAModuleError, readModuleFile } from "../driver/modinfo.ts";
import { MiB, moduleName } from "../units.ts";
import { readDescription } from "./module_description.ts";
import type { PrebuiltRecord } from "../registry.ts";
// Imported when this module loads, not hoisted into every start of the bundle (docs/architecture.md).
const { createHash } = await import("node:crypto");

/**
 * The largest module file `start --module` takes: SystemTap's modules are kilobytes to a few tens of megabytes
 * (with debug information); anything far larger is not one, and is refused before it is read.
 */
export const MAX_MODULE_BYTES = 256 * MiB;

/** The `.modinfo` key `stapfr build` adds (`stap --modinfo stapfr_bulk=1|0`). */
export const BULK_MODINFO = "stapfr_bulk";
/** The `.modinfo` mark of a module that serves stapfr's counters file (`stapfr_counters=1`). */
export const COUNTERS_MODINFO = "stapfr_counters";

/** What a checked module is. */
export interface PrebuiltModule {
  /** The module file, absolute. */
  path: string;
  /** sha256 of the file. */
  sha256: string;
  /** The kernel release in its vermagic. */
  release: string;
  /** Built with bulk (`-b`); null when neither the module nor a matching description says. */
  bulk: boolean | null;
  /** It serves stapfr's counters file (built by a stapfr that adds it). */
  counters: boolean;
  /** The module's `.modinfo`. */
  info: ModuleInfo;
}

/** How the module is to be started. */
export interface PrebuiltUse {
  /** The recorder's name: the file must be `stap_fr_NAME.ko`. */
  name: string;
  /** The running kernel's release. */
  release: string;
  /** File mode (`--output`). */
  fileMode: boolean;
  /** File mode with `--rotate`. */
  rotate: boolean;
  /** Online CPUs of the machine that will run it. */
  cpus: number;
  /** The host, for hints (`stapfr` or `stapfr --sim`). */
  self: string;
}

/**
 * Whether a module was built with bulk mode. `stap -b` leaves no string or symbol of its own in the `.ko`:
 * STP_BULKMODE only changes how the control channel answers stapio's STP_BULK message, in compiled code. So
 * `stapfr build` marks the module itself with `stap --modinfo stapfr_bulk=1` (or `=0`), which survives a copy
 * to the server without its description; a module without the mark is judged by the description beside it,
 * and only when that description's sha256 is the module's own.
 */
async function bulkOf(info: ModuleInfo, path: string, sha256: string): Promise<boolean | null> {
  const mark = info.entries.find(([k]) => k === BULK_MODINFO)?.[1];
  if (mark === "1") return true;
  if (mark === "0") return false;
  const description = await readDescription(path);
  if (description && description.module_sha256 === sha256) return description.bulk === true;
  return null;
}

/** The sha256 of the first `size` bytes of an open file, read in bounded pieces. */
async function sha256Of(file: Pick<Deno.FsFile, "read" | "seek">, size: number): Promise<string> {
  const hash = createHash("sha256");
  await file.seek(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(1 << 20);
  for (let left = size; left > 0;) {
    const n = await file.read(buf.subarray(0, Math.min(buf.length, left)));
    if (n === null || n === 0) break;
    hash.update(buf.subarray(0, n));
    left -= n;
  }
  return hash.digest("hex");
}

/** Checks a prebuilt module for a start; throws the refusal. Loads nothing. */
export async function checkPrebuilt(file: string, use: PrebuiltUse): Promise<PrebuiltModule> {
  const path = resolve(file);
  const module = moduleName(use.name);
  if (basename(path) !== `${module}.ko`) {
    throw new UsageError(
      `Module file "${file}" is not named "${module}.ko": recorder "${use.name}" loads module "${module}"`,
    );
  }
  // Type and size first, then only what the checks need: an endless or huge path (a link to /dev/zero, a
  // FIFO, a sparse file of gigabytes) is refused before anything is read from it.
  const cannot = (err: unknown): StapfrError => {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (err as Error).message;
    return new StapfrError(`Cannot read module "${file}": ${why}`, { code: osCode(err), cause: err });
  };
  const checkKind = (st: Deno.FileInfo): void => {
    if (st.isDirectory) throw cannot(new Deno.errors.IsADirectory("is a directory"));
    if (!st.isFile) {
      throw new StapfrError(`"${file}" is not a kernel module (not a regular file)`, {
        code: "rejected_module",
        hint: `Build one with "${use.self} build ${use.name} SCRIPT"`,
      });
    }
    if (st.size > MAX_MODULE_BYTES) {
      throw new StapfrError(
        `"${file}" is not a kernel module (${st.size} bytes; SystemTap's modules are far smaller than ` +
          `${MAX_MODULE_BYTES / MiB}M)`,
        { code: "rejected_module", hint: `Build one with "${use.self} build ${use.name} SCRIPT"` },
      );
    }
  };
  try {
    checkKind(await Deno.stat(path));
  } catch (err) {
    throw err instanceof StapfrError && !(err instanceof NotAModuleError) ? err : cannot(err);
  }
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    throw cannot(err);
  }
  let info: ModuleInfo;
  let sha256: string;
  try {
    // What was opened is what was checked (the path may have changed in between).
    const st = await f.stat();
    checkKind(st);
    try {
      info = await readModuleFile(f, st.size);
    } catch (err) {
      if (!(err instanceof NotAModuleError)) throw cannot(err);
      throw new StapfrError(`"${file}" is not a kernel module (${err.message})`, {
        code: "rejected_module",
        hint: `Build one with "${use.self} build ${use.name} SCRIPT"`,
      });
    }
    sha256 = await sha256Of(f, st.size);
  } finally {
    f.close();
  }
  if (info.name !== undefined && info.name !== module) {
    throw new StapfrError(
      `Module file "${file}" holds module "${info.name}", not "${module}" (it was renamed after it was built)`,
      {
        code: "rejected_module",
        hint: `Build it as "${use.self} build ${use.name} SCRIPT", or start it under its own name`,
      },
    );
  }
  if (info.release === undefined) {
    throw new StapfrError(`Module "${file}" has no vermagic: the kernel would refuse it`, {
      code: "rejected_module",
    });
  }
  if (info.release !== use.release) {
    throw new StapfrError(
      `Module "${file}" was built for kernel "${info.release}", but this machine runs "${use.release}"`,
      {
        code: "rejected_module",
        hint: `Build it for this kernel ("${use.self} build ${use.name} SCRIPT --kernel ${use.release}")`,
      },
    );
  }
  const bulk = await bulkOf(info, path, sha256);
  const counters = info.entries.some(([k, v]) => k === COUNTERS_MODINFO && v === "1");
  if (use.fileMode && use.rotate && use.cpus > 1 && bulk !== true) {
    // SystemTap 4.x's non-bulk rotation lets the CPUs overwrite each other's file (docs/systemtap-4.8.md
    // 4.5); a compiled start switches to bulk, a prebuilt module cannot. (5.x would be safe, but staprun -V
    // prints nothing into a pipe, so the runtime's version cannot be asked.)
    throw new StapfrError(
      bulk === false
        ? `Module "${file}" was built without --bulk: rotating its output on ${use.cpus} CPUs would let ` +
          "the CPUs overwrite each other's files"
        : `Cannot tell whether module "${file}" was built with --bulk, which rotating its output on ` +
          `${use.cpus} CPUs needs`,
      {
        code: "rejected_module",
        hint: `Build it with "${use.self} build ${use.name} SCRIPT --bulk", or drop --rotate`,
      },
    );
  }
  return { path, sha256, release: info.release, bulk, counters, info };
}

/**
 * What is wrong with a registry record's `prebuilt` field, or undefined when it is a valid
 * {@linkcode PrebuiltRecord} (for the registry's field-by-field check of what it reads).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const ok = { path: "/srv/stap_fr_io.ko", sha256: "ab".repeat(32), release: "6.1.0-57-amd64", bulk: null };
 * assertEquals(prebuiltRecordProblem(ok), undefined);
 * assertEquals(prebuiltRecordProblem({ ...ok, path: "stap_fr_io.ko" }), '"path" is not an absolute path to a .ko');
 * ```
 */
export function prebuiltRecordProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not an object";
  const v = value as Partial<Record<keyof PrebuiltRecord, unknown>>;
  if (typeof v.path !== "string" || !v.path.startsWith("/") || !v.path.endsWith(".ko")) {
    return `"path" is not an absolute path to a .ko`;
  }
  if (typeof v.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(v.sha256)) return `"sha256" is not a sha256`;
  if (typeof v.release !== "string" || v.release === "") return `"release" is not a kernel release`;
  if (v.bulk !== null && typeof v.bulk !== "boolean") return `"bulk" is not true, false or null`;
  return undefined;
}
