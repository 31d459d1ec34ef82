/**
 * `stapfr start NAME (SCRIPT_FILE | -e SCRIPT) [--buffer SIZE] [--output PATH [--rotate SIZE[,COUNT]]] [--bulk]
 * [--adopt] [-- STAP_ARGS…]`, or with a prebuilt module: `stapfr start NAME --module FILE.ko [--buffer SIZE]
 * [--output DIR [--rotate SIZE[,COUNT]]] [--adopt]`
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { type HostKind, parseBufferSize, parseRotate } from "../units.ts";
import { humanBytes, recordersFor, self } from "./common.ts";
import type { ScriptSource } from "../driver/launch.ts";
import { retentionFlags } from "./snapshot_common.ts";
import type { StartOptions } from "../api/recorders.ts";

/**
 * Reads and checks `start`'s arguments (everything after `start`) without starting anything: `unit` checks
 * the start line of the unit it writes with this very function, so a unit is refused for what `start` would
 * refuse at boot.
 */
export function parseStart(args: string[], kind: HostKind): StartOptions {
  const { values, positionals, rest } = parseForm(args, COMMANDS.start.forms[0]);
  if (positionals.length === 0) throw new UsageError("Missing recorder name");
  const [name, file] = positionals;
  const text = values.script as string | undefined;
  const module = values.module as string | undefined;
  if (module !== undefined) {
    if (file !== undefined || text !== undefined) {
      throw new UsageError('Give SCRIPT_FILE, -e SCRIPT or "--module FILE.ko", not more than one');
    }
    if (rest.length > 0) throw new UsageError('A prebuilt module takes no STAP_ARGS: give them to "build"');
    if (values.bulk) throw new UsageError('"--bulk" is compiled into a prebuilt module: give it to "build"');
  } else if ((file === undefined) === (text === undefined)) {
    throw new UsageError(
      text === undefined
        ? "Missing script: give SCRIPT_FILE or -e SCRIPT"
        : "Give SCRIPT_FILE or -e SCRIPT, not both",
    );
  }
  const output = values.output as string | undefined;
  const base = {
    name,
    buffer: values.buffer !== undefined ? parseBufferSize(values.buffer as string, kind) : undefined,
    adopt: values.adopt === true ? true : undefined,
    snapshotRetention: retentionFlags(values, {
      keep: "keep-snapshots",
      maxAge: "snapshot-max-age",
      maxSize: "snapshot-max-size",
    }),
  };
  const rotate = values.rotate !== undefined ? parseRotate(values.rotate as string, kind) : undefined;
  // The library's shapes: a script or a module, memory or file mode.
  if (module !== undefined) {
    return output === undefined ? { ...base, module } : { ...base, module, output, rotate };
  }
  const script: ScriptSource = text !== undefined ? { text } : { file: file! };
  return output === undefined
    ? { ...base, script, stapArgs: rest }
    : { ...base, script, stapArgs: rest, output, rotate, bulk: values.bulk === true ? true : undefined };
}

/** Runs `start`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const options = parseStart(args, ctx.sim ? "sim" : "real");
  const detail = await recordersFor(ctx).start({ ...options, signal: ctx.signal });
  if (ctx.json) {
    await ctx.json_out(detail);
    return ExitCode.ok;
  }
  const where = detail.mode === "memory"
    ? `${detail.cpus ?? "?"} CPUs × ${humanBytes(detail.buffer_per_cpu)} ring`
    : `files in ${detail.run_dir}, stapio pid ${detail.pid}`;
  // Said as list would say it: a script that exits at once has ended by the time start returns.
  const from = detail.module_file !== null ? `, prebuilt ${detail.module_file}` : "";
  await ctx.out(
    detail.adopted
      ? `Recorder "${detail.name}" was already recording: adopted it (${detail.mode} mode, module ${detail.module}${from}, ${where})\n`
      : detail.state === "exited"
      ? `Recorder "${detail.name}" has already ended (its script exited); what it wrote is kept (${where})\n`
      : `Recorder "${detail.name}" is ${detail.state} (${detail.mode} mode, module ${detail.module}${from}, ${where})\n`,
  );
  for (const note of detail.notes) await ctx.out(`Note: ${note}\n`);
  if (detail.problem) await ctx.out(`Note: ${detail.problem}\n`);
  await ctx.out(
    `Read it with "${self(ctx)} dump ${detail.name}", end it with "${self(ctx)} stop ${detail.name}"\n`,
  );
  return ExitCode.ok;
}
