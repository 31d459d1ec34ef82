/**
 * `stapfr watch NAME [--on TRIGGER …]… [policy flags]`: watches a recorder and its triggers in the foreground
 * and takes snapshots when they fire. See docs/watch.md.
 * @module
 */
import { parseCommandArgs } from "../cli/args.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError, UsageError } from "../errors.ts";
import type { WatchOptions } from "../recorder.ts";
import { COMMANDS } from "../cli/commands.ts";
import { commandShape } from "../cli/flags.ts";
import { oneName, self, stdoutSink } from "./common.ts";
import { recordersWithStore, retentionFlags, STORE_FLAG } from "./snapshot_common.ts";
import { boundedDuration, MAX_COOLDOWN_MS, MAX_TIMER_MS, splitTriggers } from "../watch/spec.ts";
import {
  ENDPOINT_FLAG,
  endpointOf,
  openRemote,
  requireDestination,
  shipOptions,
  takeUrlFlag,
} from "./fleet_common.ts";
import type { Shipper } from "../fleet/shipper.ts";

/** The most `--max-per-day` may say: one snapshot a second. */
const MAX_PER_DAY = 86_400;

function count(text: unknown, flag: string, min: number, max: number, why: string): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== "string" || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(
      `Invalid "--${flag}" "${text}": expected a whole number from ${min} to ${max}${why}`,
    );
  }
  return Number(text);
}

/** A duration flag within its range (lib/watch/spec.ts says why timers stop at 24 days). */
function duration(text: unknown, flag: string, minMs: number, maxMs: number): number | undefined {
  return text === undefined ? undefined : boundedDuration(text as string, `--${flag}`, minMs, maxMs);
}

/** The options of `watch`, which may not follow the health check's `--`. */
export function watchFlags(): string[] {
  return commandShape(COMMANDS.watch).flags.flatMap((f) => [f.long, f.short]).filter((f): f is string =>
    f !== undefined
  );
}

/**
 * `watch`'s arguments, read and checked: the watcher's options but for what the process gives it, and where
 * to ship its snapshots (`--ship [URL]`, docs/fleet.md).
 */
export type WatchPlan = Omit<WatchOptions, "signal" | "until" | "log" | "onEvent" | "out" | "ship"> & {
  store?: string;
  ship?: { url?: string };
  endpoint?: string;
};

/**
 * Reads and checks `watch`'s arguments (everything after `watch`) without watching: `unit` checks the watch
 * line of the unit it writes with this very function (`moreFlags`: its own and `start`'s options, which may
 * not follow the health check's `--` either).
 */
export async function parseWatch(args: string[], moreFlags: readonly string[] = []): Promise<WatchPlan> {
  const { triggers, rest: afterTriggers } = await splitTriggers(args, {
    ownFlags: [...watchFlags(), ...moreFlags],
  });
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
  const store = values.store as string | undefined;
  if (store === "") throw new UsageError(`Invalid "--store": an empty path`);
  return {
    name: oneName(positionals),
    triggers,
    policies: {
      cooldownMs: duration(values.cooldown, "cooldown", 0, MAX_COOLDOWN_MS),
      // 0 would allow no snapshot at all (and once meant "no limit"): leave the flag out for no limit.
      maxPerDay: count(values["max-per-day"], "max-per-day", 1, MAX_PER_DAY, " (leave it out for no limit)"),
      holdMs: duration(values.hold, "hold", 0, MAX_TIMER_MS),
      delayMs: duration(values.delay, "delay", 0, MAX_TIMER_MS),
    },
    retention: retentionFlags(values, { keep: "keep", maxAge: "max-age", maxSize: "max-size" }),
    switchEveryMs: duration(values["switch-every"], "switch-every", 1000, MAX_TIMER_MS),
    service: values.service === true,
    pollMs: duration(values.interval, "interval", 100, MAX_TIMER_MS),
    store,
    ship,
    endpoint: values.endpoint as string | undefined,
  };
}

/** Runs `watch`. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const { store, ship, endpoint: endpointFlag, ...plan } = await parseWatch(args);
  const dest = ship ? requireDestination(ctx, ship.url, "--ship") : undefined;
  const endpoint = endpointOf(endpointFlag);
  let logged = Promise.resolve();
  // In order, and all written before the command returns (the process exits right after).
  const logLine = (line: string) => void (logged = logged.then(() => ctx.err(line)).catch(() => {}));
  const recorders = recordersWithStore(ctx, { store });
  const remote = dest ? await openRemote(ctx, dest, endpoint) : undefined;
  let shipper: Shipper | undefined;
  if (remote) {
    const { Shipper } = await import("../fleet/shipper.ts");
    const { SnapshotStore } = await import("../snapshots/store.ts");
    shipper = new Shipper(remote, new SnapshotStore(recorders.storeDir), {
      recorder: plan.name,
      ship: { ...shipOptions(ctx), signal: undefined },
      retryMs: ctx.knobs.shipRetryMs,
      log: (line) => logLine(`${new Date().toISOString()} ship ${line}`),
    });
  }
  const result = await recorders.watch({
    ...plan,
    // SIGTERM (systemd's stop) and Ctrl-C stop the watcher as asked, with a service stop in service mode.
    until: ctx.signal,
    log: logLine,
    out: stdoutSink(ctx),
    ship: shipper,
  }).finally(async () => {
    // A watcher that could not start: its shipper has nothing to wait for.
    await shipper?.close();
    remote?.close();
  });
  await logged;
  // Exit 1 with the reason: systemd's Restart=on-failure and the operator both need to hear it.
  if (result.reason === "recorder-ended") {
    throw new StapfrError(`The watcher of "${plan.name}" stopped: ${result.detail}`, {
      hint: `Nothing is left to watch; see "${self(ctx)} list"`,
    });
  }
  if (result.reason === "stop-failed") {
    throw new StapfrError(`The service stop of "${plan.name}" failed: ${result.detail}`, {
      hint: `Stop it with "${self(ctx)} stop ${plan.name}"`,
    });
  }
  if (ctx.json) await ctx.json_out(result);
  return ExitCode.ok;
}
