/**
 * `stapfr snapshots [NAME]`, `snapshots show ID [--data] [-o FILE]`, `snapshots verify [ID…]` and `snapshots
 * prune [NAME] [--keep N] [--max-age DURATION] [--max-size SIZE] [--dry-run]`: browsing the snapshot store,
 * checking it and keeping it bounded.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { DamagedSnapshot } from "../snapshots/verify.ts";
import { humanBytes, stdoutSink } from "./common.ts";
import { openOutputFile } from "./output_file.ts";
import { brokenLines, recordersWithStore, retentionFlags, snapshotTable } from "./snapshot_common.ts";

// The forms of lib/declarations/declarations.ts: the listing, show, verify (lib/commands/snapshots_verify.ts), prune,
// then the fleet's (lib/commands/snapshots_remote.ts).
const [LIST, SHOW, , PRUNE] = COMMANDS.snapshots.forms;

/** Runs `snapshots`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  // The fleet view (a store of every host's snapshots) is a module of its own: docs/fleet.md.
  const remote = await import("./snapshots_remote.ts");
  if (remote.isRemote(args)) return await remote.run(args, ctx);
  if (args[0] === "show") return await show(args.slice(1), ctx);
  if (args[0] === "prune") return await prune(args.slice(1), ctx);
  if (args[0] === "verify") return await (await import("./snapshots_verify.ts")).verify(args.slice(1), ctx);
  const { values, positionals } = parseForm(args, LIST);
  const recorders = recordersWithStore(ctx, values);
  const listed = await recorders.snapshots(positionals[0]);
  const { broken } = listed;
  for (const line of brokenLines(broken)) await ctx.err(line);
  const { listShipRecords, shippingOf } = await import("../snapshots/ship_record.ts");
  const records = await listShipRecords(recorders.storeDir, positionals[0]);
  const snapshots = listed.snapshots.map((s) => ({
    ...s,
    shipping: shippingOf(records.get(`${s.recorder}/${s.id}`)),
  }));
  if (ctx.json) {
    await ctx.json_out({ snapshots, broken });
    return ExitCode.ok;
  }
  if (snapshots.length === 0) await ctx.out("No snapshots\n");
  else await ctx.out(snapshotTable(snapshots));
  return ExitCode.ok;
}

async function show(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, SHOW);
  const ref = positionals[0];
  if (ref === undefined) throw new UsageError("Missing snapshot ID");
  const path = values.output as string | undefined;
  const recorders = recordersWithStore(ctx, values);
  if (!values.data) {
    const { manifest, path: dir } = await recorders.snapshotManifest(ref);
    // Shipping is kept beside the manifest, never in it (docs/fleet.md "On the host"): shown after it.
    const { readShipRecord } = await import("../snapshots/ship_record.ts");
    const record = await readShipRecord(recorders.storeDir, manifest.recorder, manifest.id);
    const shipping = record ? { shipping: record.destinations } : {};
    await ctx.json_out(ctx.json ? { ...manifest, path: dir, ...shipping } : { ...manifest, ...shipping });
    return ExitCode.ok;
  }
  if (path === undefined) {
    if (ctx.json) throw new UsageError(`"--json" with "--data" needs "-o FILE"`);
    await recorders.snapshotData(ref, stdoutSink(ctx));
    return ExitCode.ok;
  }
  const file = await openOutputFile(path);
  let bytes;
  try {
    ({ bytes } = await recorders.snapshotData(ref, file.sink));
    await file.commit();
  } catch (err) {
    const kept = await file.abandon();
    // Damage found after data went out: what was written never takes the name asked for, and says so.
    if (err instanceof DamagedSnapshot && kept !== undefined) {
      throw new DamagedSnapshot(err.snapshot, err.problem, err.served, `kept in "${kept}"`);
    }
    throw err;
  }
  if (ctx.json) await ctx.json_out({ snapshot: ref, bytes, file: path });
  else await ctx.out(`Wrote ${bytes} bytes to "${path}"\n`);
  return ExitCode.ok;
}

async function prune(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, PRUNE);
  const bounds = retentionFlags(values, { keep: "keep", maxAge: "max-age", maxSize: "max-size" }, {
    zero: true,
  });
  if (!bounds) throw new UsageError(`Give at least one bound: "--keep", "--max-age" or "--max-size"`);
  const dryRun = values["dry-run"] === true;
  const result = await recordersWithStore(ctx, values).pruneSnapshots(bounds, {
    name: positionals[0],
    dryRun,
  });
  for (const line of brokenLines(result.broken)) await ctx.err(line);
  if (ctx.json) {
    await ctx.json_out(result);
    return ExitCode.ok;
  }
  const verb = dryRun ? "Would remove" : "Removed";
  for (const s of result.removed) {
    // Only the size bound takes a snapshot that is not shipped yet (docs/fleet.md "Retention").
    const unshipped = s.shipping === "pending"
      ? ", not shipped yet: the size bound takes it all the same"
      : "";
    await ctx.out(`${verb} ${s.recorder}/${s.id} (${humanBytes(s.bytes)}${unshipped})\n`);
  }
  for (const s of result.kept_in_use) await ctx.out(`Kept ${s.recorder}/${s.id}: being read\n`);
  for (const s of result.kept_unshipped) await ctx.out(`Kept ${s.recorder}/${s.id}: not shipped yet\n`);
  if (result.removed.length + result.kept_in_use.length + result.kept_unshipped.length === 0) {
    await ctx.out("Nothing to prune\n");
  }
  return ExitCode.ok;
}
