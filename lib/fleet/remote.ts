/**
 * The fleet view: listing the snapshots of every host from a store's index, fetching one (every SHA-256
 * checked before it is called done), and reading one's manifest. A query by time lists only the index range it
 * asks for (its keys sort by capture time, lib/fleet/layout.ts) and reads the index entries of what matches,
 * so `--since 1h` costs requests in proportion to the snapshots of that hour, not to the bucket.
 * docs/fleet.md "The fleet view".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { dirname, join } from "../path.ts";
import { type Manifest, parseManifest } from "../snapshots/manifest.ts";
import {
  dataKey,
  type IndexEntry,
  indexKey,
  indexPrefix,
  indexStamp,
  manifestKey,
  parseIndexKey,
  type SnapshotRef,
  snapshotUrl,
} from "./layout.ts";
import type { RemoteStore } from "./store_client.ts";
// Imported when this module loads, not hoisted into every start of the bundle (docs/architecture.md).
const { createHash } = await import("node:crypto");

/** What to list. Times are milliseconds since the epoch. */
export interface RemoteFilters {
  host?: string;
  recorder?: string;
  since?: number;
  until?: number;
  reason?: RegExp;
  trigger?: string;
}

/**
 * One snapshot of the fleet (`snapshots --remote --json` uses these keys): its index entry without the
 * entry's own bookkeeping, and its folder in the store (`url`, what `snapshots fetch` and `snapshots show`
 * take).
 */
export type RemoteSnapshot = Omit<IndexEntry, "schema" | "manifest_sha256"> & { url: string };

/** Index entries read at once. */
const PARALLEL_READS = 16;

/** Runs `fn` over `items`, at most `limit` at once, keeping the order of the results. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function getBytes(remote: RemoteStore, key: string, what: string): Promise<Uint8Array | undefined> {
  try {
    const r = await remote.client.send(
      new remote.sdk.GetObjectCommand({ Bucket: remote.dest.bucket, Key: key }),
    );
    return await r.Body!.transformToByteArray();
  } catch (err) {
    const name = (err as { name?: string })?.name;
    if (name === "NoSuchKey" || name === "NotFound") return undefined;
    throw await remote.failure(err, what);
  }
}

function parseEntry(text: string): IndexEntry | undefined {
  try {
    const v = JSON.parse(text);
    const ok = v?.schema === 1 && typeof v.host === "string" && typeof v.recorder === "string" &&
      typeof v.id === "string" && typeof v.taken_at === "string" && typeof v.bytes === "number" &&
      typeof v.trigger === "string" && typeof v.manifest_sha256 === "string";
    return ok ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The fleet's snapshots that match, oldest first, and index entries that could not be read. */
export async function listRemote(
  remote: RemoteStore,
  filters: RemoteFilters,
): Promise<{ snapshots: RemoteSnapshot[]; unreadable: string[] }> {
  const dest = remote.dest;
  const prefix = indexPrefix(dest);
  const last = filters.until !== undefined ? indexStamp(filters.until) : undefined;
  const keys: string[] = [];
  let token: string | undefined;
  let done = false;
  while (!done) {
    const page = await remote.call("list the fleet's snapshots", (c) =>
      c.send(
        new remote.sdk.ListObjectsV2Command({
          Bucket: dest.bucket,
          Prefix: prefix,
          // Keys sort by capture time: start at the first second asked for.
          StartAfter: filters.since !== undefined && !token ? prefix + indexStamp(filters.since) : undefined,
          ContinuationToken: token,
        }),
      ));
    for (const o of page.Contents ?? []) {
      const parsed = o.Key ? parseIndexKey(dest, o.Key) : undefined;
      if (!parsed) continue;
      if (last !== undefined && parsed.stamp > last) {
        done = true;
        break;
      }
      if (filters.host !== undefined && parsed.host !== filters.host) continue;
      if (filters.recorder !== undefined && parsed.recorder !== filters.recorder) continue;
      keys.push(o.Key!);
    }
    token = page.NextContinuationToken;
    if (!page.IsTruncated || !token) done = true;
  }
  const unreadable: string[] = [];
  const entries = await mapLimited(keys, PARALLEL_READS, async (key) => {
    const bytes = await getBytes(remote, key, "read the fleet's index");
    const entry = bytes ? parseEntry(new TextDecoder().decode(bytes)) : undefined;
    if (!entry) unreadable.push(`s3://${dest.bucket}/${key}`);
    return entry;
  });
  const snapshots: RemoteSnapshot[] = [];
  for (const e of entries) {
    if (!e) continue;
    const t = Date.parse(e.taken_at);
    if (filters.since !== undefined && !(t >= filters.since)) continue;
    if (filters.until !== undefined && !(t <= filters.until)) continue;
    if (filters.trigger !== undefined && e.trigger !== filters.trigger) continue;
    if (filters.reason !== undefined && !filters.reason.test(e.reason ?? "")) continue;
    // Field by field: an entry is the store's JSON, which may carry keys a newer stapfr wrote.
    snapshots.push({
      host: e.host,
      recorder: e.recorder,
      id: e.id,
      taken_at: e.taken_at,
      reason: e.reason,
      trigger: e.trigger,
      bytes: e.bytes,
      wrapped: e.wrapped,
      contiguous: e.contiguous,
      url: snapshotUrl(dest, e),
    });
  }
  return { snapshots, unreadable };
}

