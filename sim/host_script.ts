/**
 * Which script a module host runs: the script given to `stap` once the language exists (`compileScript` in
 * `sim/lang/mod.ts`), else the built-in vfs workload.
 * @module
 */
import { builtinWorkload } from "./builtin_workload.ts";
import type { CompiledScript } from "./program.ts";

/** Where the script comes from. */
export interface ScriptSpec {
  scriptSource?: string;
  scriptFile?: string;
}

/**
 * Compiles the script, or returns the built-in workload when there is none or the language is not built yet
 * (then `note` says so). The language is imported dynamically so that the host runs before it lands; once it
 * has, this becomes a static import (a compiled binary only embeds statically imported modules).
 */
export async function loadScript(spec: ScriptSpec, note: (line: string) => void): Promise<CompiledScript> {
  if (spec.scriptSource === undefined && spec.scriptFile === undefined) return builtinWorkload;
  const source = spec.scriptSource ?? await Deno.readTextFile(spec.scriptFile!);
  let lang: { compileScript?: (source: string, options?: { file?: string }) => CompiledScript } | undefined;
  try {
    lang = await import(new URL("./lang/mod.ts", import.meta.url).href);
  } catch {
    lang = undefined;
  }
  if (!lang?.compileScript) {
    note("the script language is not available: running the built-in vfs workload instead");
    return builtinWorkload;
  }
  return lang.compileScript(source, { file: spec.scriptFile ?? "<input>" });
}
