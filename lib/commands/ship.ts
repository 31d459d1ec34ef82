/**
 * `stapfr ship [NAME | ID | NAME/ID]… [--to s3://BUCKET/PREFIX] [--endpoint URL] [--pending] [--store DIR]`:
 * uploads local snapshots to an S3-compatible store (docs/fleet.md). Without arguments, every snapshot of the
 * store; a recorder name means all of its snapshots. `--pending` sends what an earlier ship, `snapshot --ship`
 * or a watcher could not, each to the destination it was meant for unless `--to` says otherwise.
 * @module
 */
import { parseForm } from "../cli/parse.ts";
import { COMMANDS } from "../declarations/declarations.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError, UsageError } from "../errors.ts";
import type { Destination } from "../destination.ts";
import { parseDestination } from "../destination.ts";
import type { ShipFailure } from "../fleet/ship_batch.ts";
import type { ShipOutcome } from "../fleet/ship.ts";
import { SnapshotStore, type StoredSnapshot } from "../snapshots/store.ts";
import { isId } from "../snapshots/id.ts";
import { humanBytes, recordersFor } from "./common.ts";
import { destinationOf, endpointOf, openRemote, shipOptions } from "./fleet_common.ts";

/** One group of a ship: the snapshots for one destination and endpoint. */
interface Group {
  dest: Destination;
  endpoint: string | undefined;
  snapshots: StoredSnapshot[];
}

/** The snapshots the arguments name (all of the store without any), oldest first, each once. */
async function named(store: SnapshotStore, refs: string[]): Promise<StoredSnapshot[]> {
  if (refs.length === 0) return (await store.list()).snapshots;
  const picked = new Map<string, StoredSnapshot>();
  for (const ref of refs) {
    if (/^[a-z][a-z0-9_]*$/.test(ref) && !isId(ref)) {
      const all = (await store.list(ref)).snapshots;
      if (all.length === 0) throw new StapfrError(`No snapshots of "${ref}" in "${store.dir}"`);
      for (const s of all) picked.set(`${s.manifest.recorder}/${s.manifest.id}`, s);
    } else {
      const s = await store.find(ref);
      picked.set(`${s.manifest.recorder}/${s.manifest.id}`, s);
    }
  }
  return [...picked.values()];
}

/** The pending snapshots, grouped by where each was meant to go (or all to `dest` when given). */
async function pending(
  store: SnapshotStore,
  dest: Destination | undefined,
  endpoint: string | undefined,
): Promise<Group[]> {
  const { listShipRecords, removeShipRecord } = await import("../snapshots/ship_record.ts");
  const groups = new Map<string, Group>();
  for (const [ref, record] of await listShipRecords(store.dir)) {
    const [recorder, id] = ref.split("/");
    const targets = Object.entries(record.destinations).filter(([, d]) => d.state === "pending");
    if (targets.length === 0) continue;
    let snapshot: StoredSnapshot;
    try {
      snapshot = await store.find(ref);
    } catch {
      // Its snapshot is gone (deleted by hand): nothing left to send.
      await removeShipRecord(store.dir, recorder, id);
      continue;
    }
    const wanted = dest ? [{ dest, endpoint }] : targets.map(([url, d]) => ({
      dest: parseDestination(url),
      endpoint: endpoint ?? d.endpoint ?? undefined,
    }));
    for (const w of wanted) {
      const key = `${w.dest.bucket}/${w.dest.prefix} ${w.endpoint ?? ""}`;
      const g = groups.get(key) ?? { dest: w.dest, endpoint: w.endpoint, snapshots: [] };
      g.snapshots.push(snapshot);
      groups.set(key, g);
    }
  }
  return [...groups.values()];
}

function said(o: ShipOutcome): string {
  const files = `${o.files} file${o.files === 1 ? "" : "s"}, ${humanBytes(o.bytes)}`;
  if (o.action === "present") {
    return `Already in the store, verified: ${o.recorder}/${o.id} (${files}) ${o.url}\n`;
  }
  const resumed = o.resumed_parts > 0 ? `; went on from ${o.resumed_parts} parts already in the store` : "";
  return `Shipped ${o.recorder}/${o.id} (${files}${resumed}) to ${o.url}\n`;
}

/** Runs `ship`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { values, positionals } = parseForm(args, COMMANDS.ship.forms[0]);
  const endpoint = endpointOf(values.endpoint);
  const dest = destinationOf(ctx, values.to, "--to");
  if (values.pending && positionals.length > 0) {
    throw new UsageError(`"--pending" takes no snapshots: it sends every pending one`);
  }
  const store = new SnapshotStore(recordersFor(ctx, values.store as string | undefined).storeDir);
  let groups: Group[];
  if (values.pending) {
    groups = await pending(store, dest, endpoint);
  } else {
    if (!dest) {
      throw new UsageError(`Missing destination: give "--to s3://BUCKET/PREFIX" or set STAPFR_SHIP_TO`);
    }
    groups = [{ dest, endpoint, snapshots: await named(store, positionals) }];
  }
  const shipped: ShipOutcome[] = [];
  const failed: ShipFailure[] = [];
  let last: StapfrError | undefined;
  const { shipBatch } = await import("../fleet/ship_batch.ts");
  for (const g of groups) {
    if (g.snapshots.length === 0) continue;
    const remote = await openRemote(ctx, g.dest, g.endpoint);
    try {
      const r = await shipBatch(remote, store, g.snapshots, shipOptions(ctx), async (o) => {
        if ("url" in o && !ctx.json) await ctx.out(said(o));
      });
      shipped.push(...r.shipped);
      failed.push(...r.failed);
      if (r.failed.length > 0) {
        const f = r.stopped ?? r.failed[r.failed.length - 1];
        last = f instanceof StapfrError ? f : new StapfrError(f.error, { hint: f.hint ?? undefined });
      }
    } finally {
      remote.close();
    }
  }
  if (ctx.json && failed.length === 0) await ctx.json_out({ shipped, failed });
  if (failed.length === 0) {
    if (shipped.length === 0 && !ctx.json) {
      await ctx.out(values.pending ? "Nothing pending\n" : "No snapshots\n");
    }
    return ExitCode.ok;
  }
  const kept = `${failed.length} snapshot${failed.length === 1 ? " is" : "s are"} kept here, marked pending`;
  if (failed.length === 1 && shipped.length === 0 && last) {
    // The one line of the one failure (already printed above for people: do not print it twice).
    throw new StapfrError(last.message, {
      hint: `${
        last.hint ? `${last.hint}. ` : ""
      }The snapshot is kept here, marked pending: "stapfr ship --pending" sends it`,
    });
  }
  for (const f of failed) if (f.error !== "not tried") await ctx.err(`stapfr: ${f.error}`);
  throw new StapfrError(
    `${failed.length} of ${failed.length + shipped.length} snapshots not shipped (why above)`,
    {
      hint: `${kept}: "stapfr ship --pending" sends them`,
    },
  );
}
