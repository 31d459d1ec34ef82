/**
 * `stapfr gc [--unload-orphans]`: reconciles the registry with loaded modules and live processes.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode } from "../errors.ts";
import { recordersFor } from "./common.ts";

/** Runs `gc`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values } = parseCommandArgs(args, { "unload-orphans": { type: "boolean" } }, 0);
  const result = await recordersFor(ctx).gc({ unloadOrphans: values["unload-orphans"] === true });
  if (ctx.json) await ctx.json_out(result);
  else if (result.actions.length === 0) await ctx.out("Nothing to clean up\n");
  else {
    for (const a of result.actions) await ctx.out(`${a.action.padEnd(8)} ${a.name}: ${a.detail}\n`);
  }
  return result.actions.some((a) => a.action === "failed") ? ExitCode.failure : ExitCode.ok;
}
