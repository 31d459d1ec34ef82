/**
 * The S3 client stapfr ships with: the AWS SDK for JavaScript v3 (`@aws-sdk/client-s3`, pinned in deno.json),
 * loaded by `import()` only in the commands that talk to a store, so `list` and the rest never load it.
 *
 * - Credentials and region come from the SDK's own chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
 *   `AWS_SESSION_TOKEN`, `AWS_PROFILE` with the shared credentials and config files, SSO, web identity, the
 *   instance's metadata service. stapfr never takes a secret on its command line. With no region anywhere,
 *   `us-east-1` (what S3-compatible stores expect).
 * - An endpoint (`--endpoint`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) means an S3-compatible store:
 *   path-style addressing, as RADOS Gateway and MinIO want by default.
 * - Checksums only where S3 requires them: the SDK's default streaming checksum trailers are refused by stores
 *   such as RADOS Gateway 16.2 ("MissingContentLength"). Integrity comes from Content-MD5 instead, which every
 *   S3 store checks on receipt (lib/fleet/upload.ts).
 * - Every request has an idle timeout (`STAPFR_SHIP_TIMEOUT_MS`): a full Ceph cluster accepts a write and then
 *   never answers. Failed requests are retried by the SDK's standard strategy, at most `STAPFR_SHIP_ATTEMPTS`
 *   times in all.
 * - Every failure becomes one line that names the problem and the store, never a secret: the SDK's messages
 *   are not passed on as they are, and what is passed on has the credentials in use blotted out.
 * @module
 */
import type * as S3 from "npm:@aws-sdk/client-s3@3.1178.0";
import { StapfrError } from "../errors.ts";
import type { EnvLookup } from "../knobs.ts";
import { type Destination, destinationUrl, parseEndpoint } from "../destination.ts";

/** The SDK module, as loaded. */
export type Sdk = typeof S3;

/** How to reach a store. */
export interface StoreOptions {
  /** `--endpoint`; else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, else AWS S3 itself. */
  endpoint?: string;
  /** Idle timeout of every request, in milliseconds. */
  timeoutMs: number;
  /** Attempts per request (the first and the retries). */
  attempts: number;
  /** Environment lookup (the SDK itself reads the process environment). */
  env: EnvLookup;
}

/** A destination bucket and a client for it. */
export class RemoteStore {
  /** The SDK module (its command classes). */
  readonly sdk: Sdk;
  /** The client. */
  readonly client: S3.S3Client;
  /** The bucket and prefix. */
  readonly dest: Destination;
  /** The endpoint, or undefined for AWS S3. */
  readonly endpoint: string | undefined;
  /** The region requests are signed for. */
  readonly region: string;
  /** HTTP requests sent so far (retries included). */
  requests = 0;
  readonly #options: StoreOptions;

  private constructor(
    sdk: Sdk,
    client: S3.S3Client,
    dest: Destination,
    endpoint: string | undefined,
    region: string,
    options: StoreOptions,
  ) {
    this.sdk = sdk;
    this.client = client;
    this.dest = dest;
    this.endpoint = endpoint;
    this.region = region;
    this.#options = options;
    client.middlewareStack.add((next) => (args) => {
      this.requests++;
      return next(args);
    }, { step: "deserialize", name: "stapfrCountRequests" });
  }

  /** Loads the SDK and makes a client for `dest`. */
  static async open(dest: Destination, options: StoreOptions): Promise<RemoteStore> {
    // The full specifier, not the import map's name: the bundle keeps this import as it is (deno.json "bundle").
    const sdk = await import("npm:@aws-sdk/client-s3@3.1178.0");
    const given = options.endpoint ?? options.env("AWS_ENDPOINT_URL_S3") ?? options.env("AWS_ENDPOINT_URL");
    const endpoint = given
      ? parseEndpoint(given, options.endpoint ? '"--endpoint"' : "AWS_ENDPOINT_URL")
      : undefined;
    const region = await resolveRegion(sdk);
    const client = new sdk.S3Client({
      region,
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      maxAttempts: options.attempts,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: {
        connectionTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
      },
    });
    return new RemoteStore(sdk, client, dest, endpoint, region, options);
  }

