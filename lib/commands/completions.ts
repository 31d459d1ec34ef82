/**
 * `stapfr completions bash|zsh|fish`: prints a completion script generated from the declarations
 * (lib/declarations/declarations.ts). `stapfr completions words names|snapshots` prints what those scripts complete
 * from, one a line: the names of this state directory's recorders (not orphans), or its snapshots' IDs.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";

const [SCRIPT, WORDS] = COMMANDS.completions.forms;

/** Runs `completions`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  if (args[0] === WORDS.keyword) return await words(args.slice(1), ctx);
  const { positionals } = parseForm(args, SCRIPT);
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

async function words(args: string[], ctx: Context): Promise<number> {
  const { positionals } = parseForm(args, WORDS);
  const what = positionals[0];
  if (what !== "names" && what !== "snapshots") {
    throw new UsageError(
      `${what === undefined ? "Missing words" : `Unknown words "${what}"`}: expected names or snapshots`,
    );
  }
  const { recordersFor } = await import("./common.ts");
  const recorders = recordersFor(ctx);
  const list = what === "names"
    ? (await recorders.list()).recorders.filter((r) => r.state !== "orphan").map((r) => r.name)
    : (await recorders.snapshots()).snapshots.map((s) => s.id);
  if (ctx.json) await ctx.json_out({ [what]: list });
  else await ctx.out(list.map((w) => `${w}\n`).join(""));
  return 0;
}
