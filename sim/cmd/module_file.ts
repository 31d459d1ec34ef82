/**
 * What a simulated `.ko` holds: not machine code but the script and the compile-time options a module host
 * needs (`stap -p4` writes one; `staprun FILE.ko` and `staprun NAME` read it). The file is ELF-shaped, as a
 * real module is: a `.modinfo` section with the strings the kernel checks (`name`, `vermagic` = the release
 * it was built for, `license`, and what `stap --modinfo` added) and a `.stapfr_sim` section with the compiled
 * script as JSON. So the engine's module reader (lib/driver/modinfo.ts) reads both hosts' modules the same way,
 * and a real kernel module is never mistaken for a simulated one (it has no `.stapfr_sim` section).
 * @module
 */
import { join } from "../../lib/path.ts";
import { moduleInfo, NotAModuleError, writeElf } from "../../lib/driver/modinfo.ts";
import { SIM_RELEASE } from "../../lib/kernel_release.ts";
import type { TapsetFile } from "../lang/mod.ts";

/** A compiled (simulated) module. */
export interface ModuleSpec {
  /** Module name (the file's base name without `.ko`). */
  name: string;
  /** Where it was read from or would be written (shown in insert errors). */
  path: string;
  scriptSource?: string;
  scriptFile?: string;
  bulk: boolean;
  guru: boolean;
  args: string[];
  /** `stap -s`: MiB per CPU compiled in; staprun `-b` overrides it. */
  bufferBytes?: number;
  /** The kernel release it was built for (`stap -r`), the first word of its vermagic; default `6.1.0-sim`. */
  release?: string;
  /** Extra `.modinfo` strings (`stap --modinfo NAME=VALUE`), in order. */
  modinfo?: [string, string][];
  /** `stap -E` scripts, compiled in with the main one. */
  extraScripts?: string[];
  /** The tapsets of `stap -I` that the module was built with (their text, compiled in). */
  tapsets?: TapsetFile[];
}

const MARK = "stapfr-sim-module";
const STANDARD = new Set(["license", "description", "name", "vermagic"]);
/** The section that holds the compiled script. */
export const SIM_SECTION = ".stapfr_sim";

/** The vermagic string the simulated kernel's modules carry (the real one's shape: release, then flags). */
export function simVermagic(release: string): string {
  return `${release} SMP preempt mod_unload modversions `;
}

/** The bytes of a module file. */
export function moduleFileBytes(spec: ModuleSpec): Uint8Array {
  const { path: _path, modinfo, release, ...content } = spec;
  const enc = new TextEncoder();
  const strings = [
    ...(modinfo ?? []).map(([k, v]) => `${k}=${v}`),
    "license=GPL",
    "description=systemtap-generated probe (simulated by stapfr)",
    `name=${spec.name}`,
    `vermagic=${simVermagic(release ?? SIM_RELEASE)}`,
  ];
  return writeElf([
    { name: ".modinfo", data: enc.encode(strings.map((s) => s + "\0").join("")) },
    { name: SIM_SECTION, data: enc.encode(JSON.stringify({ [MARK]: 1, ...content }) + "\n") },
  ]);
}

/** Writes a module file (mode 0644, like stap's `.ko`). */
export async function writeModuleFile(spec: ModuleSpec): Promise<void> {
  await Deno.writeFile(spec.path, moduleFileBytes(spec), { mode: 0o644 });
}

/** Where staprun looks for a bare module name (docs/systemtap-4.8.md 3): `/lib/modules/RELEASE/systemtap/NAME.ko`. */
export function modulePathOf(arg: string, release: string, cwd: string): string {
  if (!arg.includes("/") && !arg.endsWith(".ko")) return `/lib/modules/${release}/systemtap/${arg}.ko`;
  return arg.startsWith("/") ? arg : join(cwd, arg);
}

/**
 * Reads a module file. Returns staprun's error lines (docs/systemtap-4.8.md 2.8) when it is missing or not a
 * simulated module (staprun reports what the kernel's init_module said: ENOEXEC is "Invalid module format").
 */
export async function readModuleFile(path: string): Promise<ModuleSpec | { errors: string[] }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return {
      errors: [
        `ERROR: Unable to canonicalize path "${path}": No such file or directory`,
        `ERROR: Couldn't insert module '${path}': Unknown symbol in module`,
      ],
    };
  }
  const invalid = { errors: [`ERROR: Couldn't insert module '${path}': Invalid module format`] };
  let data: Record<string, unknown> = {};
  let info;
  try {
    info = moduleInfo(bytes);
    const section = info.elf.sections.get(SIM_SECTION);
    if (section) data = JSON.parse(new TextDecoder().decode(section));
  } catch (err) {
    if (err instanceof NotAModuleError || err instanceof SyntaxError) return invalid;
    throw err;
  }
  if (data[MARK] !== 1) return invalid;
  return {
    name: String(data.name),
    path,
    scriptSource: typeof data.scriptSource === "string" ? data.scriptSource : undefined,
    scriptFile: typeof data.scriptFile === "string" ? data.scriptFile : undefined,
    bulk: data.bulk === true,
    guru: data.guru === true,
    args: Array.isArray(data.args) ? data.args.map(String) : [],
    bufferBytes: typeof data.bufferBytes === "number" ? data.bufferBytes : undefined,
    extraScripts: Array.isArray(data.extraScripts) ? data.extraScripts.map(String) : undefined,
    tapsets: Array.isArray(data.tapsets)
      ? data.tapsets.map((t: { file?: unknown; source?: unknown }) => ({
        file: String(t.file),
        source: String(t.source),
      }))
      : undefined,
    release: info.release,
    // Only what --modinfo added: the standard strings are written again from the other fields.
    modinfo: info.entries.filter(([k]) => !STANDARD.has(k)),
  };
}
