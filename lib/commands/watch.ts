/**
 * `stapfr watch NAME [--on TRIGGER …]… [policy flags]`: watches a recorder and its triggers in the foreground
 * and takes snapshots when they fire. See docs/watch.md.
 * @module
 */
import { type Parsed, parseForm } from "../cli/parse.ts";
import type { Context } from "../cli/context.ts";
import { ExitCode, StapfrError, UsageError } from "../errors.ts";
import type { WatchOptions } from "../api/recorders.ts";
import { COMMANDS, declaredFlag } from "../declarations/declarations.ts";
import { oneName, self, stdoutSink } from "./common.ts";
import { recordersWithStore, retentionFlags } from "./snapshot_common.ts";
import { boundedDuration, splitTriggers } from "../watch/spec.ts";
import { endpointOf, openRemote, requireDestination, shipOptions, urlOf } from "./fleet_common.ts";
import type { Shipper } from "../fleet/shipper.ts";

/** A count flag within its declared range. */
function count(values: Parsed["values"], long: string, why: string): number | undefined {
  const text = values[long];
  if (text === undefined) return undefined;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = declaredFlag("watch", long);
  if (typeof text !== "string" || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(
      `Invalid "--${long}" "${text}": expected a whole number from ${min} to ${max}${why}`,
    );
  }
  return Number(text);
}

/** A duration flag within its declared range (lib/watch/spec.ts says why timers stop at 24 days). */
function duration(values: Parsed["values"], long: string): number | undefined {
  const text = values[long];
  if (text === undefined) return undefined;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = declaredFlag("watch", long);
  return boundedDuration(text as string, `--${long}`, min, max);
}

/** The options of `watch` (`--cooldown`, `-e` for `unit`…) of some commands, by every spelling. */
export function flagWords(commands: readonly string[]): string[] {
  return commands.flatMap((c) => COMMANDS[c].forms.flatMap((f) => f.flags))
    .flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]);
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
  const { triggers, rest } = await splitTriggers(args, {
    ownFlags: [...flagWords(["watch"]), ...moreFlags],
  });
  const { values, positionals } = parseForm(rest, COMMANDS.watch.forms[0]);
  const ship = values.ship === undefined ? undefined : { url: urlOf(values.ship) };
  const store = values.store as string | undefined;
  if (store === "") throw new UsageError(`Invalid "--store": an empty path`);
  return {
    name: oneName(positionals),
    triggers,
    policies: {
      cooldownMs: duration(values, "cooldown"),
      // 0 would allow no snapshot at all (and once meant "no limit"): leave the flag out for no limit.
      maxPerDay: count(values, "max-per-day", " (leave it out for no limit)"),
      holdMs: duration(values, "hold"),
      delayMs: duration(values, "delay"),
    },
    retention: retentionFlags(values, { keep: "keep", maxAge: "max-age", maxSize: "max-size" }),
    switchEveryMs: duration(values, "switch-every"),
    service: values.service === true,
    pollMs: duration(values, "interval"),
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
