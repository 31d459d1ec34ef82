/**
 * `stapfr plan (SCRIPT_FILE | -e SCRIPT) --window DURATION [--measure DURATION] [-- STAP_ARGS…]`: measures a
 * script's output rate per CPU and recommends `--buffer` (memory mode) and `--rotate SIZE,COUNT` (file mode).
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS, declaredFlag } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { parseDuration } from "../units.ts";
import type { ScriptSource } from "../driver/launch.ts";
import type { FlagDeclaration } from "../declarations/declaration.ts";
import { recordersFor } from "./common.ts";

const WINDOW = declaredFlag("plan", "window");
const MEASURE = declaredFlag("plan", "measure");

/** A duration flag within its declared range, checked where it comes in. */
function duration(text: string, flag: FlagDeclaration, range: string): number {
  const ms = parseDuration(text, `"--${flag.long}"`);
  if (ms < flag.min! || ms > flag.max!) {
    throw new UsageError(`Invalid "--${flag.long}" "${text}": expected ${range}`);
  }
  return ms;
}

/** Runs `plan`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals, rest } = parseForm(args, COMMANDS.plan.forms[0]);
  const text = values.script as string | undefined;
  const file = positionals[0];
  if ((file === undefined) === (text === undefined)) {
    throw new UsageError(
      text === undefined
        ? "Missing script: give SCRIPT_FILE or -e SCRIPT"
        : "Give SCRIPT_FILE or -e SCRIPT, not both",
    );
  }
  const script: ScriptSource = text !== undefined ? { text } : { file };
  const plan = await recordersFor(ctx).plan({
    script,
    windowMs: duration(values.window as string, WINDOW, "more than 0 and at most 365d"),
    measureMs: duration(values.measure as string, MEASURE, "500ms to 1h"),
    stapArgs: rest,
    // Ctrl-C ends the measurement early: the plan uses what was measured so far.
    until: ctx.signal,
  });
  if (ctx.json) {
    await ctx.json_out(plan);
    return ExitCode.ok;
  }
  await ctx.out(`Measured for ${plan.measured_seconds.toFixed(1)} s:\n`);
  for (const line of plan.arithmetic) await ctx.out(`  ${line}\n`);
  await ctx.out(
    plan.buffer
      ? `Memory recorder: --buffer ${plan.buffer.flag}\n`
      : `Memory recorder: no ring is big enough for this window; use a file recorder\n`,
  );
  await ctx.out(
    plan.rotate
      ? `File recorder:   --output DIR --rotate ${plan.rotate.flag}\n`
      : `File recorder:   no rotation holds this window; shorten it\n`,
  );
  return ExitCode.ok;
}
