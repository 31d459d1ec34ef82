/**
 * Which script a module host runs: the script given to `stap`, compiled by the simulator's language
 * (`compileScript`), or the built-in vfs workload when none is given.
 * @module
 */
import { builtinWorkload } from "../workload/builtin.ts";
import { compileScript, type TapsetFile } from "../lang/mod.ts";
import type { CompiledScript } from "../kernel/program.ts";

/** Where the script comes from and how it is compiled. */
export interface ScriptSpec {
  scriptSource?: string;
  scriptFile?: string;
  guru?: boolean;
  args?: readonly string[];
  /** `-D NAME=VALUE` settings. */
  defines?: Record<string, string>;
  /** `-E` scripts. */
  extraScripts?: readonly string[];
  /** `-I` tapsets. */
  tapsets?: readonly TapsetFile[];
}

/** Compiles the script (throws the language's ScriptError), or returns the built-in workload. */
export async function loadScript(spec: ScriptSpec): Promise<CompiledScript> {
  if (spec.scriptSource === undefined && spec.scriptFile === undefined) return builtinWorkload;
  const source = spec.scriptSource ?? await Deno.readTextFile(spec.scriptFile!);
  return compileScript(source, {
    file: spec.scriptFile ?? "<input>",
    guru: spec.guru,
    args: spec.args,
    defines: spec.defines,
    extraScripts: spec.extraScripts,
    tapsets: spec.tapsets,
  });
}
