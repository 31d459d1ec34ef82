/**
 * The engine for the global options (`--sim`, `--state-dir`) and the knobs read at startup, for the quick
 * commands (`list`, `status`): what `new Recorders()` would set up (lib/recorder/setup.ts), without loading
 * the library's option checks, streams and sinks, which they do not use. The other commands go through
 * {@linkcode "./common.ts"}'s `recordersFor`.
 * @module
 */
import type { Context } from "../cli/context.ts";
import { setUp } from "../recorder/setup.ts";

/** The engine for the command line's global options and knobs, with its state directory and store. */
export function setUpFor(ctx: Context): ReturnType<typeof setUp> {
  return setUp({ sim: ctx.sim, stateDir: ctx.stateDir, env: ctx.io.env, knobs: ctx.knobs });
}
