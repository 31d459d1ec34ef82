/**
 * `stapfr status NAME`: one recorder in detail.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { age, humanBytes, oneName, recordersFor } from "./common.ts";

/** Runs `status`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, 1);
  const d = await recordersFor(ctx).status(oneName(positionals));
  if (ctx.json) {
    await ctx.json_out(d);
    return 0;
  }
  const rows: [string, string][] = [
    ["name", d.name],
    ["mode", d.mode],
    ["state", d.state],
    ["module", `${d.module}${d.refcount !== null ? ` (used by ${d.refcount})` : " (not loaded)"}`],
    ["started", `${d.started_at ?? "-"} (${age(d.started_at)} ago)`],
    ["cpus", d.cpus === null ? "-" : String(d.cpus)],
  ];
  if (d.mode === "memory") {
    rows.push([
      "buffer",
      `${humanBytes(d.buffer_per_cpu)} per CPU${d.capacity ? `, ${humanBytes(d.capacity)} in all` : ""}`,
    ]);
  } else {
    rows.push(["pid", d.pid === null ? "-" : String(d.pid)]);
    rows.push(["run dir", d.run_dir ?? "-"]);
    rows.push([
      "rotate",
      d.rotate ? `${humanBytes(d.rotate.size)}${d.rotate.count ? `, keep ${d.rotate.count}` : ""}` : "no",
    ]);
    rows.push(["bulk", d.bulk ? "yes (one file per CPU, merged when read)" : "no"]);
    rows.push(["bytes", `${humanBytes(d.bytes)} in ${d.files.length} files`]);
  }
  if (d.module_file !== null) rows.push(["prebuilt", d.module_file]);
  else rows.push(["script", d.script_file ?? "(-e)"]);
  if (d.stap_args.length > 0) rows.push(["stap args", d.stap_args.join(" ")]);
  if (d.ended_at) rows.push(["ended", d.ended_at]);
  rows.push(["state file", d.state_file]);
  for (const n of d.notes) rows.push(["note", n]);
  const width = Math.max(...rows.map(([k]) => k.length));
  await ctx.out(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join(""));
  if (d.files.length > 0) {
    await ctx.out("files:\n" + d.files.map((f) => `  ${f.name}  ${humanBytes(f.size)}\n`).join(""));
  }
  return 0;
}
