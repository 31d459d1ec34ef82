/**
 * `stapfr dump NAME [-o FILE]`: memory mode attaches, reads everything buffered and detaches with SIGQUIT (the
 * recording goes on); file mode prints the rotated files, oldest to newest, as one stream.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError, UsageError } from "../errors.ts";
import { diagnostics, oneName, readReport, recordersFor, stdoutSink } from "./common.ts";
import type { ReadResult } from "../api/recorders.ts";
import { openOutputFile } from "./output_file.ts";

/** Runs `dump`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.dump.forms[0]);
  const name = oneName(positionals);
  const path = values.output as string | undefined;
  if (ctx.json && path === undefined) {
    throw new UsageError(`"--json" with dump needs "-o FILE" (the data would mix with the JSON document)`);
  }
  const recorders = recordersFor(ctx);
  // Ctrl-C ends the read and keeps what it got (`until`), as a closed pipe does; it does not cancel it.
  const options = {
    until: ctx.signal,
    onDiagnostic: diagnostics(ctx),
    raw: values.raw === true,
    command: "dump" as const,
  };
  if (path === undefined) {
    const result = await recorders.dump(name, stdoutSink(ctx), options);
    // A closed pipe (dump | head) is not an error: the recorder was detached and goes on.
    if (!result.closed) await report(ctx, result);
    if (result.outcome === "stopped") {
      await ctx.err(
        `stapfr: Interrupted: the dump printed is partial (${partialOf(result)}); "${name}" keeps recording`,
      );
      return ExitCode.interrupted;
    }
    return ExitCode.ok;
  }
  // Before attaching: reading drains the ring, so a target that cannot be written must be refused first.
  const file = await openOutputFile(path);
  let result;
  try {
    result = await recorders.dump(name, file.sink, options);
  } catch (err) {
    const kept = await file.abandon();
    if (kept === undefined) throw err;
    // What was drained is gone from the ring: say where it is.
    const original = err instanceof Error ? err : new Error(String(err));
    throw new StapfrError(`${original.message}; the ${file.bytes()} bytes read before it are in "${kept}"`, {
      hint: original instanceof StapfrError ? original.hint : undefined,
      detail: original instanceof StapfrError ? original.detail : undefined,
      cause: err,
    });
  }
  if (result.outcome === "stopped") {
    // Never under the name asked for: that name promises the whole dump.
    const kept = await file.keepPartial();
    await report(ctx, result);
    await ctx.err(
      `stapfr: Interrupted: the partial dump (${
        partialOf(result)
      }) is in "${kept}"; "${name}" keeps recording`,
    );
    return ExitCode.interrupted;
  }
  await file.commit();
  await report(ctx, result);
  if (ctx.json) await ctx.json_out({ ...result, file: path });
  else await ctx.out(`Wrote ${result.bytes} bytes to "${path}"\n`);
  return ExitCode.ok;
}

/** What an interrupted dump holds, in words: its bytes, and the records by number where it has them. */
function partialOf(result: ReadResult): string {
  const records = result.loss?.first_seq != null
    ? `, records ${result.loss.first_seq}–${result.loss.last_seq}`
    : "";
  return `${result.bytes} bytes${records}`;
}

/** Tells people on stderr what was cut and why a memory dump stopped early (the JSON has the fields). */
async function report(ctx: Context, result: ReadResult): Promise<void> {
  await readReport(ctx, result, "dump");
  if (result.beyond_capacity_bytes > 0) {
    await ctx.err(
      `stapfr: The dump stopped at the ring's capacity; ${result.beyond_capacity_bytes} bytes of newer output that came while detaching were left out`,
    );
  }
  if (result.outcome === "timeout") {
    await ctx.err(
      `stapfr: The dump ended at its time limit with output still coming; "${result.name}" keeps recording`,
    );
  }
}
