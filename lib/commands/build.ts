/**
 * `stapfr build NAME (SCRIPT_FILE | -e SCRIPT) [--kernel RELEASE] [--no-bulk] [--out-dir DIR] [-- STAP_ARGS…]`
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import type { ScriptSource } from "../driver/launch.ts";
import { humanBytes, recordersFor, self } from "./common.ts";

/** Runs `build`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals, rest } = parseForm(args, COMMANDS.build.forms[0]);
  if (positionals.length === 0) throw new UsageError("Missing recorder name");
  const [name, file] = positionals;
  const text = values.script as string | undefined;
  if ((file === undefined) === (text === undefined)) {
    throw new UsageError(
      text === undefined
        ? "Missing script: give SCRIPT_FILE or -e SCRIPT"
        : "Give SCRIPT_FILE or -e SCRIPT, not both",
    );
  }
  const kernel = values.kernel as string | undefined;
  if (kernel !== undefined && kernel.trim() === "") throw new UsageError(`"--kernel" needs a release`);
  if (values.bulk === true && values["no-bulk"] === true) {
    throw new UsageError(`Give "--bulk" or "--no-bulk", not both`);
  }
  const script: ScriptSource = text !== undefined ? { text } : { file: file! };
  const result = await recordersFor(ctx).build({
    name,
    script,
    kernel,
    bulk: values["no-bulk"] !== true,
    outDir: values["out-dir"] as string | undefined,
    stapArgs: rest,
    signal: ctx.signal,
  });
  if (ctx.json) {
    await ctx.json_out(result);
    return 0;
  }
  const d = result.description;
  await ctx.out(
    `Built "${result.module_path}" (${humanBytes(result.bytes)}, ${result.seconds} s) for kernel ` +
      `"${d.kernel_release}"${d.bulk ? ", bulk" : ""}, SystemTap ${d.systemtap_version ?? "?"}\n` +
      `Described in "${result.description_path}"\n` +
      `Start it on a machine running ${d.kernel_release} with "${
        self(ctx)
      } start ${d.name} --module ${d.module_file}"\n`,
  );
  return 0;
}
