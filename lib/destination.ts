/**
 * Where snapshots are shipped: an `s3://BUCKET/PREFIX` URL (`--to`, `--remote`, `STAPFR_SHIP_TO`) and, for
 * S3-compatible stores, the endpoint (`--endpoint`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`). Credentials
 * never go in either: a URL that carries a user or password is refused without repeating it, since repeating it
 * would print the secret. See docs/fleet.md "Where snapshots go".
 * @module
 */
import { UsageError } from "./errors.ts";

/** A bucket and a key prefix (no leading or trailing slash; "" for the bucket's root). */
export interface Destination {
  bucket: string;
  prefix: string;
}

// S3's bucket naming rules: 3–63 characters, lower-case letters, digits, dots and hyphens, a letter or digit
// at both ends.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Key prefix segments: anything printable but the separators and the relative names.
const SEGMENT = /^[A-Za-z0-9!_.*'()=+,;:@$&-]+$/;

/**
 * Parses `s3://BUCKET[/PREFIX]`; `what` names the flag or variable in the error.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(parseDestination("s3://fleet-snapshots/prod/eu/"), { bucket: "fleet-snapshots", prefix: "prod/eu" });
 * assertEquals(parseDestination("s3://fleet-snapshots"), { bucket: "fleet-snapshots", prefix: "" });
 * assertThrows(() => parseDestination("s3://AKIA:secret@bucket/x"), Error, "credentials do not belong");
 * ```
 */
export function parseDestination(text: string, what = "destination"): Destination {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
  if (!m) throw new UsageError(`Invalid ${what} "${text}": expected s3://BUCKET/PREFIX`);
  if (m[1].includes("@") || m[1].includes(":")) {
    // Not repeated: the part before "@" may be a secret.
    throw new UsageError(
      `Invalid ${what}: credentials do not belong in the URL (stapfr takes them from the AWS credential chain)`,
    );
  }
  if (!BUCKET.test(m[1])) {
    throw new UsageError(
      `Invalid ${what} "${text}": "${
        m[1]
      }" is not a bucket name (3-63 lower-case letters, digits, dots, hyphens)`,
    );
  }
  const prefix = (m[2] ?? "").replace(/\/+$/, "");
  if (prefix !== "") {
    for (const seg of prefix.split("/")) {
      if (!SEGMENT.test(seg) || seg === "." || seg === "..") {
        throw new UsageError(`Invalid ${what} "${text}": the prefix has an empty, relative or unusual part`);
      }
    }
  }
  return { bucket: m[1], prefix };
}

/** The URL of a destination, as stapfr prints it (`s3://BUCKET/PREFIX`). */
export function destinationUrl(dest: Destination): string {
  return `s3://${dest.bucket}${dest.prefix ? `/${dest.prefix}` : ""}`;
}

/**
 * Checks an endpoint URL (`--endpoint`, `AWS_ENDPOINT_URL`): http or https, a host, no user or password.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(parseEndpoint("http://127.0.0.1:7480/"), "http://127.0.0.1:7480");
 * assertThrows(() => parseEndpoint("https://user:pw@s3.example.com"), Error, "credentials do not belong");
 * ```
 */
export function parseEndpoint(text: string, what = "endpoint"): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Invalid ${what} "${text}": expected a URL like https://s3.example.com`);
  }
  if (url.username || url.password) {
    throw new UsageError(
      `Invalid ${what}: credentials do not belong in the URL (stapfr takes them from the AWS credential chain)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`Invalid ${what} "${text}": expected http:// or https://`);
  }
  if (url.search || url.hash) throw new UsageError(`Invalid ${what} "${text}": no query or fragment`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
