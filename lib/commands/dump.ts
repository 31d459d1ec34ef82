/**
 * `stapfr dump NAME [-o FILE]`: memory mode attaches, reads everything buffered and detaches with SIGQUIT (the
 * recording goes on); file mode prints the rotated files, oldest to newest, as one stream.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { diagnostics, oneName, recordersFor, stdoutSink } from "./common.ts";
import { openOutputFile } from "./output_file.ts";

/** Runs `dump`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { output: { type: "string", short: "o" } }, 1);
  const name = oneName(positionals);
  const path = values.output as string | undefined;
  if (ctx.json && path === undefined) {
    throw new UsageError(`"--json" with dump needs "-o FILE" (the data would mix with the JSON document)`);
  }
  const recorders = recordersFor(ctx);
  const options = { signal: ctx.signal, onDiagnostic: diagnostics(ctx), command: "dump" };
  if (path === undefined) {
    await recorders.dump(name, stdoutSink(ctx), options);
    // A closed pipe (dump | head) is not an error: the recorder was detached and goes on.
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
  if (ctx.json) await ctx.json_out({ ...result, file: path });
  else await ctx.out(`Wrote ${result.bytes} bytes to "${path}"\n`);
  return 0;
}