  /** The store in words, for messages: its endpoint, or AWS S3 and the region. */
  get where(): string {
    return this.endpoint ?? `AWS S3 (${this.region})`;
  }

  /** The destination as a URL. */
  get url(): string {
    return destinationUrl(this.dest);
  }

  /**
   * Runs one request of the client (`fn`); a failure becomes a {@linkcode StoreFailure} saying what failed
   * (`what`, like "ship io/ID") and why, in words that never hold a secret.
   */
  async call<T>(what: string, fn: (client: S3.S3Client) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (err) {
      throw await this.failure(err, what);
    }
  }

  #checked?: Promise<void>;

  /**
   * One listing request before the first write, once per client: a HEAD's refusal has no body, so only a
   * request like this one tells a wrong secret, an unknown key, a missing bucket and a denied access apart.
   */
  preflight(what: string): Promise<void> {
    this.#checked ??= this.call(what, (c) =>
      c.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.dest.bucket,
          Prefix: this.dest.prefix ? `${this.dest.prefix}/` : undefined,
          MaxKeys: 1,
        }),
      )).then(() => {}, (err) => {
        this.#checked = undefined;
        throw err;
      });
    return this.#checked;
  }

  /** The HTTP status of an SDK error, if it has one. */
  static status(err: unknown): number | undefined {
    return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  }

  /** The failure for an SDK error, with the credentials in use blotted out of anything passed on. */
  async failure(err: unknown, what: string): Promise<StoreFailure> {
    if (err instanceof StoreFailure) return err;
    const secrets = await this.#secrets();
    const scrub = (text: string): string => secrets.reduce((t, s) => t.split(s).join("[redacted]"), text);
    const f = describe(err, {
      what,
      where: this.where,
      bucket: this.dest.bucket,
      timeoutMs: this.#options.timeoutMs,
      attempts: this.#options.attempts,
    });
    return new StoreFailure(scrub(f.message), f.kind, { hint: f.hint ? scrub(f.hint) : undefined });
  }

  /** Every secret the client may hold, to keep it out of messages. */
  async #secrets(): Promise<string[]> {
    const found = [this.#options.env("AWS_SECRET_ACCESS_KEY"), this.#options.env("AWS_SESSION_TOKEN")];
    try {
      const c = await this.client.config.credentials();
      found.push(c.secretAccessKey, c.sessionToken);
    } catch {
      // No credentials resolved: none to hide.
    }
    return found.filter((s): s is string => typeof s === "string" && s.length >= 4);
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}

/** What kind of failure: whether trying again later can help, and whether it is the store's answer. */
export type FailureKind =
  /** The store could not be reached or did not answer: a later attempt may work. */
  | "unreachable"
  /** The store refused the credentials or the access. */
  | "denied"
  /** The bucket does not exist. */
  | "no-bucket"
  /** The store holds something that contradicts what is being shipped. */
  | "conflict"
  /** Anything else the store answered. */
  | "store";

