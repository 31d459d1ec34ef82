/**
 * `stapfr status NAME`: one recorder in detail.
 * @module
 */
import { ExitCode } from "../errors.ts";
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { age, humanBytes, oneName, self } from "./format.ts";
import { setUpFor } from "./set_up_for.ts";
import { recorderStatus } from "../recorder/inspect.ts";
import { terminalText } from "../terminal_text.ts";

/** Seconds for people: `45s`, `12m`, `3.5h`, `2d`. */
function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${+(seconds / 3600).toFixed(1)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** Runs `status`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { positionals } = parseForm(args, COMMANDS.status.forms[0]);
  const name = oneName(positionals);
  const { engine, storeDir } = setUpFor(ctx);
  let d;
  try {
    d = await recorderStatus(engine, name);
  } catch (err) {
    // As the library says it (Recorders.status).
    throw (await import("../os_errors.ts")).operationError(`status "${name}"`, err);
  }
  // Snapshots asked to ship that are not in their store yet (docs/fleet.md "On the host").
  const { unshippedSnapshots } = await import("../snapshots/ship_record.ts");
  const unshipped = await unshippedSnapshots(storeDir, d.name);
  if (ctx.json) {
    await ctx.json_out({ ...d, unshipped_snapshots: unshipped });
    return ExitCode.ok;
  }
  const rows: [string, string][] = [
    ["name", d.name],
    ["mode", d.mode],
    ["state", d.state],
    ["module", `${d.module}${d.refcount !== null ? ` (used by ${d.refcount})` : " (not loaded)"}`],
    ["started", `${d.started_at ?? "-"} (${age(d.started_at)} ago)`],
    ["cpus", d.cpus === null ? "-" : String(d.cpus)],
  ];
  if (d.reader) {
    const { describeReader } = await import("../recorder/reader_records.ts");
    rows.push(["reader", describeReader(d.name, d.reader, self(ctx)).slice(d.name.length + 2)]);
  }
  if (d.mode === "memory") {
    rows.push([
      "buffer",
      `${humanBytes(d.buffer_per_cpu)} per CPU${d.capacity ? `, ${humanBytes(d.capacity)} in all` : ""}`,
    ]);
    rows.push([
      "window",
      d.window_seconds !== null && d.fill_rate !== null
        ? `about ${duration(d.window_seconds)} at ${
          humanBytes(Math.round(d.fill_rate))
        }/s (the rate between its last drains)`
        : "not known yet (a dump or snapshot measures the rate it fills at)",
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
    if (d.daemon_log) rows.push(["daemon log", d.daemon_log]);
  }
  if (d.problem) rows.push(["problem", d.problem]);
  if (d.module_file !== null) rows.push(["prebuilt", d.module_file]);
  else rows.push(["script", d.script_file ?? "(-e)"]);
  if (d.stap_args.length > 0) rows.push(["stap args", d.stap_args.join(" ")]);
  if (d.ended_at) rows.push(["ended", d.ended_at]);
  rows.push(["state file", d.state_file]);
  if (d.watcher) {
    const w = d.watcher;
    const sup = Object.entries(w.suppressed).filter(([, n]) => n > 0).map(([k, n]) => `${n} by ${k}`);
    rows.push([
      "watcher",
      `pid ${w.pid}, ${w.snapshots} snapshots${w.failed ? `, ${w.failed} failed` : ""}, ` +
      `${sup.length ? `suppressed ${sup.join(", ")}` : "nothing suppressed"}; triggers: ${
        w.triggers.join(", ") || "none"
      }`,
    ]);
  }
  if (unshipped.length > 0) {
    rows.push([
      "not shipped",
      `${unshipped.length} snapshot${unshipped.length === 1 ? "" : "s"} (oldest ${unshipped[0]}): ` +
      `"${self(ctx)} ship --pending" sends them`,
    ]);
  }
  for (const n of d.notes) rows.push(["note", n]);
  const width = Math.max(...rows.map(([k]) => k.length));
  // Paths, stap arguments, triggers (with their log patterns) and problems may hold control characters.
  await ctx.out(rows.map(([k, v]) => `${k.padEnd(width)}  ${terminalText(v)}\n`).join(""));
  if (d.files.length > 0) {
    await ctx.out(
      "files:\n" + d.files.map((f) => `  ${terminalText(f.name)}  ${humanBytes(f.size)}\n`).join(""),
    );
  }
  return ExitCode.ok;
}
