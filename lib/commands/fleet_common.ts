/**
 * What the commands that talk to a store share: the destination (`--to`/`--remote`, else `STAPFR_SHIP_TO`),
 * the endpoint (`--endpoint`), and the client with the knobs' timeout, attempts, part size and rate. The SDK is
 * loaded here, on first use, never by the commands that do not ship.
 * @module
 */
import type { Context } from "../cli/context.ts";
import { UsageError } from "../errors.ts";
import { type Destination, parseDestination, parseEndpoint } from "../destination.ts";
import type { ShipOptions } from "../fleet/ship.ts";
import type { RemoteStore } from "../fleet/store_client.ts";

/** The `--endpoint URL` flag. */
export const ENDPOINT_FLAG = { endpoint: { type: "string" } } as const;

/** The destination from a flag's value, else `STAPFR_SHIP_TO`; undefined when neither is given. */
export function destinationOf(ctx: Context, given: unknown, flag: string): Destination | undefined {
  if (typeof given === "string") return parseDestination(given, `"${flag}"`);
  return ctx.knobs.shipTo ? parseDestination(ctx.knobs.shipTo, "STAPFR_SHIP_TO") : undefined;
}

/** The destination, which must be given. */
export function requireDestination(ctx: Context, given: unknown, flag: string): Destination {
  const dest = destinationOf(ctx, given, flag);
  if (!dest) {
    throw new UsageError(`Missing destination: give "${flag} s3://BUCKET/PREFIX" or set STAPFR_SHIP_TO`);
  }
  return dest;
}

/** The `--endpoint` value, checked. */
export function endpointOf(given: unknown): string | undefined {
  return typeof given === "string" ? parseEndpoint(given, '"--endpoint"') : undefined;
}

/** A client for `dest`, with the knobs' timeout and attempts. */
export async function openRemote(ctx: Context, dest: Destination, endpoint?: string): Promise<RemoteStore> {
  const { RemoteStore } = await import("../fleet/store_client.ts");
  return await RemoteStore.open(dest, {
    endpoint,
    timeoutMs: ctx.knobs.shipTimeoutMs,
    attempts: ctx.knobs.shipAttempts,
    env: ctx.io.env,
  });
}

/** How to ship, from the knobs. */
export function shipOptions(ctx: Context): ShipOptions {
  return { partSize: ctx.knobs.shipPartSize, rate: ctx.knobs.shipRate, signal: ctx.signal };
}

/**
 * Takes a flag with an optional URL (`--ship [URL]`, `--remote [URL]`) out of the arguments: its URL is the
 * next word when that is an `s3://` URL (a recorder name or snapshot ID never is), so the flag alone means
 * `STAPFR_SHIP_TO`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(takeUrlFlag(["io", "--ship", "s3://b/p"], "--ship"), { given: { url: "s3://b/p" }, rest: ["io"] });
 * assertEquals(takeUrlFlag(["--ship", "io"], "--ship"), { given: {}, rest: ["io"] });
 * ```
 */
export function takeUrlFlag(
  args: string[],
  flag: string,
): { given: { url?: string } | undefined; rest: string[] } {
  const rest: string[] = [];
  let given: { url?: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg !== flag && !arg.startsWith(`${flag}=`)) {
      rest.push(arg);
      continue;
    }
    if (given) throw new UsageError(`"${flag}" given twice`);
    if (arg.startsWith(`${flag}=`)) given = { url: arg.slice(flag.length + 1) };
    else if (args[i + 1]?.startsWith("s3://")) given = { url: args[++i] };
    else given = {};
  }
  return { given, rest };
}
