/**
 * What a simulated `.ko` holds: not machine code but the script and the compile-time options a module host
 * needs (`stap -p4` writes one; `staprun FILE.ko` and `staprun NAME` read it). JSON, marked so that a real
 * kernel module is never mistaken for one.
 * @module
 */
import { join } from "node:path";

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
}

const MARK = "stapfr-sim-module";

/** Writes a module file (mode 0644, like stap's `.ko`). */
export async function writeModuleFile(spec: ModuleSpec): Promise<void> {
  const { path: _path, ...content } = spec;
  await Deno.writeTextFile(spec.path, JSON.stringify({ [MARK]: 1, ...content }) + "\n", { mode: 0o644 });
}

/** Where staprun looks for a bare module name (docs/systemtap-4.8.md 3): `/lib/modules/RELEASE/systemtap/NAME.ko`. */
export function modulePathOf(arg: string, release: string, cwd: string): string {
  if (!arg.includes("/") && !arg.endsWith(".ko")) return `/lib/modules/${release}/systemtap/${arg}.ko`;
  return arg.startsWith("/") ? arg : join(cwd, arg);
}

/**
 * Reads a module file. Returns staprun's error lines (docs/systemtap-4.8.md 2.8) when it is missing or not a simulated
 * module.
 */
export async function readModuleFile(path: string): Promise<ModuleSpec | { errors: string[] }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return {
      errors: [
        `ERROR: Unable to canonicalize path "${path}": No such file or directory`,
        `ERROR: Couldn't insert module '${path}': Unknown symbol in module`,
      ],
    };
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text);
  } catch {
    data = {};
  }
  if (data[MARK] !== 1) return { errors: [`ERROR: Couldn't insert module '${path}': Invalid module format`] };
  return {
    name: String(data.name),
    path,
    scriptSource: typeof data.scriptSource === "string" ? data.scriptSource : undefined,
    scriptFile: typeof data.scriptFile === "string" ? data.scriptFile : undefined,
    bulk: data.bulk === true,
    guru: data.guru === true,
    args: Array.isArray(data.args) ? data.args.map(String) : [],
    bufferBytes: typeof data.bufferBytes === "number" ? data.bufferBytes : undefined,
  };
}
