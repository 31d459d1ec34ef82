/**
 * Uploading one data file of a snapshot so that it is create-only, resumable and verified:
 *
 * - an object already at its key (keys carry the content's SHA-256, lib/fleet/layout.ts) is checked, not
 *   written again: its size and the SHA-256 it was stored with must be the file's;
 * - a file up to one part is one create-only `PutObject` (`If-None-Match: *`, with its Content-MD5); a larger
 *   one is a multipart upload whose ID is recorded on the host before the first part goes out, so that an
 *   upload cut short (the gateway or stapfr killed) goes on from the parts the store already holds;
 * - every request is signed with the SHA-256 of its body (SigV4's `x-amz-content-sha256`, which the store
 *   checks on receipt: RADOS Gateway and AWS refuse a body that does not match it), so each part the store
 *   accepts is the bytes that were read for it; the bytes read are hashed as a whole on the way and must give
 *   the manifest's SHA-256; and the object's ETag must be the one its parts give (`md5 of the part md5s-N`:
 *   RADOS Gateway 16.2 answers the completion with an empty ETag, so it is read back with a HEAD). So the store
 *   holds exactly the manifest's bytes, without reading them back.
 *
 * See docs/fleet.md "Guarantees".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { sleep } from "../driver/run.ts";
import type { UploadInProgress } from "../snapshots/ship_record.ts";
import { type RemoteStore, StoreFailure } from "./store_client.ts";
// Imported when this module loads, not hoisted into every start of the bundle (docs/architecture.md).
const { Buffer } = await import("node:buffer");
const { createHash } = await import("node:crypto");

/** S3 allows at most this many parts. */
const MAX_PARTS = 10_000;
/** Parts in flight at once. */
const PARALLEL = 4;
/** The object metadata key holding the content's SHA-256. */
export const SHA_META = "sha256";

/** One file to upload. */
export interface FileUpload {
  /** Where it goes. */
  key: string;
  /** The local file. */
  path: string;
  /** Its size and SHA-256 as the manifest says. */
  bytes: number;
  sha256: string;
  /** What to call it in messages (`io/ID/io.out`). */
  label: string;
}

/** How to upload. */
export interface UploadOptions {
  /** Bytes per part of a multipart upload (and the most a single upload sends). */
  partSize: number;
  /** At most this many bytes per second, when set. */
  rate?: number;
  /** Aborting it stops the upload; what the store holds is resumed next time. */
  signal?: AbortSignal;
  /** A multipart upload recorded by an earlier attempt. */
  resume?: UploadInProgress;
  /** Records a multipart upload before its first part goes out. */
  started(upload: UploadInProgress): Promise<void>;
}

/** What an upload did. */
export interface UploadResult {
  /** The object's ETag as the store gives it. */
  etag: string;
  /** `present`: already there (verified); `uploaded`; `resumed`: parts of an earlier attempt were used. */
  action: "present" | "uploaded" | "resumed";
  /** Bytes sent now. */
  sent: number;
  /** Parts the store already had (resumed uploads). */
  reused: number;
  /** Parts in all (1 for a single upload). */
  parts: number;
}

function quoted(etag: string | undefined): string {
  return etag === undefined ? "" : etag.startsWith('"') ? etag : `"${etag}"`;
}

/** Whether an ETag is not an MD5 by design (objects encrypted with KMS or a customer key). */
function opaqueEtag(r: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): boolean {
  return (r.ServerSideEncryption ?? "").startsWith("aws:kms") || r.SSECustomerAlgorithm !== undefined;
}