function label(ref: SnapshotRef): string {
  return `${ref.host}/${ref.recorder}/${ref.id}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A remote snapshot's manifest, as stored, checked against its index entry when there is one. */
export async function remoteManifest(
  remote: RemoteStore,
  ref: SnapshotRef,
): Promise<{ manifest: Manifest; bytes: Uint8Array; url: string }> {
  const what = `read ${label(ref)}`;
  const url = snapshotUrl(remote.dest, ref);
  const bytes = await getBytes(remote, manifestKey(remote.dest, ref), what);
  if (!bytes) {
    throw new StapfrError(`No snapshot ${label(ref)} in ${url.slice(0, url.indexOf("/hosts/"))}`, {
      hint: 'See "stapfr snapshots --remote …"',
    });
  }
  const manifest = parseManifest(`${url}manifest.json`, new TextDecoder().decode(bytes));
  if (manifest.id !== ref.id || manifest.recorder !== ref.recorder || manifest.host_name !== ref.host) {
    throw new StapfrError(
      `The manifest at ${url} names ${manifest.host_name}/${manifest.recorder}/${manifest.id}, not ${
        label(ref)
      }`,
    );
  }
  const entryBytes = await getBytes(remote, indexKey(remote.dest, ref, manifest.capture_started_at), what);
  const entry = entryBytes ? parseEntry(new TextDecoder().decode(entryBytes)) : undefined;
  if (entry && entry.manifest_sha256 !== sha256(bytes)) {
    throw new StapfrError(`The manifest at ${url} does not match its index entry (SHA-256 differs)`);
  }
  return { manifest, bytes, url };
}

/** What a fetch did. */
export interface Fetched {
  /** The directory it made. */
  dir: string;
  manifest: Manifest;
  files: number;
  bytes: number;
  url: string;
}

/**
 * Downloads a remote snapshot into `dir` (created; it must not exist): its data files and manifest, each file
 * checked against the manifest's size and SHA-256 as it arrives. It is written under a temporary name and
 * renamed into place only when every check passed, so a failed fetch leaves nothing (0700 directory, 0600
 * files: traced data).
 */
export async function fetchRemote(remote: RemoteStore, ref: SnapshotRef, dir: string): Promise<Fetched> {
  if (await Deno.lstat(dir).then(() => true, () => false)) {
    throw new StapfrError(`"${dir}" already exists`, { hint: "Give another directory with -o DIR" });
  }
  const { manifest, bytes: manifestBytes, url } = await remoteManifest(remote, ref);
  await Deno.mkdir(dirname(dir), { recursive: true });
  const temp = `${dir}.partial-${Deno.pid}`;
  await Deno.mkdir(temp, { mode: 0o700 });
  try {
    let total = 0;
    for (const f of manifest.files) {
      const what = `fetch ${label(ref)}/${f.name}`;
      let r;
      try {
        r = await remote.client.send(
          new remote.sdk.GetObjectCommand({ Bucket: remote.dest.bucket, Key: dataKey(remote.dest, ref, f) }),
        );
      } catch (err) {
        const name = (err as { name?: string })?.name;
        if (name === "NoSuchKey") {
          throw new StapfrError(`Snapshot ${label(ref)} is incomplete in the store: ${f.name} is missing`);
        }
        throw await remote.failure(err, what);
      }
      const hash = createHash("sha256");
      let size = 0;
      {
        using out = await Deno.open(join(temp, f.name), { write: true, createNew: true, mode: 0o600 });
        try {
          for await (const chunk of r.Body!.transformToWebStream() as ReadableStream<Uint8Array>) {
            hash.update(chunk);
            size += chunk.length;
            for (let done = 0; done < chunk.length;) done += await out.write(chunk.subarray(done));
          }
        } catch (err) {
          throw await remote.failure(err, what);
        }
      }
      const digest = hash.digest("hex");
      if (size !== f.bytes || digest !== f.sha256) {
        throw new StapfrError(
          `${label(ref)}/${f.name} does not match its manifest: ${size} bytes, SHA-256 ${
            digest.slice(0, 12)
          }…` +
            ` (the manifest says ${f.bytes} bytes, ${f.sha256.slice(0, 12)}…)`,
          { hint: "Nothing was kept; the copy in the store is damaged" },
        );
      }
      total += size;
    }
    await Deno.writeFile(join(temp, "manifest.json"), manifestBytes, { mode: 0o600 });
    try {
      await Deno.rename(temp, dir);
    } catch (err) {
      throw new StapfrError(`Cannot create "${dir}": ${(err as Error).message}`, { cause: err });
    }
    return { dir, manifest, files: manifest.files.length, bytes: total, url };
  } catch (err) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw err;
  }
}
