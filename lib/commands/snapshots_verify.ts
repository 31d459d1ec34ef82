/**
 * `stapfr snapshots verify [ID…] [--store DIR]`: reads every data file of the snapshots given (or of the whole
 * store) and checks its size and SHA-256 against the manifest. One line per snapshot, `ok` or `DAMAGED` with
 * what is wrong; exit 1 when anything is damaged or (for the whole store) could not be read.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode } from "../errors.ts";
import { brokenLines, recordersWithStore } from "./snapshot_common.ts";

/** Runs `snapshots verify`. */
export async function verify(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.snapshots.forms[2]);
  const result = await recordersWithStore(ctx, values).verifySnapshots(positionals);
  for (const line of brokenLines(result.broken)) await ctx.err(line);
  if (ctx.json) {
    await ctx.json_out(result);
    return result.ok ? ExitCode.ok : ExitCode.failure;
  }
  for (const s of result.snapshots) {
    const ref = `${s.recorder}/${s.id}`;
    await ctx.out(s.ok ? `ok       ${ref}\n` : `DAMAGED  ${ref}: ${s.problems.join("; ")}\n`);
  }
  const damaged = result.snapshots.filter((s) => !s.ok).length;
  if (result.snapshots.length === 0 && result.broken.length === 0) await ctx.out("No snapshots\n");
  if (damaged > 0) {
    await ctx.err(
      `stapfr: ${damaged} of ${result.snapshots.length} snapshots damaged: their data does not match ` +
        "their manifests",
    );
  }
  return result.ok ? ExitCode.ok : ExitCode.failure;
}
