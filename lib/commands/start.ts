/**
 * `stapfr start NAME (SCRIPT_FILE | -e SCRIPT) [--buffer SIZE] [--output PATH [--rotate SIZE[,COUNT]]] [--bulk]
 * [--adopt] [-- STAP_ARGS…]`
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { parseBufferSize, parseRotate } from "../units.ts";
import { humanBytes, recordersFor, self } from "./common.ts";
import type { ScriptSource } from "../driver/start.ts";
import { retentionFlags } from "./snapshot_common.ts";

/** Runs `start`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals, rest } = parseCommandArgs(args, {
    script: { type: "string", short: "e" },
    buffer: { type: "string" },
    output: { type: "string" },
    rotate: { type: "string" },
    bulk: { type: "boolean" },
    adopt: { type: "boolean" },
    "keep-snapshots": { type: "string" },
    "snapshot-max-age": { type: "string" },
    "snapshot-max-size": { type: "string" },
  }, 2);
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
  const kind = ctx.sim ? "sim" : "real";
  const output = values.output as string | undefined;
  if (values.rotate !== undefined && output === undefined) {
    throw new UsageError(`"--rotate" needs "--output"`);
  }
  if (values.bulk && output === undefined) throw new UsageError(`"--bulk" needs "--output"`);
  const script: ScriptSource = text !== undefined ? { text } : { file: file! };
  const detail = await recordersFor(ctx).start({
    name,
    script,
    buffer: values.buffer !== undefined ? parseBufferSize(values.buffer as string, kind) : undefined,
    output,
    rotate: values.rotate !== undefined ? parseRotate(values.rotate as string, kind) : undefined,
    bulk: values.bulk as boolean | undefined,
    stapArgs: rest,
    signal: ctx.signal,
    adopt: values.adopt as boolean | undefined,
    snapshotRetention: retentionFlags(values, "keep-snapshots", "snapshot-max-age", "snapshot-max-size"),
  });
  if (ctx.json) {
    await ctx.json_out(detail);
    return 0;
  }
  const where = detail.mode === "memory"
    ? `${detail.cpus ?? "?"} CPUs × ${humanBytes(detail.buffer_per_cpu)} ring`
    : `files in ${detail.run_dir}, stapio pid ${detail.pid}`;
  await ctx.out(
    detail.adopted
      ? `Recorder "${detail.name}" was already recording: adopted it (${detail.mode} mode, module ${detail.module}, ${where})\n`
      : `Recorder "${detail.name}" is recording (${detail.mode} mode, module ${detail.module}, ${where})\n`,
  );
  for (const note of detail.notes) await ctx.out(`Note: ${note}\n`);
  await ctx.out(
    `Read it with "${self(ctx)} dump ${detail.name}", end it with "${self(ctx)} stop ${detail.name}"\n`,
  );
  return 0;
}