/** A failure talking to the store: one line, with what to do about it. */
export class StoreFailure extends StapfrError {
  /** The error's name. */
  override name = "StoreFailure";
  /** Its kind. */
  readonly kind: FailureKind;
  /** The message without its leading "Cannot WHAT: ", to put after other words. */
  readonly reason: string;
  /** A failure of the given kind. */
  constructor(message: string, kind: FailureKind, options?: { hint?: string; cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.reason = message.replace(/^Cannot [^:]*: /, "");
  }
}

async function resolveRegion(sdk: Sdk): Promise<string> {
  // The SDK's own region chain (AWS_REGION, the profile's region): ask a client made without one.
  const probe = new sdk.S3Client({});
  try {
    const region = await probe.config.region();
    if (typeof region === "string" && region !== "") return region;
  } catch {
    // No region configured anywhere.
  } finally {
    probe.destroy();
  }
  return "us-east-1";
}

interface Context {
  what: string;
  where: string;
  bucket: string;
  timeoutMs: number;
  attempts: number;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name did not resolve",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
};

/** Words for an SDK error. The SDK's own message is used only for errors stapfr does not know. */
export function describe(err: unknown, c: Context): { message: string; hint?: string; kind: FailureKind } {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { attempts?: number } };
  const name = e?.name ?? "Error";
  const status = RemoteStore.status(err);
  const attempts = e?.$metadata?.attempts ?? c.attempts;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
  const code = e?.code ?? /\b(E[A-Z_]{4,})\b/.exec(e?.message ?? "")?.[1];
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e?.message ?? "")) {
    return {
      kind: "denied",
      message: `Cannot ${c.what}: no AWS credentials found`,
      hint:
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and its ~/.aws/credentials entry",
    };
  }
  if (name === "SignatureDoesNotMatch") {
    return {
      kind: "denied",
      message: `Cannot ${c.what}: ${c.where} refused the request signature (wrong secret access key)`,
      hint: "Check the secret key of the AWS credentials in use (AWS_SECRET_ACCESS_KEY or the profile's)",
    };
  }
  if (name === "InvalidAccessKeyId") {
    return {
      kind: "denied",
      message: `Cannot ${c.what}: ${c.where} does not know the access key ID in use`,
      hint: "Check AWS_ACCESS_KEY_ID or the profile's aws_access_key_id (and AWS_PROFILE)",
    };
  }
  if (name === "ExpiredToken" || name === "TokenRefreshRequired" || name === "InvalidToken") {
    return {
      kind: "denied",
      message: `Cannot ${c.what}: the session token in use is expired or invalid`,
      hint: "Renew the temporary credentials (AWS_SESSION_TOKEN, or the SSO login of the profile)",
    };
  }
  if (name === "AccessDenied" || (status === 403 && name !== "RequestTimeTooSkewed")) {
    return {
      kind: "denied",
      message: `Cannot ${c.what}: ${c.where} denied access to bucket "${c.bucket}"`,
      hint: "The credentials in use need s3:PutObject, s3:GetObject and s3:ListBucket on it (docs/fleet.md)",
    };
  }
  if (name === "RequestTimeTooSkewed") {
    return { kind: "denied", message: `Cannot ${c.what}: this host's clock is too far from the store's` };
  }
  if (name === "NoSuchBucket") {
    return {
      kind: "no-bucket",
      message: `Cannot ${c.what}: bucket "${c.bucket}" does not exist at ${c.where}`,
      hint: 'Create it first (for example "aws s3 mb s3://' + c.bucket + '"), or correct the destination',
    };
  }
  if (name === "TimeoutError" || name === "RequestTimeout" || /timed? ?out/i.test(e?.message ?? "")) {
    return {
      kind: "unreachable",
      message: `Cannot ${c.what}: ${c.where} did not answer within ${seconds(c.timeoutMs)}${tries}`,
      hint: "The store may be full or overloaded (a full Ceph cluster accepts writes and never answers); " +
        "STAPFR_SHIP_TIMEOUT_MS sets the wait",
    };
  }
  if (code && NETWORK[code]) {
    return {
      kind: "unreachable",
      message: `Cannot ${c.what}: cannot reach ${c.where}: ${NETWORK[code]}${tries}`,
      hint: "Check the endpoint (--endpoint, AWS_ENDPOINT_URL) and that the store is up",
    };
  }
  if (name === "AbortError") {
    return { kind: "unreachable", message: `Cannot ${c.what}: interrupted` };
  }
  if (status !== undefined && status >= 500) {
    return {
      kind: "unreachable",
      message: `Cannot ${c.what}: ${c.where} failed with ${name} (HTTP ${status})${tries}`,
    };
  }
  const said = e?.message && e.message !== "UnknownError" && e.message !== name ? `: ${e.message}` : "";
  return {
    kind: status === undefined ? "unreachable" : "store",
    message: `Cannot ${c.what}: ${name}${status ? ` (HTTP ${status})` : ""}${said}`.split("\n")[0],
  };
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
