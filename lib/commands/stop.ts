/**
 * `stapfr stop NAME [--discard]`: ends the recording, printing what is still buffered and the end-probe
 * output; --discard unloads without reading.
 * @module
 */
import { ExitCode } from "../errors.ts";
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { diagnostics, oneName, readReport, recordersFor, stdoutSink } from "./common.ts";

/** Runs `stop`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.stop.forms[0]);
  const name = oneName(positionals);
  const chunks: Uint8Array[] = [];
  const sink = ctx.json ? (c: Uint8Array) => Promise.resolve(void chunks.push(c.slice())) : stdoutSink(ctx);
  let closed = false;
  const result = await recordersFor(ctx).stop(name, async (chunk) => {
    if (closed) return;
    try {
      await sink(chunk);
    } catch (err) {
      // The recording must still end cleanly when the reader of our output went away.
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
      closed = true;
    }
  }, { discard: values.discard === true, onDiagnostic: diagnostics(ctx), raw: values.raw === true });
  await readReport(ctx, result, "stop");
  if (ctx.json) {
    const output = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    await ctx.json_out({ ...result, output });
    return ExitCode.ok;
  }
  const what = !result.stopped
    ? `was no longer running (${result.state}); removed it`
    : result.discarded
    ? "stopped; buffered output discarded"
    : `stopped (${result.bytes} bytes of buffered and end-probe output)`;
  await ctx.err(
    `stapfr: Recorder "${name}" ${what}${result.run_dir ? `; its files stay in "${result.run_dir}"` : ""}`,
  );
  return ExitCode.ok;
}
