/**
 * `stapfr gc [--unload-orphans [--yes]]`: reconciles the registry with loaded modules and live processes.
 * Unloading orphans that look like stapfr recorders (`stap_fr_…`) needs `--yes`: this state directory does not
 * know them, but another may. Without it gc lists them, changes nothing and fails with a hint.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode } from "../errors.ts";
import { GcConfirmationNeeded } from "../recorder/gc.ts";
import { recordersFor } from "./common.ts";

/** Runs `gc`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values } = parseForm(args, COMMANDS.gc.forms[0]);
  let result;
  try {
    result = await recordersFor(ctx).gc({
      unloadOrphans: values["unload-orphans"] === true,
      yes: values.yes === true,
    });
  } catch (err) {
    if (!ctx.json && err instanceof GcConfirmationNeeded) {
      // The list first, then the error: the user sees what would go before being told how to confirm.
      for (const m of err.modules) {
        await ctx.out(`would unload ${m}: a stapfr recorder that this state directory does not register\n`);
      }
    }
    throw err;
  }
  if (ctx.json) await ctx.json_out(result);
  else if (result.actions.length === 0) await ctx.out("Nothing to clean up\n");
  else {
    for (const a of result.actions) await ctx.out(`${a.action.padEnd(8)} ${a.name}: ${a.detail}\n`);
  }
  return result.actions.some((a) => a.action === "failed") ? ExitCode.failure : ExitCode.ok;
}
