/**
 * `stapfr list`: every recorder (name, mode, state, module, pid, age, bytes), and orphan modules. A quick
 * command: it loads only what it uses (lib/commands/set_up_for.ts).
 * @module
 */
import { ExitCode } from "../errors.ts";
import type { Context } from "../cli/context.ts";
import { age, humanBytes, self, table } from "./format.ts";
import { setUpFor } from "./set_up_for.ts";
import { listRecorders } from "../recorder/inspect.ts";

/** Runs `list`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  if (args.length > 0) {
    const [{ parseForm }, { COMMANDS }] = await Promise.all([
      import("../cli/parse.ts"),
      import("../declarations/declarations.ts"),
    ]);
    parseForm(args, COMMANDS.list.forms[0]);
  }
  let listed;
  try {
    listed = await listRecorders(setUpFor(ctx).engine);
  } catch (err) {
    // As the library says it (Recorders.list).
    throw (await import("../os_errors.ts")).operationError("list recorders", err);
  }
  const { recorders, corrupt } = listed;
  for (const c of corrupt) {
    await ctx.err(`stapfr: ${c.message}`);
  }
  if (ctx.json) {
    await ctx.json_out({ recorders, corrupt });
    return ExitCode.ok;
  }
  if (recorders.length === 0) {
    await ctx.err("No recorders");
    return ExitCode.ok;
  }
  // What went wrong, after the table that shows the state: said once per recorder, on stderr.
  const problems = recorders.filter((r) => r.problem !== null);
  const now = Date.now();
  await ctx.out(table(
    ["NAME", "MODE", "STATE", "MODULE", "PID", "AGE", "BYTES"],
    recorders.map((r) => [
      r.state === "orphan" ? "-" : r.name,
      r.state === "orphan" ? "-" : r.mode,
      r.state,
      r.module,
      r.pid === null ? "-" : String(r.pid),
      age(r.started_at, now),
      humanBytes(r.bytes),
    ]),
  ));
  for (const r of problems) {
    await ctx.err(`stapfr: Recorder "${r.name}": ${r.problem} (see "${self(ctx)} status ${r.name}")`);
  }
  // Who holds a recorder's only reader slot, when it is not a live stapfr (docs/strays.md).
  for (const r of recorders) {
    if (r.reader && (r.reader.stray || !r.reader.by_stapfr)) {
      const { describeReader } = await import("../recorder/reader_records.ts");
      await ctx.err(describeReader(r.name, r.reader, self(ctx)));
    }
  }
  return ExitCode.ok;
}