/** Whether the store says the object (or upload) does not exist. */
function missing(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === "NotFound" || name === "NoSuchKey" || name === "NoSuchUpload" ||
    (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404;
}

/** The object at the key, or undefined when there is none. */
async function head(store: RemoteStore, key: string, what: string) {
  try {
    return await store.client.send(new store.sdk.HeadObjectCommand({ Bucket: store.dest.bucket, Key: key }));
  } catch (err) {
    if (missing(err)) return undefined;
    throw await store.failure(err, what);
  }
}

/** Checks an object against the file: size, the SHA-256 it was stored with, and the ETag if one is expected. */
function check(
  f: FileUpload,
  h:
    & { ContentLength?: number; Metadata?: Record<string, string>; ETag?: string }
    & Parameters<
      typeof opaqueEtag
    >[0],
  etag?: string,
): void {
  const problems: string[] = [];
  if (h.ContentLength !== f.bytes) problems.push(`${h.ContentLength} bytes, not ${f.bytes}`);
  if (h.Metadata?.[SHA_META] !== f.sha256) problems.push("another SHA-256");
  if (etag !== undefined && !opaqueEtag(h) && quoted(h.ETag) !== etag) {
    problems.push(`ETag ${h.ETag || "(none)"}, not ${etag}`);
  }
  if (problems.length > 0) {
    throw new StoreFailure(
      `The store holds different data at "${f.key}": ${problems.join(", ")}`,
      "conflict",
      {
        hint: "Something other than this stapfr wrote there; move it away, then ship again",
      },
    );
  }
}

async function readRange(
  f: FileUpload,
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = await file.read(buf.subarray(done));
    if (n === null) break;
    done += n;
  }
  if (done !== length) throw localChanged(f, "it is shorter");
  return buf;
}

function localChanged(f: FileUpload, why: string): StapfrError {
  return new StapfrError(`Snapshot file "${f.path}" no longer matches its manifest: ${why}`, {
    hint: 'The local copy is damaged; check it with "stapfr snapshots show" and take a new snapshot',
  });
}

/** Paces sending to `rate` bytes per second. */
class Pace {
  #start = performance.now();
  #sent = 0;
  constructor(readonly rate: number | undefined, readonly signal?: AbortSignal) {}
  async take(bytes: number): Promise<void> {
    if (!this.rate) return;
    const due = this.#start + (this.#sent / this.rate) * 1000;
    this.#sent += bytes;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, this.signal);
  }
}

/** Uploads one file (or finds it already there), resumably and verified. */
export async function uploadFile(store: RemoteStore, f: FileUpload, o: UploadOptions): Promise<UploadResult> {
  const what = `ship ${f.label}`;
  const there = await head(store, f.key, what);
  if (there) {
    check(f, there);
    return { etag: quoted(there.ETag), action: "present", sent: 0, reused: 0, parts: 0 };
  }
  const partSize = o.resume?.key === f.key
    ? o.resume.part_size
    : Math.max(o.partSize, Math.ceil(f.bytes / MAX_PARTS / (1 << 20)) * (1 << 20));
  using file = await Deno.open(f.path, { read: true });
  if ((await file.stat()).size !== f.bytes) throw localChanged(f, "its size differs");
  const pace = new Pace(o.rate, o.signal);
  if (f.bytes <= partSize) return await single(store, f, file, pace, o, what);
  return await multipart(store, f, file, partSize, pace, o, what);
}

async function single(
  store: RemoteStore,
  f: FileUpload,
  file: Deno.FsFile,
  pace: Pace,
  o: UploadOptions,
  what: string,
): Promise<UploadResult> {
  const body = await readRange(f, file, 0, f.bytes);
  if (createHash("sha256").update(body).digest("hex") !== f.sha256) throw localChanged(f, "another SHA-256");
  const md5 = createHash("md5").update(body);
  const etag = `"${md5.copy().digest("hex")}"`;
  await pace.take(body.length);
  try {
    const r = await store.client.send(
      new store.sdk.PutObjectCommand({
        Bucket: store.dest.bucket,
        Key: f.key,
        Body: body,
        ContentLength: body.length,
        ContentMD5: md5.digest("base64"),
        IfNoneMatch: "*",
        Metadata: { [SHA_META]: f.sha256 },
      }),
      { abortSignal: o.signal },
    );
    if (!opaqueEtag(r) && quoted(r.ETag) !== etag) {
      throw new StoreFailure(`The store stored "${f.key}" with ETag ${r.ETag}, not ${etag}`, "conflict");
    }
    return { etag, action: "uploaded", sent: body.length, reused: 0, parts: 1 };
  } catch (err) {
    if ((err as { name?: string })?.name !== "PreconditionFailed") throw await store.failure(err, what);
    // Written meanwhile by another writer: it must be the same bytes.
    const h = await head(store, f.key, what);
    if (!h) throw await store.failure(err, what);
    check(f, h, etag);
    return { etag: quoted(h.ETag), action: "present", sent: 0, reused: 0, parts: 1 };
  }
}

