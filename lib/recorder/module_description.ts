/**
 * The JSON description `stapfr build` writes beside a module (`stap_fr_NAME.json` next to `stap_fr_NAME.ko`):
 * what was compiled, how and for which kernel, so that a module copied to a server can be traced back to its
 * script, and so that `start --module` can tell a bulk module from a non-bulk one even when the `.ko` lacks
 * stapfr's own `.modinfo` mark. The fields are documented in docs/prebuilt-modules.md "The description file".
 * @module
 */

/** The description of one prebuilt module (format 1). */
export interface ModuleDescription {
  /** Format version of this file. */
  format: 1;
  /** The recorder name the module is for. */
  name: string;
  /** The module name, `stap_fr_NAME`. */
  module: string;
  /** The module's file name, `stap_fr_NAME.ko`. */
  module_file: string;
  /** sha256 of the `.ko`, so the description is only believed for the file it was written with. */
  module_sha256: string;
  /** sha256 of the script text (the file's bytes, or the `-e` text as UTF-8). */
  script_sha256: string;
  /** The script file as given to build (absolute), or null for `-e`. */
  script_file: string | null;
  /** Every argument stapfr passed to stap (the script text of `-e` included). */
  stap_args: string[];
  /** The arguments the user passed after `--`. */
  user_stap_args: string[];
  /** The kernel release the module was built for (`stap -r`), as its vermagic says. */
  kernel_release: string;
  /** `stap -V`'s version, e.g. `4.8/0.188`; null when stap did not say. */
  systemtap_version: string | null;
  /** Built with `-b`: file output is one file per CPU (needed to rotate on SMP with SystemTap 4.x). */
  bulk: boolean;
  /** It serves stapfr's counters file (lib/driver/counters.ts); absent in descriptions of older builds. */
  counters?: boolean;
  /** ISO 8601 time of the build. */
  built_at: string;
  /** `real` for the installed SystemTap, `sim` for the simulator's stand-in. */
  host: "real" | "sim";
}

/**
 * The description's path for a module file: the `.ko` suffix replaced by `.json`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(descriptionPathOf("/srv/mods/stap_fr_io.ko"), "/srv/mods/stap_fr_io.json");
 * ```
 */
export function descriptionPathOf(modulePath: string): string {
  return modulePath.replace(/\.ko$/, "") + ".json";
}

/** Reads the description beside a module; undefined when there is none or it does not parse. */
export async function readDescription(modulePath: string): Promise<ModuleDescription | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(descriptionPathOf(modulePath)));
    if (value && typeof value === "object" && value.format === 1 && typeof value.module_sha256 === "string") {
      return value as ModuleDescription;
    }
  } catch {
    // Missing or not ours: the module is judged on its own.
  }
  return undefined;
}

/** The lowercase hex sha256 of some bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
