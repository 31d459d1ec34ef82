/**
 * `stapfr trigger`: a request to the watcher of a recorder over its trigger socket (lib/watch/trigger_socket.ts),
 * or a plain snapshot when no watcher runs.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { processAlive } from "../driver/kernel.ts";
import { type Engine, getRecord } from "../recorder/engine.ts";
import { type SnapshotSummary, summarize, takeSnapshot } from "../snapshots/ops.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import { readWatchState } from "../watcher_record.ts";
import { sendTrigger, triggerSocketPath } from "./trigger_socket.ts";

/** What `trigger` did. */
export interface TriggerResult {
  /** The watcher's pid when the request went to a watcher; null when a plain snapshot was taken. */
  sent_to: number | null;
  /** What the watcher's policies decided (`fired`, `suppressed by cooldown until …`), when it went to one. */
  decision: string | null;
  /** The plain snapshot, when no watcher runs. */
  snapshot: SnapshotSummary | null;
}

/** Fires the watcher's signal trigger, or takes a plain snapshot. */
export async function fireTrigger(
  engine: Engine,
  store: SnapshotStore,
  name: string,
  options: { reason?: string; signal?: AbortSignal } = {},
): Promise<TriggerResult> {
  await getRecord(engine, name);
  const watcher = await readWatchState(engine.registry, name);
  if (watcher && (await processAlive(watcher.pid, watcher.pidStart ?? undefined))) {
    if (!watcher.triggers.includes("signal")) {
      throw new StapfrError(`The watcher of "${name}" (pid ${watcher.pid}) has no signal trigger`, {
        code: "not_running",
        hint: `Restart it with "--on signal", or take a snapshot with "stapfr snapshot ${name}"`,
      });
    }
    const decision = await sendTrigger(triggerSocketPath(engine.registry, name), options.reason ?? null);
    return { sent_to: watcher.pid, decision, snapshot: null };
  }
  const { snapshot } = await takeSnapshot(engine, store, name, {
    reason: options.reason,
    trigger: { kind: "user", detail: "stapfr trigger (no watcher)" },
    signal: options.signal,
  });
  return { sent_to: null, decision: null, snapshot: summarize(snapshot) };
}
