/**
 * Shipping one local snapshot to a store: its data files (lib/fleet/upload.ts), then its manifest, byte for
 * byte, create-only (the commit point: a snapshot exists remotely once its manifest does), then its index
 * entry. Each step first looks at what the store holds, so shipping again is a verification that writes
 * nothing, and a ship cut short anywhere goes on from where it stopped. The snapshot's shipping record on the
 * host (lib/snapshots/ship_record.ts) says `pending` until the index entry is in place, and `shipped` after. See
 * docs/fleet.md.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { join } from "../path.ts";
import type { SnapshotStore, StoredSnapshot } from "../snapshots/store.ts";
import { destinationUrl } from "../destination.ts";
import { dataKey, indexEntry, indexKey, MANIFEST, manifestKey, refOf, snapshotUrl } from "./layout.ts";
import {
  freshState,
  lockForShipping,
  readShipRecord,
  type ShipRecord,
  updateShipRecord,
} from "../snapshots/ship_record.ts";
import { type RemoteStore, StoreFailure } from "./store_client.ts";
import { uploadFile } from "./upload.ts";
// Imported when this module loads, not hoisted into every start of the bundle (docs/architecture.md).
const { createHash } = await import("node:crypto");

/** How to ship. */
export interface ShipOptions {
  /** Bytes per part of a multipart upload. */
  partSize: number;
  /** At most this many bytes per second, when set. */
  rate?: number;
  /** Aborting it stops the ship; the next one goes on from what the store holds. */
  signal?: AbortSignal;
}

/** What shipping one snapshot did. */
export interface ShipOutcome {
  recorder: string;
  id: string;
  /** The snapshot's URL in the store. */
  url: string;
  /** `shipped` now, or `present`: already complete in the store (verified, nothing written). */
  action: "shipped" | "present";
  /** Data files. */
  files: number;
  /** Data bytes. */
  bytes: number;
  /** Bytes sent now. */
  sent: number;
  /** Multipart parts the store already held from an attempt that was cut short. */
  resumed_parts: number;
}

/** Another stapfr of this host is shipping the snapshot. */
export class ShipBusy extends StapfrError {
  /** The error's name. */
  override name = "ShipBusy";
}

const encoder = new TextEncoder();

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Writes a small object create-only, or finds the same bytes already there. Different bytes at the key are a
 * conflict: an upload never overwrites.
 */
async function putOnce(
  remote: RemoteStore,
  key: string,
  body: Uint8Array,
  what: string,
  conflict: string,
  signal?: AbortSignal,
): Promise<{ etag: string; written: boolean }> {
  const { sdk, client } = remote;
  const bucket = remote.dest.bucket;
  const held = async (): Promise<{ etag: string } | undefined> => {
    let r;
    try {
      r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      const name = (err as { name?: string })?.name;
      if (name === "NoSuchKey" || name === "NotFound") return undefined;
      throw await remote.failure(err, what);
    }
    const stored = await r.Body!.transformToByteArray();
    if (!equal(stored, body)) {
      throw new StoreFailure(`Cannot ${what}: ${conflict}`, "conflict", {
        hint:
          "An upload never overwrites: give this host its own identity (STAPFR_HOST_NAME), or ship elsewhere",
      });
    }
    return { etag: r.ETag ?? "" };
  };
  // Look first: stores that ignore the create-only condition must not get the chance to overwrite.
  const there = await held();
  if (there) return { ...there, written: false };
  const md5 = createHash("md5").update(body);
  try {
    const r = await client.send(
      new sdk.PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: "application/json",
        ContentMD5: md5.digest("base64"),
        IfNoneMatch: "*",
      }),
      { abortSignal: signal },
    );
    return { etag: r.ETag ?? "", written: true };
  } catch (err) {
    if ((err as { name?: string })?.name !== "PreconditionFailed") throw await remote.failure(err, what);
    // Written meanwhile: it must be these bytes.
    const now = await held();
    if (!now) throw await remote.failure(err, what);
    return { ...now, written: false };
  }
}

