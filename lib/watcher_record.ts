/**
 * A running watcher's state file, `STATE_DIR/NAME.watch` (JSON, 0600): its pid, triggers and counts, for
 * `status` and for `stapfr trigger`, which finds the watcher through it.
 * @module
 */
import { join } from "./path.ts";
import type { Registry } from "./registry.ts";

/** What a running watcher publishes. */
export interface WatchState {
  /** The watcher's pid. */
  pid: number;
  /** Its start time (to survive pid reuse). */
  pidStart: number | null;
  /** When it started (ISO 8601). */
  started_at: string;
  /** Its triggers, as given. */
  triggers: string[];
  /** Snapshots the policies allowed. */
  fired: number;
  /** Snapshots taken. */
  snapshots: number;
  /** Snapshots that failed. */
  failed: number;
  /** Triggers suppressed, by policy. */
  suppressed: Record<string, number>;
  /** The last event. */
  last: { at: string; trigger: string; decision: string; detail: string } | null;
}

/** The state file of a recorder's watcher. */
export function watchStatePath(registry: Registry, name: string): string {
  // Not `.json`: the registry reads every `NAME.json` as a recorder.
  return join(registry.dir, `${name}.watch`);
}

/**
 * The watcher's state, or undefined when none was published, it is unreadable, or it does not name its watcher
 * by pid and start time: a pid alone may have been reused by any process since, so a record without a start
 * time (a forged or damaged one) is not trusted at all.
 */
export async function readWatchState(registry: Registry, name: string): Promise<WatchState | undefined> {
  try {
    const v = JSON.parse(await Deno.readTextFile(watchStatePath(registry, name)));
    const ok = Number.isInteger(v?.pid) && v.pid > 0 && Number.isInteger(v.pidStart) && v.pidStart >= 0 &&
      Array.isArray(v.triggers) && v.triggers.every((t: unknown) => typeof t === "string");
    return ok ? v : undefined;
  } catch {
    return undefined;
  }
}
