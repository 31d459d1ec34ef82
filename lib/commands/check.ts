/**
 * `stapfr check (SCRIPT_FILE | -e SCRIPT)`: `stap -p2` on a real host (its output and exit status passed
 * through); with --sim the simulator's parser and the list of what the simulator cannot run.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { recordersFor } from "./common.ts";

/** Runs `check`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.check.forms[0]);
  const text = values.script as string | undefined;
  if ((positionals[0] === undefined) === (text === undefined)) {
    throw new UsageError(
      text === undefined
        ? "Missing script: give SCRIPT_FILE or -e SCRIPT"
        : "Give SCRIPT_FILE or -e SCRIPT, not both",
    );
  }
  const report = await recordersFor(ctx).check(text !== undefined ? { text } : { file: positionals[0] });
  if (ctx.json) {
    await ctx.json_out(report);
    return report.code;
  }
  if (report.stdout) await ctx.out(report.stdout);
  if (report.stderr) await ctx.err(report.stderr.replace(/\n$/, ""));
  for (const u of report.unsupported) {
    await ctx.err(`${u.file}:${u.line}:${u.column}: the simulator cannot run this: ${u.message}`);
  }
  if (report.checker === "sim" && report.ok) {
    await ctx.err(
      report.unsupported.length === 0
        ? "The script parses, and the simulator can run it"
        : `The script parses; the simulator cannot run ${report.unsupported.length} part(s) of it`,
    );
  }
  return report.code;
}
