/**
 * The key layout of shipped snapshots under a destination `s3://BUCKET/PREFIX` (docs/fleet.md "The key
 * layout"):
 *
 * - `PREFIX/hosts/HOST/RECORDER/ID/files/SHA256/NAME`: each data file, under its own content hash, so that two
 *   different snapshots can never write the same key, even where the store ignores a create-only condition
 *   (RADOS Gateway 16.2 does for multipart uploads);
 * - `PREFIX/hosts/HOST/RECORDER/ID/manifest.json`: the manifest, byte for byte as on the host, written last
 *   and create-only: the commit point. A snapshot exists remotely once its manifest does;
 * - `PREFIX/by-time/STAMP/HOST/RECORDER/ID.json`: a small index entry written right after the manifest, its key
 *   sorted by the capture time, so that a query by time lists only the range it asks for.
 *
 * Pure functions: the same snapshot always gives the same keys and the same index entry, which makes shipping
 * again a comparison instead of a write.
 * @module
 */
import { UsageError } from "../errors.ts";
import { idStamp, isId } from "../snapshots/id.ts";
import type { Manifest } from "../snapshots/manifest.ts";
import { type Destination, parseDestination } from "../destination.ts";

/** The folder of the snapshots, by host. */
export const HOSTS = "hosts";
/** The folder of the index entries, by capture time. */
export const BY_TIME = "by-time";
/** The manifest's name in a snapshot's folder (as in the local store). */
export const MANIFEST = "manifest.json";

/** What identifies a snapshot in the fleet. */
export interface SnapshotRef {
  host: string;
  recorder: string;
  id: string;
}

/** An index entry: what the fleet view lists, without reading the manifest. */
export interface IndexEntry {
  /** The entry's format. */
  schema: 1;
  host: string;
  recorder: string;
  id: string;
  /** When the capture began (the manifest's `capture_started_at`). */
  taken_at: string;
  reason: string | null;
  /** The trigger kind (`user`, `signal`, `log`, …). */
  trigger: string;
  bytes: number;
  wrapped: boolean;
  contiguous: boolean;
  /** SHA-256 of the manifest as stored: a fetch checks it before trusting the manifest's own hashes. */
  manifest_sha256: string;
}

/**
 * A host name as one key segment: letters, digits, `.`, `-` and `_` as they are, anything else (and a name
 * of only dots) percent-encoded, so that no host name can reach into another's folder.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(hostSegment("web07.example.com"), "web07.example.com");
 * assertEquals(hostSegment("a/b c"), "a%2Fb%20c");
 * assertEquals(hostSegment(".."), "%2E%2E");
 * ```
 */
