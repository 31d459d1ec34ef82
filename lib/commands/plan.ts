/**
 * `stapfr plan (SCRIPT_FILE | -e SCRIPT) --window DURATION [--measure DURATION] [-- STAP_ARGS…]`: measures a
 * script's output rate per CPU and recommends `--buffer` (memory mode) and `--rotate SIZE,COUNT` (file mode).
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { parseDuration } from "../units.ts";

/** The longest window plan takes (a year), and the span of a measurement. */
const MAX_WINDOW_MS = 365 * 86_400_000;
const MEASURE_MS = [500, 3_600_000] as const;

/** A duration flag within its range, checked where it comes in. */
function duration(text: string, flag: string, min: number, max: number, range: string): number {
  const ms = parseDuration(text, `"${flag}"`);
  if (ms < min || ms > max) throw new UsageError(`Invalid "${flag}" "${text}": expected ${range}`);
  return ms;
}
import type { ScriptSource } from "../driver/start.ts";
import { recordersFor } from "./common.ts";

/** Runs `plan`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals, rest } = parseCommandArgs(
    args,
    {
      script: { type: "string", short: "e" },
      window: { type: "string" },
      measure: { type: "string" },
    },
    1,
    { rest: true },
  );
  const text = values.script as string | undefined;
  const file = positionals[0];
  if ((file === undefined) === (text === undefined)) {
    throw new UsageError(
      text === undefined
        ? "Missing script: give SCRIPT_FILE or -e SCRIPT"
        : "Give SCRIPT_FILE or -e SCRIPT, not both",
    );
  }
  if (values.window === undefined) throw new UsageError(`Missing "--window DURATION"`);
  const script: ScriptSource = text !== undefined ? { text } : { file };
  const plan = await recordersFor(ctx).plan({
    script,
    windowMs: duration(values.window as string, "--window", 1, MAX_WINDOW_MS, "more than 0 and at most 365d"),
    measureMs: values.measure !== undefined
      ? duration(values.measure as string, "--measure", ...MEASURE_MS, "500ms to 1h")
      : undefined,
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
