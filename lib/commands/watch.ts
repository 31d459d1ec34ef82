/**
 * `stapfr watch NAME [--on TRIGGER …]… [policy flags]`: watches a recorder and its triggers in the foreground
 * and takes snapshots when they fire. See docs/watch.md.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { parseDuration } from "../units.ts";
import { oneName, stdoutSink } from "./common.ts";
import { recordersWithStore, retentionFlags, STORE_FLAG } from "./snapshot_common.ts";
import {
  ENDPOINT_FLAG,
  endpointOf,
  openRemote,
  requireDestination,
  shipOptions,
  takeUrlFlag,
} from "./fleet_common.ts";
import type { Shipper } from "../fleet/shipper.ts";
import { splitTriggers } from "../watch/spec.ts";

function count(text: unknown, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== "string" || !/^\d+$/.test(text)) {
    throw new UsageError(`Invalid "--${flag}" "${text}": expected a whole number`);
  }
  return Number(text);
}

function duration(text: unknown, flag: string): number | undefined {
  return text === undefined ? undefined : parseDuration(text as string, `"--${flag}"`);
}

/** Runs `watch`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { triggers, rest: afterTriggers } = splitTriggers(args);
  const { given: ship, rest } = takeUrlFlag(afterTriggers, "--ship");
  const { values, positionals } = parseCommandArgs(rest, {
    cooldown: { type: "string" },
    "max-per-day": { type: "string" },
    hold: { type: "string" },
    delay: { type: "string" },
    keep: { type: "string" },
    "max-age": { type: "string" },
    "max-size": { type: "string" },
    "switch-every": { type: "string" },
    interval: { type: "string" },
    service: { type: "boolean" },
    ...STORE_FLAG,
    ...ENDPOINT_FLAG,
  }, 1);
  if (values.endpoint !== undefined && !ship) throw new UsageError(`"--endpoint" needs "--ship"`);
  const dest = ship ? requireDestination(ctx, ship.url, "--ship") : undefined;
  const endpoint = endpointOf(values.endpoint);
  const name = oneName(positionals);
  const switchEveryMs = duration(values["switch-every"], "switch-every");
  if (switchEveryMs !== undefined && switchEveryMs < 1000) {
    throw new UsageError(`Invalid "--switch-every": at least 1s`);
  }
  const pollMs = duration(values.interval, "interval");
  if (pollMs !== undefined && pollMs < 100) throw new UsageError(`Invalid "--interval": at least 100ms`);
  let logged = Promise.resolve();
  // In order, and all written before the command returns (the process exits right after).
  const logLine = (line: string) => void (logged = logged.then(() => ctx.err(line)).catch(() => {}));
  const recorders = recordersWithStore(ctx, values);
  const remote = dest ? await openRemote(ctx, dest, endpoint) : undefined;
  let shipper: Shipper | undefined;
  if (remote) {
    const { Shipper } = await import("../fleet/shipper.ts");
    const { SnapshotStore } = await import("../snapshots/store.ts");
    shipper = new Shipper(remote, new SnapshotStore(recorders.storeDir), {
      recorder: name,
      ship: { ...shipOptions(ctx), signal: undefined },
      retryMs: ctx.knobs.shipRetryMs,
      log: (line) => logLine(`${new Date().toISOString()} ship ${line}`),
    });
  }
  const result = await recorders.watch({
    name,
    triggers,
    policies: {
      cooldownMs: duration(values.cooldown, "cooldown"),
      maxPerDay: count(values["max-per-day"], "max-per-day"),
      holdMs: duration(values.hold, "hold"),
      delayMs: duration(values.delay, "delay"),
    },
    retention: retentionFlags(values, "keep", "max-age", "max-size"),
    switchEveryMs,
    service: values.service === true,
    pollMs,
    signal: ctx.signal,
    log: logLine,
    out: stdoutSink(ctx),
    ship: shipper,
  }).finally(async () => {
    // A watcher that could not start: its shipper has nothing to wait for.
    await shipper?.close();
    remote?.close();
  });
  await logged;
  if (ctx.json) await ctx.json_out(result);
  return result.reason === "recorder-ended" ? ExitCode.failure : ExitCode.ok;
}
