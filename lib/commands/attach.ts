/**
 * `stapfr attach NAME`: live output. Ctrl-C, Ctrl-\, SIGTERM or a closed pipe detach (SIGQUIT to stapio); the
 * recorder is never unloaded by it. Ctrl-Z detaches, then stops the job; `fg` attaches again.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { diagnostics, oneName, readReport, recordersFor, self, stdoutSink } from "./common.ts";
import { suspendable } from "./suspendable.ts";
import type { ReadResult } from "../api/recorders.ts";

/** Runs `attach`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.attach.forms[0]);
  const name = oneName(positionals);
  if (ctx.json) throw new UsageError(`"--json" does not apply to attach (its output is the live data)`);
  const recorders = recordersFor(ctx);
  const read = (until: AbortSignal) =>
    recorders.attach(name, stdoutSink(ctx), {
      until,
      onDiagnostic: diagnostics(ctx),
      raw: values.raw === true,
      command: "attach",
    });
  const cut = (result: ReadResult) => readReport(ctx, result, "attach");
  const result = await suspendable(ctx, name, { first: read, again: read, suspended: cut });
  await cut(result);
  if (result.ended) {
    await ctx.err(
      `stapfr: Recorder "${name}" ended (its script exited); "${self(ctx)} stop ${name}" removes it`,
    );
  } else if (!result.closed && result.mode === "memory") {
    await ctx.err(`stapfr: Detached from "${name}"; it keeps recording`);
  }
  return ExitCode.ok;
}
