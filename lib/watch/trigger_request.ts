/**
 * `stapfr trigger`: a request to the watcher of a recorder (its reason in a 0600 file under
 * `STATE_DIR/NAME.trigger/`, then SIGUSR1), or a plain snapshot when no watcher runs.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { join } from "../path.ts";
import { processAlive } from "../driver/kernel.ts";
import { type Engine, getRecord } from "../recorder/engine.ts";
import { type SnapshotSummary, summarize, takeSnapshot } from "../snapshots/ops.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import { readWatchState } from "./state.ts";

/** What `trigger` did. */
export interface TriggerResult {
  /** The watcher's pid when the request went to a watcher; null when a plain snapshot was taken. */
  sent_to: number | null;
  /** The plain snapshot, when no watcher runs. */
  snapshot: SnapshotSummary | null;
}

/** Fires the watcher's signal trigger, or takes a plain snapshot. */
export async function fireTrigger(
  engine: Engine,
  store: SnapshotStore,
  name: string,
  options: { reason?: string } = {},
): Promise<TriggerResult> {
  await getRecord(engine, name);
  const watcher = await readWatchState(engine.registry, name);
  if (watcher && (await processAlive(watcher.pid, watcher.pidStart ?? undefined))) {
    if (!watcher.triggers.includes("signal")) {
      throw new StapfrError(`The watcher of "${name}" (pid ${watcher.pid}) has no signal trigger`, {
        hint: `Restart it with "--on signal", or take a snapshot with "stapfr snapshot ${name}"`,
      });
    }
    const dir = join(engine.registry.dir, `${name}.trigger`);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${Date.now()}-${Deno.pid}-${crypto.randomUUID()}.json`);
    await Deno.writeTextFile(file, JSON.stringify({ reason: options.reason ?? null }), { mode: 0o600 });
    Deno.kill(watcher.pid, "SIGUSR1");
    return { sent_to: watcher.pid, snapshot: null };
  }
  const { snapshot } = await takeSnapshot(engine, store, name, {
    reason: options.reason,
    trigger: { kind: "user", detail: "stapfr trigger (no watcher)" },
  });
  return { sent_to: null, snapshot: summarize(snapshot) };
}
