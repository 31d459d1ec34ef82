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
 * The URL of a flag whose URL may be left out (`--ship [URL]`, `--remote [URL]`, lib/declarations/declarations.ts): the
 * value given, or undefined when the flag came alone (then `STAPFR_SHIP_TO` is the destination).
 */
export function urlOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
