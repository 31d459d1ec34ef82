/**
 * `stapfr demo`: the seed scenario on the simulator, narrated (see `lib/demo.ts`).
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError } from "../errors.ts";
import { demoSurprises, runDemo } from "../demo.ts";

/** Runs `demo`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  parseForm(args, COMMANDS.demo.forms[0]);
  const say = ctx.json ? () => Promise.resolve() : (line: string) => ctx.out(line + "\n");
  const result = await runDemo({ say, signal: ctx.signal });
  if (ctx.json) await ctx.json_out(result);
  const wrong = demoSurprises(result);
  if (wrong.length > 0) throw new StapfrError(`The demo did not go as SystemTap would: ${wrong.join("; ")}`);
  return ExitCode.ok;
}