/** The parts the store holds of an upload, by number, or undefined when the upload is gone. */
async function listParts(
  store: RemoteStore,
  key: string,
  uploadId: string,
  what: string,
): Promise<Map<number, { etag: string; size: number }> | undefined> {
  const parts = new Map<number, { etag: string; size: number }>();
  let marker: string | undefined;
  try {
    for (;;) {
      const r = await store.client.send(
        new store.sdk.ListPartsCommand({
          Bucket: store.dest.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
        }),
      );
      for (const p of r.Parts ?? []) {
        if (p.PartNumber !== undefined) parts.set(p.PartNumber, { etag: quoted(p.ETag), size: p.Size ?? -1 });
      }
      if (!r.IsTruncated || r.NextPartNumberMarker === undefined) return parts;
      marker = String(r.NextPartNumberMarker);
    }
  } catch (err) {
    // RADOS Gateway answers NoSuchKey, AWS NoSuchUpload: completed or aborted meanwhile.
    if (missing(err)) return undefined;
    throw await store.failure(err, what);
  }
}

async function multipart(
  store: RemoteStore,
  f: FileUpload,
  file: Deno.FsFile,
  partSize: number,
  pace: Pace,
  o: UploadOptions,
  what: string,
): Promise<UploadResult> {
  const bucket = store.dest.bucket;
  let uploadId: string | undefined;
  let held = new Map<number, { etag: string; size: number }>();
  if (o.resume && o.resume.key === f.key) {
    const found = await listParts(store, f.key, o.resume.upload_id, what);
    if (found) [uploadId, held] = [o.resume.upload_id, found];
  }
  if (uploadId === undefined) {
    const created = await store.call(what, (c) =>
      c.send(
        new store.sdk.CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: f.key,
          Metadata: { [SHA_META]: f.sha256 },
        }),
        { abortSignal: o.signal },
      ));
    if (!created.UploadId) throw new StoreFailure(`Cannot ${what}: the store gave no upload ID`, "store");
    uploadId = created.UploadId;
    await o.started({ key: f.key, upload_id: uploadId, part_size: partSize });
  }
  const count = Math.ceil(f.bytes / partSize);
  const sha = createHash("sha256");
  const etags: string[] = [];
  let sent = 0;
  let reused = 0;
  const inFlight = new Set<Promise<void>>();
  let failed: unknown;
  for (let i = 0; i < count && failed === undefined; i++) {
    const length = Math.min(partSize, f.bytes - i * partSize);
    const body = await readRange(f, file, i * partSize, length);
    sha.update(body);
    // A part the store holds was checked against its SHA-256 when it arrived; the file's own hash, at the
    // end, says these are still the bytes it was made of.
    const have = held.get(i + 1);
    if (have && have.size === length) {
      etags[i] = have.etag;
      reused++;
      continue;
    }
    while (inFlight.size >= PARALLEL) await Promise.race(inFlight);
    if (failed !== undefined) break;
    await pace.take(length);
    const p: Promise<void> = store.client.send(
      new store.sdk.UploadPartCommand({
        Bucket: bucket,
        Key: f.key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: body,
        ContentLength: length,
      }),
      { abortSignal: o.signal },
    ).then((r) => {
      etags[i] = quoted(r.ETag);
      sent += length;
    }, (err) => {
      failed ??= err;
    }).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failed !== undefined) throw await store.failure(failed, what);
  if (sha.digest("hex") !== f.sha256) {
    await store.client.send(
      new store.sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: f.key, UploadId: uploadId }),
    ).catch(() => {});
    throw localChanged(f, "another SHA-256");
  }
  try {
    await store.client.send(
      new store.sdk.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: f.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
      { abortSignal: o.signal },
    );
  } catch (err) {
    // A completion whose answer was lost completed all the same: the object is what counts.
    if (!missing(err)) throw await store.failure(err, what);
  }
  // The ETag a multipart object must have: the MD5 of its parts' MD5s (as the store gave them), and their count.
  const md5s = etags.map((e) => e.replace(/"/g, ""));
  const expected = md5s.every((e) => /^[0-9a-f]{32}$/.test(e))
    ? `"${createHash("md5").update(Buffer.from(md5s.join(""), "hex")).digest("hex")}-${count}"`
    : undefined;
  const h = await head(store, f.key, what);
  if (!h) {
    throw new StoreFailure(`Cannot ${what}: the store has no object after completing the upload`, "store");
  }
  check(f, h, expected);
  return { etag: quoted(h.ETag), action: reused > 0 ? "resumed" : "uploaded", sent, reused, parts: count };
}
