/**
 * The library's one cancellation rule (README "Cancellation"), in one place:
 *
 * - `signal` cancels. Aborted before the call or during it, the operation rejects with `signal.reason`, after
 *   any reader it had attached has detached (the recorder keeps recording), and leaves nothing half made.
 * - `until` ends an operation that runs for as long as it is let (a read, the watcher, plan's measurement)
 *   early, and it resolves with what it got (`outcome: "stopped"` for reads).
 *
 * A failure that is not the abort itself (a detach that failed meanwhile) is reported as itself, not as the
 * abort: it is what the caller needs to hear then.
 * @module
 */
import { errorCode } from "../errors.ts";

/** Both signals as one (either aborts it), or the one given, or undefined. */
export function eitherSignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  return given.length <= 1 ? given[0] : AbortSignal.any(given);
}

/** Whether `err` is the abort itself, as the engine reports it (an `AbortError`, an interrupt, the reason). */
export function causedByAbort(err: unknown, signal: AbortSignal): boolean {
  if (err === signal.reason) return true;
  if (err instanceof DOMException && (err.name === "AbortError" || err.name === "TimeoutError")) return true;
  return errorCode(err) === "interrupted";
}

/**
 * Runs an operation that makes one thing under the rule: rejects with `signal.reason` when `signal` aborted,
 * before the call or during it. An operation that finished before it noticed the abort resolves: it was too
 * late to cancel.
 *
 * @example
 * ```ts
 * import { assertRejects } from "@std/assert";
 * const controller = new AbortController();
 * controller.abort(new Error("enough"));
 * await assertRejects(() => cancellable(controller.signal, () => Promise.resolve(1)), Error, "enough");
 * ```
 */
export async function cancellable<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  try {
    return await fn();
  } catch (err) {
    if (signal?.aborted && causedByAbort(err, signal)) throw signal.reason;
    throw err;
  }
}
