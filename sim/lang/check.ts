/**
 * `checkScript`: validates a SystemTap script the way `stap -p1` does (lexing, preprocessing, parsing), for
 * `stapfr check --sim`. Tapset macros (`@choose_defined`, `@container_of`, …) come from the installed tapset
 * `.stpm` files when SystemTap is installed, else from a small built-in set with the same definitions.
 *
 * ```ts
 * import { checkScript } from "./check.ts";
 * const result = checkScript('probe begin { printf("hi\\n"); exit() }');
 * console.log(result.ok); // true
 * ```
 * @module
 */

import type { Script, SourceLoc } from "./ast.ts";
import type { MacroDecl, TargetOptions } from "./preprocess.ts";
import { type Diagnostic, formatDiagnostics, parseLibraryMacros, parseScript } from "./parser.ts";

/** One problem found in a script, with its place (line 0 means the end of the file). */
export interface CheckError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Options of {@linkcode checkScript}; every field is optional. */
export interface CheckOptions extends Partial<TargetOptions> {
  /** The file name used in messages; `<input>` (as stap names `-e` scripts) by default. */
  file?: string;
  /** Positional arguments (`$1`, `@1`, `$#`). */
  args?: readonly string[];
  /**
   * Where the tapset `.stpm` macro files are; default `/usr/share/systemtap/tapset` when readable, else the
   * built-in set. `null` forces the built-in set.
   */
  tapsetDir?: string | null;
  /**
   * Lists what the simulator cannot run in a script that parsed (supplied by the interpreter); its findings
   * go to `unsupported`, they do not make the check fail.
   */
  unsupported?: (script: Script) => CheckError[];
}

/** The outcome of {@linkcode checkScript}. */
export interface CheckResult {
  /** True when stap -p1 would accept the script. */
  ok: boolean;
  errors: CheckError[];
  warnings: CheckError[];
  /** What the simulator cannot run (empty unless `options.unsupported` is given and the script parsed). */
  unsupported: CheckError[];
  /** The parsed script (complete only when ok). */
  script: Script;
  /** The errors as `stap -p1` prints them, ending with its summary lines; empty when ok. */
  text: string;
}

/** The default tapset directory of a Debian SystemTap install. */
export const DEFAULT_TAPSET_DIR = "/usr/share/systemtap/tapset";

// The commonly used tapset macros, for hosts without SystemTap (same definitions as stap's tapset).
const BUILTIN_MACROS = `
@define choose_defined(value_if_defined, alternate) %(
  ( @defined(@value_if_defined) ? (@value_if_defined) : (@alternate) )
%)
@define cast_sizeof(type) %( ( & @cast(0, @type) [1] ) %)
@define cast_module_sizeof(module, type) %( ( & @cast(0, @type, @module) [1] ) %)
@define offsetof(type, member) %( ( & @cast(0, @type, "kernel") -> @member ) %)
@define module_offsetof(module, type, member) %( ( & @cast(0, @type, @module) -> @member ) %)
@define container_of(ptr, type, member) %( @cast(@ptr - @offsetof(@type, @member), @type) %)
@define module_container_of(ptr, module, type, member) %(
  @cast(@ptr - @module_offsetof(@module, @type, @member), @type, @module)
%)
@define type_defined(type) %( @defined(& @cast(0, @type)) %)
@define type_member_defined(type, member) %( @defined(& @cast(0, @type , "kernel") -> @member) %)
@define module_type_defined(module, type) %( @defined(& @cast(0, @type, @module)) %)
@define module_type_member_defined(module, type, member) %( @defined(& @cast(0, @type, @module) -> @member) %)
@define try_assign(assign_to, try_body, catch_body) %(
  try { @assign_to = @try_body } catch { @assign_to = @catch_body }
%)
@define MAXSTRINGLEN %( %( runtime == "bpf" %? 64 %: @const("MAXSTRINGLEN") %) %)
`;

