/**
 * `stapfr demo`: the seed scenario on the simulator, narrated (see `lib/demo.ts`).
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError } from "../errors.ts";
import { runDemo } from "../demo.ts";

/** Runs `demo`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  parseForm(args, COMMANDS.demo.forms[0]);
  const say = ctx.json ? () => Promise.resolve() : (line: string) => ctx.out(line + "\n");
  const result = await runDemo({ say, signal: ctx.signal });
  if (ctx.json) await ctx.json_out(result);
  const ok = !result.memory.begin_in_dump2 && result.memory.stop_last_line === "exited" &&
    result.file.stop_last_line === "exited" && result.file.max_files_per_cpu <= 2 &&
    result.file.switches >= 3;
  if (!ok) throw new StapfrError("The demo did not go as SystemTap would: see the lines above");
  return ExitCode.ok;
}