export function hostSegment(host: string): string {
  if (host === "" || /^\.+$/.test(host)) return host.replace(/\./g, "%2E");
  return Array.from(new TextEncoder().encode(host), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9._-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/** The host name a key segment stands for (the inverse of {@linkcode hostSegment}). */
export function hostFromSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function under(dest: Destination, ...parts: string[]): string {
  return [...(dest.prefix ? [dest.prefix] : []), ...parts].join("/");
}

/** The folder of one snapshot, ending in `/`. */
export function snapshotPrefix(dest: Destination, ref: SnapshotRef): string {
  return under(dest, HOSTS, hostSegment(ref.host), ref.recorder, ref.id) + "/";
}

/** The key of a snapshot's manifest. */
export function manifestKey(dest: Destination, ref: SnapshotRef): string {
  return snapshotPrefix(dest, ref) + MANIFEST;
}

/** The key of one data file, under its content hash. */
export function dataKey(dest: Destination, ref: SnapshotRef, file: { name: string; sha256: string }): string {
  return `${snapshotPrefix(dest, ref)}files/${file.sha256}/${file.name}`;
}

/** The `s3://` URL of a snapshot's folder, as listings print it and `fetch` takes it. */
export function snapshotUrl(dest: Destination, ref: SnapshotRef): string {
  return `s3://${dest.bucket}/${snapshotPrefix(dest, ref)}`;
}

/** The folder of the index. */
export function indexPrefix(dest: Destination): string {
  return under(dest, BY_TIME) + "/";
}

/** The time part of index keys for a moment: the ID's form, `20261201T051200Z`, which sorts as time. */
export function indexStamp(ms: number): string {
  return idStamp(ms);
}

/** The key of a snapshot's index entry. */
export function indexKey(dest: Destination, ref: SnapshotRef, takenAt: string): string {
  return `${indexPrefix(dest)}${indexStamp(Date.parse(takenAt))}/${
    hostSegment(ref.host)
  }/${ref.recorder}/${ref.id}.json`;
}

/** What an index key says (its time, host, recorder and ID), or undefined for a key that is not one. */
export function parseIndexKey(dest: Destination, key: string): (SnapshotRef & { stamp: string }) | undefined {
  const prefix = indexPrefix(dest);
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split("/");
  if (parts.length !== 4 || !/^\d{8}T\d{6}Z$/.test(parts[0]) || !parts[3].endsWith(".json")) return undefined;
  const id = parts[3].slice(0, -".json".length);
  if (!isId(id) || !/^[a-z][a-z0-9_]*$/.test(parts[2])) return undefined;
  return { stamp: parts[0], host: hostFromSegment(parts[1]), recorder: parts[2], id };
}

/** The fleet identity of a local snapshot: the host named in its manifest, its recorder and ID. */
export function refOf(manifest: Pick<Manifest, "host_name" | "recorder" | "id">): SnapshotRef {
  return { host: manifest.host_name, recorder: manifest.recorder, id: manifest.id };
}

/** The index entry of a snapshot (a pure function of its manifest and the manifest's hash). */
export function indexEntry(manifest: Manifest, manifestSha256: string): IndexEntry {
  return {
    schema: 1,
    host: manifest.host_name,
    recorder: manifest.recorder,
    id: manifest.id,
    taken_at: manifest.capture_started_at,
    reason: manifest.reason,
    trigger: manifest.trigger?.kind ?? "user",
    bytes: manifest.bytes,
    wrapped: manifest.wrapped,
    contiguous: manifest.contiguous,
    manifest_sha256: manifestSha256,
  };
}

/**
 * A remote snapshot named by its URL (`s3://BUCKET/PREFIX/hosts/HOST/RECORDER/ID/`, as listings print it) or
 * as `HOST/RECORDER/ID` under a destination.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const r = parseRemoteRef("s3://fleet/prod/hosts/web07/io/20261201T051200Z-001/");
 * assertEquals(r, { dest: { bucket: "fleet", prefix: "prod" }, ref: { host: "web07", recorder: "io", id: "20261201T051200Z-001" } });
 * const s = parseRemoteRef("web07/io/20261201T051200Z-001", { bucket: "fleet", prefix: "" });
 * assertEquals(s.ref.host, "web07");
 * ```
 */
export function parseRemoteRef(text: string, dest?: Destination): { dest: Destination; ref: SnapshotRef } {
  if (text.startsWith("s3://")) {
    const parts = text.replace(/\/(manifest\.json)?$/, "").split("/");
    // s3: "" BUCKET [PREFIX…] hosts HOST RECORDER ID
    const at = parts.length - 4;
    if (at < 3 || parts[at] !== HOSTS) {
      throw new UsageError(
        `Invalid snapshot URL "${text}": expected s3://BUCKET/PREFIX/${HOSTS}/HOST/RECORDER/ID`,
      );
    }
    const base = parseDestination(parts.slice(0, at).join("/"), "snapshot URL");
    return { dest: base, ref: checkRef(text, hostFromSegment(parts[at + 1]), parts[at + 2], parts[at + 3]) };
  }
  const parts = text.split("/");
  if (parts.length !== 3) {
    throw new UsageError(`Invalid remote snapshot "${text}": expected HOST/RECORDER/ID or its s3:// URL`);
  }
  if (!dest) {
    throw new UsageError(`Remote snapshot "${text}" needs "--remote s3://BUCKET/PREFIX" (or STAPFR_SHIP_TO)`);
  }
  return { dest, ref: checkRef(text, hostFromSegment(parts[0]), parts[1], parts[2]) };
}

function checkRef(text: string, host: string, recorder: string, id: string): SnapshotRef {
  if (host === "" || !/^[a-z][a-z0-9_]*$/.test(recorder) || !isId(id)) {
    throw new UsageError(`Invalid remote snapshot "${text}": expected HOST/RECORDER/ID`);
  }
  return { host, recorder, id };
}