const macroCache = new Map<string, Map<string, MacroDecl>>();

function readStpmFiles(
  dir: string,
  target: Partial<TargetOptions>,
): { file: string; source: string }[] | null {
  const runtimeDir = (target.runtime ?? "kernel") === "kernel" ? "linux" : target.runtime ?? "linux";
  const arch = target.arch ?? "x86_64";
  const dirs = [dir, `${dir}/${arch}`, `${dir}/${runtimeDir}`, `${dir}/${runtimeDir}/${arch}`];
  const files: { file: string; source: string }[] = [];
  try {
    Deno.statSync(dir);
  } catch {
    return null;
  }
  for (const d of dirs) {
    let names: string[];
    try {
      names = [...Deno.readDirSync(d)].filter((e) => e.isFile && e.name.endsWith(".stpm")).map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const file = `${d}/${name}`;
      files.push({ file, source: new TextDecoder("latin1").decode(Deno.readFileSync(file)) });
    }
  }
  return files;
}

/**
 * The library macros for a target: from `tapsetDir` (stap's `.stpm` files) when it exists, else built in.
 * Cached per directory and target.
 */
export function libraryMacros(
  tapsetDir: string | null | undefined,
  target: Partial<TargetOptions> = {},
): Map<string, MacroDecl> {
  const dir = tapsetDir === undefined ? DEFAULT_TAPSET_DIR : tapsetDir;
  const key = JSON.stringify([dir, target]);
  const cached = macroCache.get(key);
  if (cached) return cached;
  let files = dir === null ? null : readStpmFiles(dir, target);
  if (!files) files = [{ file: "<builtin tapset macros>", source: BUILTIN_MACROS }];
  const { macros } = parseLibraryMacros(files, target);
  macroCache.set(key, macros);
  return macros;
}

function plain(d: Diagnostic | (SourceLoc & { message: string })): CheckError {
  return { file: d.file, line: d.line, column: d.column, message: d.message };
}

/** Checks one script as `stap -p1` would, for the target described by `options`. */
export function checkScript(source: string, options: CheckOptions = {}): CheckResult {
  const file = options.file ?? "<input>";
  const { tapsetDir, unsupported: findUnsupported, ...rest } = options;
  const target: Partial<TargetOptions> = {};
  for (
    const k of [
      "kernelRelease",
      "arch",
      "config",
      "systemtapVersion",
      "runtime",
      "privilege",
      "guru",
    ] as const
  ) {
    if (rest[k] !== undefined) (target as Record<string, unknown>)[k] = rest[k];
  }
  const result = parseScript(source, { ...rest, file, libraryMacros: libraryMacros(tapsetDir, target) });
  const errors = result.errors.filter((d) => !d.duplicate).map(plain);
  const total = result.errors.length;
  let text = "";
  if (result.errors[0]?.fatal) {
    return {
      ok: false,
      errors,
      warnings: result.warnings.map(plain),
      unsupported: [],
      script: result.script,
      text: result.errors[0].message + "\n",
    };
  }
  if (total > 0) {
    text = formatDiagnostics(result.errors, new Map([[file, source]]));
    text += `${total} parse error${total === 1 ? "" : "s"}.\n`;
  } else if (result.empty !== "no") {
    const message = result.empty === "empty"
      ? `Input file '${file}' is empty.`
      : `Input file '${file}' is empty after preprocessing.`;
    errors.push({ file, line: 0, column: 0, message });
    text = message + "\n";
  }
  if (text) text += "Pass 1: parse failed.  [man error::pass1]\n";
  const suppressed = total - errors.length;
  if (suppressed > 0) {
    text += `Number of similar error messages suppressed: ${suppressed}.\nRerun with -v to see them.\n`;
  }
  const ok = errors.length === 0;
  return {
    ok,
    errors,
    warnings: result.warnings.map(plain),
    unsupported: ok && findUnsupported ? findUnsupported(result.script) : [],
    script: result.script,
    text,
  };
}
