/**
 * `stapfr attach NAME`: live output. Ctrl-C, SIGTERM or a closed pipe detach (SIGQUIT to stapio); the
 * recorder is never unloaded by it.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { diagnostics, oneName, readReport, recordersFor, self, stdoutSink } from "./common.ts";

/** Runs `attach`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { raw: { type: "boolean" } }, 1);
  const name = oneName(positionals);
  if (ctx.json) throw new UsageError(`"--json" does not apply to attach (its output is the live data)`);
  const result = await recordersFor(ctx).attach(name, stdoutSink(ctx), {
    signal: ctx.signal,
    onDiagnostic: diagnostics(ctx),
    raw: values.raw === true,
    command: "attach",
  });
  await readReport(ctx, result, "attach");
  if (result.ended) {
    await ctx.err(
      `stapfr: Recorder "${name}" ended (its script exited); "${self(ctx)} stop ${name}" removes it`,
    );
  } else if (!result.closed && result.mode === "memory") {
    await ctx.err(`stapfr: Detached from "${name}"; it keeps recording`);
  }
  return ExitCode.ok;
}
