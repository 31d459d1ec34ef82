/**
 * `stapfr snapshot NAME [--reason TEXT] [--store DIR]`: captures the recorder's current window into the
 * snapshot store and prints the snapshot's ID and directory (`--json`: its manifest).
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode } from "../errors.ts";
import { diagnostics, humanBytes, oneName } from "./common.ts";
import { recordersWithStore, STORE_FLAG } from "./snapshot_common.ts";
import { lossLine } from "../recorder/loss.ts";
import { terminalText } from "../terminal_text.ts";

/** Runs `snapshot`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { reason: { type: "string" }, ...STORE_FLAG }, 1);
  const name = oneName(positionals);
  const taken = await recordersWithStore(ctx, values).snapshot(name, {
    reason: values.reason as string | undefined,
    signal: ctx.signal,
    onDiagnostic: diagnostics(ctx),
  });
  const m = taken.manifest;
  if (ctx.json) {
    await ctx.json_out({ ...m, path: taken.path, pruned: taken.pruned.map((s) => s.id) });
    return ExitCode.ok;
  }
  await ctx.out(`${m.id}  ${terminalText(taken.path)}\n`);
  const facts = [
    `${humanBytes(m.bytes)}, ${m.lines} lines in ${m.files.length} file${m.files.length === 1 ? "" : "s"}`,
  ];
  if (m.first_seq != null && m.last_seq != null) facts.push(`records ${m.first_seq}–${m.last_seq}`);
  if (m.wrapped) facts.push(`older data was lost before it (${m.wrapped_evidence})`);
  if (m.damaged_lines > 0) facts.push(`${m.damaged_lines} damaged lines cut out`);
  if (!m.contiguous && m.previous) facts.push(`gap after ${m.previous}: ${m.gap_reason}`);
  await ctx.err(`stapfr: snapshot of "${name}": ${facts.join("; ")}`);
  if (m.missing) {
    const line = lossLine({
      first_seq: m.first_seq ?? null,
      last_seq: m.last_seq ?? null,
      records: m.records ?? 0,
      missing: m.missing,
      late: 0,
      skipped_bytes: 0,
    }, "snapshot");
    if (line) await ctx.err(line);
  }
  for (const s of taken.pruned) await ctx.err(`stapfr: retention removed snapshot ${s.recorder}/${s.id}`);
  return ExitCode.ok;
}
