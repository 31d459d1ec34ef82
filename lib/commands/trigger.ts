/**
 * `stapfr trigger NAME [--reason TEXT]`: fires the signal trigger of the recorder's watcher from any shell (the
 * watcher's policies decide), or takes a plain snapshot when no watcher runs.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode } from "../errors.ts";
import { oneName } from "./common.ts";
import { recordersWithStore } from "./snapshot_common.ts";
import { terminalText } from "../terminal_text.ts";

/** Runs `trigger`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.trigger.forms[0]);
  const name = oneName(positionals);
  const result = await recordersWithStore(ctx, values).trigger(name, {
    reason: values.reason as string | undefined,
  });
  if (ctx.json) await ctx.json_out(result);
  else if (result.sent_to !== null) {
    const decision = terminalText(result.decision ?? "");
    await ctx.out(`Sent to the watcher of "${name}" (pid ${result.sent_to}): ${decision}\n`);
  } else await ctx.out(`${result.snapshot!.id}  ${terminalText(result.snapshot!.path)}\n`);
  return ExitCode.ok;
}