/** Ships one snapshot of the local store to `remote`. */
export async function shipSnapshot(
  remote: RemoteStore,
  store: SnapshotStore,
  snapshot: StoredSnapshot,
  options: ShipOptions,
): Promise<ShipOutcome> {
  const m = snapshot.manifest;
  const label = `${m.recorder}/${m.id}`;
  const ref = refOf(m);
  const dest = remote.dest;
  const url = snapshotUrl(dest, ref);
  const destKey = destinationUrl(dest);
  const lock = await lockForShipping(store.dir, m.recorder, m.id);
  if ("heldBy" in lock) {
    throw new ShipBusy(`Snapshot ${label} is being shipped by another stapfr (pid ${lock.heldBy})`, {
      hint: "It goes on there; ship it again later to verify",
    });
  }
  const releaseLease = await store.lease(snapshot);
  const update = (change: (s: ReturnType<typeof freshState>) => void) =>
    updateShipRecord(store.dir, m.recorder, m.id, (r) => {
      dropOtherPending(r, destKey);
      const s = r.destinations[destKey] ??= freshState(remote.endpoint);
      if (remote.endpoint) s.endpoint = remote.endpoint;
      change(s);
    });
  const before = (await readShipRecord(store.dir, m.recorder, m.id))?.destinations[destKey];
  try {
    await remote.preflight(`ship ${label}`);
    const manifestBytes = await Deno.readFile(join(snapshot.path, MANIFEST));
    let sent = 0;
    let resumed = 0;
    const etags: Record<string, string> = {};
    for (const file of m.files) {
      const result = await uploadFile(remote, {
        key: dataKey(dest, ref, file),
        path: join(snapshot.path, file.name),
        bytes: file.bytes,
        sha256: file.sha256,
        label: `${label}/${file.name}`,
      }, {
        partSize: options.partSize,
        rate: options.rate,
        signal: options.signal,
        resume: before?.uploads[file.name],
        started: (upload) => update((s) => void (s.uploads[file.name] = upload)).then(() => {}),
      });
      sent += result.sent;
      resumed += result.reused;
      etags[file.name] = result.etag;
      if (before?.uploads[file.name]) await update((s) => void delete s.uploads[file.name]);
    }
    const what = `ship ${label}`;
    const manifest = await putOnce(
      remote,
      manifestKey(dest, ref),
      manifestBytes,
      what,
      `a different snapshot ${ref.host}/${label} is already in the store`,
      options.signal,
    );
    etags[MANIFEST] = manifest.etag;
    const entry = encoder.encode(JSON.stringify(indexEntry(m, sha256(manifestBytes))) + "\n");
    const index = await putOnce(
      remote,
      indexKey(dest, ref, m.capture_started_at),
      entry,
      what,
      `the index entry of ${ref.host}/${label} differs from this snapshot's`,
      options.signal,
    );
    const wrote = sent > 0 || manifest.written || index.written || resumed > 0;
    await update((s) => {
      Object.assign(s, {
        state: "shipped",
        url,
        shipped_at: s.state === "shipped" && !wrote ? s.shipped_at : new Date().toISOString(),
        attempts: s.attempts + 1,
        last_attempt_at: new Date().toISOString(),
        last_error: null,
        uploads: {},
        etags,
      });
    });
    return {
      recorder: m.recorder,
      id: m.id,
      url,
      action: wrote ? "shipped" : "present",
      files: m.files.length,
      bytes: m.bytes,
      sent,
      resumed_parts: resumed,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await update((s) => {
      // What was once verified in the store stays shipped; anything else waits for `ship --pending`.
      if (s.state !== "shipped") s.state = "pending";
      s.attempts++;
      s.last_attempt_at = new Date().toISOString();
      s.last_error = message.split("\n")[0];
    }).catch(() => {});
    throw err;
  } finally {
    await releaseLease();
    await lock.release();
  }
}

/**
 * A snapshot waits to go to one place at most: the destination it was last asked to go to. Asking again
 * elsewhere (a mistyped bucket corrected) replaces the wait; what was shipped stays on record.
 */
function dropOtherPending(record: ShipRecord, destUrl: string): void {
  for (const [url, d] of Object.entries(record.destinations)) {
    if (url !== destUrl && d.state === "pending") delete record.destinations[url];
  }
}

/** Marks snapshots pending for a destination without trying them (what could not even be attempted). */
export async function markPending(
  store: SnapshotStore,
  snapshots: readonly StoredSnapshot[],
  destUrl: string,
  endpoint: string | undefined,
  why: string,
): Promise<void> {
  for (const s of snapshots) {
    await updateShipRecord(store.dir, s.manifest.recorder, s.manifest.id, (r) => {
      dropOtherPending(r, destUrl);
      const d = r.destinations[destUrl] ??= freshState(endpoint);
      if (d.state !== "shipped") d.state = "pending";
      d.last_error = why.split("\n")[0];
    });
  }
}
