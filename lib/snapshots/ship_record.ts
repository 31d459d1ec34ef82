/**
 * Where a local snapshot stands with shipping: a small JSON file per snapshot beside the store's snapshot
 * directories, `STORE/NAME/.ship/ID.json` (0600), never inside the snapshot: the snapshot's manifest and data
 * are never changed after capture, because the remote copy is verified against them byte for byte. The file
 * holds, per destination, `pending` (asked for, not yet in the store, with the last error) or `shipped` (with
 * the snapshot's URL and the ETags the store gave its objects), and the multipart uploads under way, so that
 * a killed upload goes on where it stopped. `snapshots`, `snapshots show`, `status` and retention read it;
 * `ship --pending` sends what is pending. A lock file (`ID.lock`, naming its stapfr's pid and start time) keeps
 * two stapfr processes of one host from shipping the same snapshot at once. See docs/fleet.md "On the host".
 * @module
 */
import { join } from "../path.ts";
import { processAlive, processStartTime } from "../driver/kernel.ts";
import { isId } from "./id.ts";
import { writeAtomic } from "../atomic_write.ts";

/** The folder of the shipping records, in a recorder's folder of the store. */
const DIR = ".ship";

/** A multipart upload under way. */
export interface UploadInProgress {
  /** The data file's object key. */
  key: string;
  /** The store's ID of the upload. */
  upload_id: string;
  /** The part size it was started with (parts are numbered by it). */
  part_size: number;
}

/** Shipping to one destination. */
export interface DestinationState {
  /** `pending`: asked for and not done; `shipped`: complete and verified in the store. */
  state: "pending" | "shipped";
  /** The endpoint used, when not AWS S3 itself (not a secret; `ship --pending` uses it again). */
  endpoint: string | null;
  /** The snapshot's URL in the store, once shipped. */
  url: string | null;
  /** When it was complete (ISO 8601). */
  shipped_at: string | null;
  /** Attempts so far. */
  attempts: number;
  /** When the last attempt ended. */
  last_attempt_at: string | null;
  /** Why the last attempt failed, in one line; null after a success. */
  last_error: string | null;
  /** Multipart uploads under way, by data file name. */
  uploads: Record<string, UploadInProgress>;
  /** The ETag the store gave each object (by data file name, and `manifest.json`), to verify them later. */
  etags: Record<string, string>;
}

/** A snapshot's shipping record: its state per destination URL (`s3://BUCKET/PREFIX`). */
export interface ShipRecord {
  destinations: Record<string, DestinationState>;
}

/** A snapshot's shipping state for listings: pending anywhere, else shipped anywhere, else never asked. */
export type Shipping = "pending" | "shipped" | null;

/** The record's path. */
export function shipRecordPath(storeDir: string, recorder: string, id: string): string {
  return join(storeDir, recorder, DIR, `${id}.json`);
}

/** A new, empty state for a destination. */
export function freshState(endpoint: string | undefined): DestinationState {
  return {
    state: "pending",
    endpoint: endpoint ?? null,
    url: null,
    shipped_at: null,
    attempts: 0,
    last_attempt_at: null,
    last_error: null,
    uploads: {},
    etags: {},
  };
}

/** The record of a snapshot, or undefined when it was never shipped (an unreadable record counts as none). */
export async function readShipRecord(
  storeDir: string,
  recorder: string,
  id: string,
): Promise<ShipRecord | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(shipRecordPath(storeDir, recorder, id)));
    return value && typeof value.destinations === "object" && value.destinations !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Changes a snapshot's record (read, `change`, written through a temporary file renamed into place, 0600). */
export async function updateShipRecord(
  storeDir: string,
  recorder: string,
  id: string,
  change: (record: ShipRecord) => void,
): Promise<ShipRecord> {
  const record = (await readShipRecord(storeDir, recorder, id)) ?? { destinations: {} };
  change(record);
  const path = shipRecordPath(storeDir, recorder, id);
  await Deno.mkdir(join(storeDir, recorder, DIR), { recursive: true, mode: 0o700 });
  await writeAtomic(path, JSON.stringify(record, null, 2) + "\n");
  return record;
}

/** Removes a snapshot's record (its snapshot is gone). */
export async function removeShipRecord(storeDir: string, recorder: string, id: string): Promise<void> {
  await Deno.remove(shipRecordPath(storeDir, recorder, id)).catch(() => {});
}

/** A record's state for listings. */
export function shippingOf(record: ShipRecord | undefined): Shipping {
  const states = Object.values(record?.destinations ?? {}).map((d) => d.state);
  return states.includes("pending") ? "pending" : states.includes("shipped") ? "shipped" : null;
}

/** The records of a store (of one recorder, or all), by `RECORDER/ID`. */
export async function listShipRecords(storeDir: string, recorder?: string): Promise<Map<string, ShipRecord>> {
  const out = new Map<string, ShipRecord>();
  let recorders: string[] = recorder ? [recorder] : [];
  if (!recorder) {
    try {
      for await (const e of Deno.readDir(storeDir)) {
        if (e.isDirectory && /^[a-z][a-z0-9_]*$/.test(e.name)) recorders.push(e.name);
      }
    } catch {
      return out;
    }
  }
  recorders = recorders.sort();
  for (const name of recorders) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(storeDir, name, DIR)));
    } catch {
      continue;
    }
    for (const e of entries) {
      const id = e.name.endsWith(".json") ? e.name.slice(0, -5) : "";
      if (!e.isFile || !isId(id)) continue;
      const record = await readShipRecord(storeDir, name, id);
      if (record) out.set(`${name}/${id}`, record);
    }
  }
  return out;
}

/** Whether a snapshot has been asked to ship and is not in its store yet (retention must not drop it silently). */
export async function isUnshipped(storeDir: string, recorder: string, id: string): Promise<boolean> {
  return shippingOf(await readShipRecord(storeDir, recorder, id)) === "pending";
}

/** The IDs of a recorder's snapshots that wait to be shipped, oldest first (records of deleted ones left out). */
export async function unshippedSnapshots(storeDir: string, recorder: string): Promise<string[]> {
  const ids: string[] = [];
  for (const [ref, record] of await listShipRecords(storeDir, recorder)) {
    const id = ref.slice(recorder.length + 1);
    if (shippingOf(record) !== "pending") continue;
    if (await Deno.stat(join(storeDir, recorder, id)).then((s) => s.isDirectory, () => false)) ids.push(id);
  }
  return ids.sort();
}

/**
 * Takes the shipping lock of a snapshot. Returns its release, or the pid of the live stapfr that holds it. A
 * lock whose holder is gone (killed) is taken over.
 */
export async function lockForShipping(
  storeDir: string,
  recorder: string,
  id: string,
): Promise<{ release: () => Promise<void> } | { heldBy: number }> {
  const dir = join(storeDir, recorder, DIR);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${id}.lock`);
  const mine = JSON.stringify({ pid: Deno.pid, start: (await processStartTime(Deno.pid)) ?? null });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await Deno.writeTextFile(path, mine, { createNew: true, mode: 0o600 });
      return { release: () => Deno.remove(path).catch(() => {}) };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let owner: { pid?: number; start?: number | null } = {};
    try {
      owner = JSON.parse(await Deno.readTextFile(path));
    } catch {
      // Half-written by a holder that was killed: as good as gone.
    }
    if (typeof owner.pid === "number" && (await processAlive(owner.pid, owner.start ?? undefined))) {
      return { heldBy: owner.pid };
    }
    await Deno.remove(path).catch(() => {});
  }
  return { heldBy: -1 };
}
