/**
 * `stapfr snapshot NAME [--reason TEXT] [--store DIR] [--ship [URL]] [--endpoint URL]`: captures the recorder's
 * current window into the snapshot store and prints the snapshot's ID and directory (`--json`: its manifest).
 * With `--ship`, it then ships the snapshot (to URL, else `STAPFR_SHIP_TO`); a snapshot that cannot be
 * shipped stays here, marked pending, and the command fails with the reason (docs/fleet.md).
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError } from "../errors.ts";
import { diagnostics, humanBytes, oneName } from "./common.ts";
import { recordersWithStore } from "./snapshot_common.ts";
import { endpointOf, openRemote, requireDestination, shipOptions, urlOf } from "./fleet_common.ts";
import { lossLine } from "../recorder/loss.ts";
import { terminalText } from "../terminal_text.ts";

/** Runs `snapshot`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.snapshot.forms[0]);
  const name = oneName(positionals);
  const dest = values.ship ? requireDestination(ctx, urlOf(values.ship), "--ship") : undefined;
  const endpoint = endpointOf(values.endpoint);
  const recorders = recordersWithStore(ctx, values);
  const { SnapshotStore } = await import("../snapshots/store.ts");
  const store = new SnapshotStore(recorders.storeDir);
  const { markPending } = await import("../fleet/ship.ts");
  const { destinationUrl } = await import("../destination.ts");
  const taken = await recorders.snapshot(name, {
    reason: values.reason as string | undefined,
    signal: ctx.signal,
    onDiagnostic: diagnostics(ctx),
    // Marked before retention looks at it: retention keeps what is not shipped yet.
    beforeRetention: dest
      ? (s) => markPending(store, [s], destinationUrl(dest), endpoint, "not shipped yet")
      : undefined,
  });
  const m = taken.manifest;
  if (!ctx.json) {
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
    for (const s of taken.pruned) {
      const unshipped = s.shipping === "pending"
        ? " before it was shipped: its recorder's snapshots are over their size bound"
        : "";
      await ctx.err(`stapfr: retention removed snapshot ${s.recorder}/${s.id}${unshipped}`);
    }
  }
  let shipped: { url: string; action: string } | undefined;
  if (dest) {
    const { shipSnapshot } = await import("../fleet/ship.ts");
    const remote = await openRemote(ctx, dest, endpoint);
    try {
      const snapshot = await store.find(`${m.recorder}/${m.id}`);
      const outcome = await shipSnapshot(remote, store, snapshot, shipOptions(ctx));
      shipped = { url: outcome.url, action: outcome.action };
      if (!ctx.json) await ctx.err(`stapfr: shipped ${m.recorder}/${m.id} to ${outcome.url}`);
    } catch (err) {
      const reason = (err as { reason?: string }).reason ?? (err as Error).message;
      throw new StapfrError(`Snapshot ${m.recorder}/${m.id} is kept here, not shipped: ${reason}`, {
        hint: `${
          (err as { hint?: string }).hint ? `${(err as { hint?: string }).hint}. ` : ""
        }It is marked pending: "stapfr ship --pending" sends it`,
        cause: err,
      });
    } finally {
      remote.close();
    }
  }
  if (ctx.json) {
    await ctx.json_out({
      ...m,
      path: taken.path,
      pruned: taken.pruned.map((s) => s.id),
      ...(dest ? { shipped } : {}),
    });
  }
  return ExitCode.ok;
}
