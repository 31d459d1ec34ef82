/**
 * `stapfr completions bash|zsh|fish`: prints a completion script generated from the command table.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";

/** Runs `completions`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, 1);
  const shell = positionals[0];
  if (shell === undefined) throw new UsageError("Missing shell: bash, zsh or fish");
  let script: string;
  if (shell === "bash") script = (await import("../completions/bash.ts")).bashScript();
  else if (shell === "zsh") script = (await import("../completions/zsh.ts")).zshScript();
  else if (shell === "fish") script = (await import("../completions/fish.ts")).fishScript();
  else throw new UsageError(`Unknown shell "${shell}": expected bash, zsh or fish`);
  if (ctx.json) await ctx.json_out({ shell, script });
  else await ctx.out(script);
  return 0;
}
