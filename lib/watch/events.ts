/**
 * What the watcher reports, as structured events (`onEvent`) and as the log lines made from them (`log`, what
 * `stapfr watch` prints): one event per decision of the policies, snapshot, problem and end. Events are data, in
 * the JSON documents' naming (snake_case), so a program can log them as JSON lines as they are.
 * @module
 */
import type { Suppression } from "./policy.ts";

/** What every event has: when (ISO 8601) and which trigger it is about (`watch` for the watcher itself). */
export interface WatchEventBase {
  /** When it happened (ISO 8601, UTC). */
  at: string;
  /** The trigger's label (`signal`, `log /var/log/app.log`, …), `watch` for the watcher itself. */
  trigger: string;
}

/**
 * One thing the watcher did or saw.
 *
 * - `started`: it runs (`triggers` are their labels);
 * - `holding`: a condition holds, and fires if it holds until `until`;
 * - `fired`: the policies let a trigger through; its snapshot is taken at `snapshot_at`;
 * - `suppressed`: a policy (`by`) kept a trigger from taking a snapshot, until `until` when it says;
 * - `snapshot`: a snapshot was taken (`id`, `path`); `snapshot_failed`: it could not be (`error`, `code`);
 * - `pruned`: the retention bounds removed snapshot `id` after a new one (`detail` says when it had not been
 *   shipped yet);
 * - `problem`: a trigger (or the watcher) has a problem but goes on;
 * - `dropped`: a scheduled snapshot was dropped because the watcher stops;
 * - `recorder_ended`: the recorder stopped recording, so the watcher stops;
 * - `recorder_stopped`: service mode stopped the recorder (`bytes` of its last output); `stop_failed`: it
 *   could not, and the recorder is still recording;
 * - `exited`: the watcher ended, having taken `snapshots` snapshots.
 */
export type WatchEvent =
  | WatchEventBase & { type: "started"; recorder: string; triggers: string[] }
  | WatchEventBase & { type: "holding"; detail: string; until: string }
  | WatchEventBase & { type: "fired"; detail: string; snapshot_at: string }
  | WatchEventBase & { type: "suppressed"; detail: string; by: Suppression; until: string | null }
  | WatchEventBase & { type: "snapshot"; detail: string; id: string; path: string }
  | WatchEventBase & { type: "snapshot_failed"; detail: string; error: string; code: string }
  | WatchEventBase & { type: "pruned"; id: string; detail?: string }
  | WatchEventBase & { type: "problem"; message: string }
  | WatchEventBase & { type: "dropped"; reason: string }
  | WatchEventBase & { type: "recorder_ended"; detail: string }
  | WatchEventBase & { type: "recorder_stopped"; bytes: number }
  | WatchEventBase & { type: "stop_failed"; detail: string }
  | WatchEventBase & { type: "exited"; snapshots: number };

function line(at: string, trigger: string, decision: string, detail?: string): string {
  return `${at} ${trigger} ${decision}${detail ? ` (${detail})` : ""}`;
}

/**
 * The log line of an event, as `stapfr watch` prints it; undefined for a `fired` event whose snapshot is taken at
 * once (the `snapshot` event that follows says it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const event = {
 *   type: "suppressed" as const, at: "2026-12-01T05:12:00.000Z", trigger: "signal", detail: "stapfr trigger",
 *   by: "cooldown" as const, until: "2026-12-01T05:22:00.000Z",
 * };
 * assertEquals(
 *   eventLine(event),
 *   "2026-12-01T05:12:00.000Z signal suppressed by cooldown until 2026-12-01T05:22:00.000Z (stapfr trigger)",
 * );
 * ```
 */
export function eventLine(e: WatchEvent): string | undefined {
  switch (e.type) {
    case "started":
      return line(e.at, e.trigger, "started", `${e.recorder}: ${e.triggers.join(", ") || "no triggers"}`);
    case "holding":
      return line(e.at, e.trigger, "holding", `${e.detail}; fires if it holds until ${e.until}`);
    case "fired": {
      const wait = Math.max(0, Date.parse(e.snapshot_at) - Date.parse(e.at));
      return wait > 0
        ? line(e.at, e.trigger, `fired: snapshot in ${Math.round(wait / 1000)}s`, e.detail)
        : undefined;
    }
    case "suppressed":
      return line(e.at, e.trigger, `suppressed by ${e.by}${e.until ? ` until ${e.until}` : ""}`, e.detail);
    case "snapshot":
      return line(e.at, e.trigger, `snapshot ${e.id}`, e.detail);
    case "snapshot_failed":
      return line(e.at, e.trigger, "snapshot failed", e.error);
    case "pruned":
      return line(e.at, e.trigger, `pruned ${e.id}`, e.detail);
    case "problem":
      return line(e.at, e.trigger, "problem", e.message);
    case "dropped":
      return line(e.at, e.trigger, "dropped a scheduled snapshot", e.reason);
    case "recorder_ended":
      return line(e.at, e.trigger, "recorder ended", e.detail);
    case "recorder_stopped":
      return line(
        e.at,
        e.trigger,
        "stopped the recorder",
        `${e.bytes} bytes of buffered and end-probe output`,
      );
    case "stop_failed":
      return line(e.at, e.trigger, "stop failed", e.detail);
    case "exited":
      return line(e.at, e.trigger, "exited", `${e.snapshots} snapshots`);
  }
}
