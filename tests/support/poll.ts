/**
 * Waiting in tests: for a condition, never for a fixed time. {@linkcode until} fails the test when the
 * condition does not come in time; {@linkcode sleep} is for tests about time itself (that something does NOT
 * happen within a window, or lets a clock advance), each use saying why.
 * @module
 */

/** How long {@linkcode until} waits by default: generous, as the machine running the tests may be loaded. */
export const UNTIL_TIMEOUT_MS = 30_000;

/** What is left of `T` once a value of it was found truthy. */
export type Truthy<T> = Exclude<T, undefined | null | false | 0 | "">;

/**
 * Polls `cond` every `intervalMs` (default 20) until it holds and returns its last truthy value; throws
 * `Timed out after N ms waiting for WHAT` when `timeoutMs` (default {@linkcode UNTIL_TIMEOUT_MS}) passes.
 */
export async function until<T>(
  what: string,
  cond: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? UNTIL_TIMEOUT_MS;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value as Truthy<T>;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 20);
  }
}

/** Waits `ms`. Only for tests about time itself; say why at each use. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
