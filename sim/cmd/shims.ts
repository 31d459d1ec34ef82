/**
 * `stapfr sim shims DIR`: writes executable `stap`, `staprun` and `lsmod` wrappers into DIR, each a small sh
 * script that runs this very program (`sim stap "$@"`, …). With DIR first on PATH, any program sees a
 * simulated SystemTap. Every path in a wrapper is single-quoted, so spaces and quotes in paths are safe.
 * @module
 */
import { join } from "../../lib/path.ts";
import { type SelfCommand, selfCommand, shellQuote } from "../../lib/self.ts";

/** The wrappers written. */
export const SHIM_NAMES = ["stap", "staprun", "lsmod"] as const;

/**
 * The text of one wrapper. `STAPFR_SIM_ARGV0` carries the name it was called by, for usage texts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const text = shimScript("staprun", { command: "/opt/my deno", args: ["run", "/s/cli.ts"] });
 * assertEquals(text.split("\n")[2], `STAPFR_SIM_ARGV0="$0" exec '/opt/my deno' 'run' '/s/cli.ts' 'sim' 'staprun' "$@"`);
 * ```
 */
export function shimScript(name: string, self: SelfCommand): string {
  const words = [self.command, ...self.args, "sim", name].map(shellQuote).join(" ");
  return `#!/bin/sh\n# stapfr: simulated ${name} (written by "stapfr sim shims")\nSTAPFR_SIM_ARGV0="$0" exec ${words} "$@"\n`;
}

/** Writes the wrappers (mode 0755) and returns their paths. */
export async function writeShims(dir: string, self: SelfCommand = selfCommand()): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const name of SHIM_NAMES) {
    const path = join(dir, name);
    await Deno.writeTextFile(path, shimScript(name, self), { mode: 0o755 });
    await Deno.chmod(path, 0o755);
    paths.push(path);
  }
  return paths;
}
