/**
 * `stapfr tail NAME [-n N] [-f]`: the last lines; with -f, new output as it comes, across rotations.
 * On a memory recorder this reads (and so consumes) the ring, as dump does.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { diagnostics, oneName, readReport, recordersFor, stdoutSink } from "./common.ts";
import { suspendable } from "./suspendable.ts";

/** Runs `tail`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.tail.forms[0]);
  const name = oneName(positionals);
  const text = values.lines as string;
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`Invalid line count "${text}": expected a whole number, 0 or more`);
  }
  const follow = values.follow === true;
  const raw = values.raw === true;
  if (ctx.json && follow) throw new UsageError(`"--json" does not apply to "tail -f"`);
  const recorders = recordersFor(ctx);
  if (ctx.json) {
    const chunks: Uint8Array[] = [];
    const result = await recorders.tail(name, (c) => Promise.resolve(void chunks.push(c.slice())), {
      lines: Number(text),
      until: ctx.signal,
      raw,
      command: "tail",
    });
    const all = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const lines = all === "" ? [] : all.replace(/\n$/, "").split("\n");
    await readReport(ctx, result, "tail");
    const { damaged_lines, damaged_bytes, damage, loss, loss_unknown } = result;
    await ctx.json_out({ name, lines, damaged_lines, damaged_bytes, damage, raw, loss, loss_unknown });
    return ExitCode.ok;
  }
  const options = { onDiagnostic: diagnostics(ctx), raw, command: "tail" as const };
  const first = (until: AbortSignal) =>
    recorders.tail(name, stdoutSink(ctx), { ...options, lines: Number(text), follow, until });
  // Only a memory recorder's reader is ever suspended (lib/cli/suspend.ts); after "fg" it goes on as attach
  // does, printing what the ring took in meanwhile.
  const result = follow
    ? await suspendable(ctx, name, {
      first,
      again: (until) => recorders.attach(name, stdoutSink(ctx), { ...options, until }),
      suspended: (r) => readReport(ctx, r, "tail"),
    })
    : await first(ctx.signal);
  if (!result.closed) await readReport(ctx, result, "tail");
  return ExitCode.ok;
}
