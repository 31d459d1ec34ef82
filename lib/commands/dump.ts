/**
 * `stapfr dump NAME [-o FILE]`: memory mode attaches, reads everything buffered and detaches with SIGQUIT (the
 * recording goes on); file mode prints the rotated files, oldest to newest, as one stream.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { diagnostics, oneName, recordersFor, stdoutSink } from "./common.ts";
import { damageMessage } from "../readers/clean_sink.ts";
import type { ReadResult } from "../recorder.ts";
import { openOutputFile } from "./output_file.ts";

/** Runs `dump`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: "string", short: "o" },
    raw: { type: "boolean" },
  }, 1);
  const name = oneName(positionals);
  const path = values.output as string | undefined;
  if (ctx.json && path === undefined) {
    throw new UsageError(`"--json" with dump needs "-o FILE" (the data would mix with the JSON document)`);
  }
  const recorders = recordersFor(ctx);
  const options = { signal: ctx.signal, onDiagnostic: diagnostics(ctx), raw: values.raw === true };
  if (path === undefined) {
    const result = await recorders.dump(name, stdoutSink(ctx), options);
    // A closed pipe (dump | head) is not an error: the recorder was detached and goes on.
    if (!result.closed) await report(ctx, result);
    return 0;
  }
  const file = await openOutputFile(path);
  let result;
  try {
    result = await recorders.dump(name, file.sink, options);
    await file.commit();
  } catch (err) {
    await file.abandon();
    throw err;
  }
  await report(ctx, result);
  if (ctx.json) await ctx.json_out({ ...result, file: path });
  else await ctx.out(`Wrote ${result.bytes} bytes to "${path}"\n`);
  return 0;
}

/** Tells people on stderr what was cut and why a memory dump stopped early (the JSON has the fields). */
async function report(ctx: Context, result: ReadResult): Promise<void> {
  const cut = damageMessage(result);
  if (cut) await ctx.err(cut);
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
