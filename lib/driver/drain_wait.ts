/**
 * When a drain of a memory recorder (`dump`, the first part of `tail`, `stop`) stops waiting for more: the
 * decision alone, on any clock, so that every outcome is tested without real time. The waiting itself is
 * `AttachSession.waitIdle` in `session.ts`.
 * @module
 */

/** Why a drain stopped waiting. */
export type WaitOutcome = "idle" | "exited" | "closed" | "aborted" | "full" | "timeout";

/** The limits of a drain (`dump`, the first part of `tail`, `stop`). */
export interface WaitLimits {
  /** Nothing at all for this long: drained (an empty ring; stapio 4.8 may hold the first record 2 s). */
  idleMs: number;
  /** The trickle window (default 500 ms). */
  windowMs?: number;
  /** Less than this within one window, once data flowed, is live output: drained (default 64K). */
  liveBytes?: number;
  /** Stop after this long whatever comes (`dump`'s documented limit). */
  maxMs?: number;
  /** Stop once this much was read (the ring's capacity). */
  maxBytes?: number;
}

/** The trickle window being measured: when it began and the byte count then. */
export interface TrickleWindow {
  start: number;
  bytes: number;
}

/** What {@linkcode decideWait} looks at: the session as it is at `now` (milliseconds on any clock). */
export interface WaitInputs {
  now: number;
  /** When the wait began. */
  startedAt: number;
  /** When the last byte arrived (or the session opened). */
  lastDataAt: number;
  /** Bytes read so far. */
  bytes: number;
  /** The current trickle window. */
  window: TrickleWindow;
  /** staprun has exited. */
  exited: boolean;
  /** The consumer closed its end. */
  sinkClosed: boolean;
  /** The caller aborted. */
  aborted: boolean;
}

/** Either why to stop, or the window to carry on with and how long nothing can change. */
export type WaitDecision =
  | { outcome: WaitOutcome }
  | { outcome?: undefined; window: TrickleWindow; wakeInMs: number };

/**
 * The decision of a drain, pure so that it is tested on a fake clock. In order: staprun `exited`, the sink
 * `closed`, `aborted`, `full` (`maxBytes` read), `idle` (nothing for `idleMs`, or, once data flowed, less
 * than `liveBytes` in a whole window: the backlog comes as fast as the pipe goes, what trickles in after it
 * is live output), `timeout` (`maxMs` since the start). Otherwise the window rolls over when it is complete.
 *
 * @example A trickle after the backlog counts as drained
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const d = decideWait({
 *   now: 1000, startedAt: 0, lastDataAt: 990, bytes: 70_000, window: { start: 500, bytes: 69_000 },
 *   exited: false, sinkClosed: false, aborted: false,
 * }, { idleMs: 2500 });
 * assertEquals(d.outcome, "idle");
 * ```
 */
export function decideWait(s: WaitInputs, limits: WaitLimits): WaitDecision {
  if (s.exited) return { outcome: "exited" };
  if (s.sinkClosed) return { outcome: "closed" };
  if (s.aborted) return { outcome: "aborted" };
  if (limits.maxBytes !== undefined && s.bytes >= limits.maxBytes) return { outcome: "full" };
  if (s.now - s.lastDataAt >= limits.idleMs) return { outcome: "idle" };
  const windowMs = limits.windowMs ?? 500;
  const liveBytes = limits.liveBytes ?? 64 * 1024;
  let window = s.window;
  if (s.now - window.start >= windowMs) {
    // A first window that began before any data came is not a trickle yet: the backlog may be on its way.
    if (s.bytes > 0 && window.bytes > 0 && s.bytes - window.bytes < liveBytes) return { outcome: "idle" };
    window = { start: s.now, bytes: s.bytes };
  }
  if (limits.maxMs !== undefined && s.now - s.startedAt >= limits.maxMs) return { outcome: "timeout" };
  const deadlines = [s.lastDataAt + limits.idleMs, window.start + windowMs];
  if (limits.maxMs !== undefined) deadlines.push(s.startedAt + limits.maxMs);
  return { window, wakeInMs: Math.max(0, Math.min(...deadlines) - s.now) };
}
