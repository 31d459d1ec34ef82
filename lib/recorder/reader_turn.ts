/**
 * Reads of one memory recorder from one process take turns. A ring has one reader at a time; two reads of it
 * in one program (a dump while the watcher snapshots, two dumps at once) would otherwise see each other as
 * "another reader" holding the recorder, named by their own pid. Within the process the second waits for the
 * first to end, first come first served; other processes are refused as before (docs/strays.md). A read that
 * waits its turn can be aborted (`signal`) like any read.
 * @module
 */

const turns = new Map<string, Promise<void>>();

/**
 * Waits until no earlier read of `key` (the state directory and the recorder) in this process is running;
 * returns the turn, to dispose when the read has ended. Throws an `AbortError` when `signal` aborts first.
 *
 * @example Two reads of one recorder take turns
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const order: string[] = [];
 * const first = await readerTurn("/state/io");
 * const second = readerTurn("/state/io").then((turn) => {
 *   order.push("second");
 *   turn[Symbol.dispose]();
 * });
 * order.push("first");
 * first[Symbol.dispose]();
 * await second;
 * assertEquals(order, ["first", "second"]);
 * ```
 */
export async function readerTurn(key: string, signal?: AbortSignal): Promise<Disposable> {
  const before = turns.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  // Whoever comes next waits for this turn, which ends after the one before it in any case.
  const chained = before.then(() => mine);
  turns.set(key, chained);
  const done = (): void => {
    release();
    if (turns.get(key) === chained) turns.delete(key);
  };
  if (signal) {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(new DOMException("Interrupted while waiting for this process's other read", "AbortError"));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([before, aborted]);
    } catch (err) {
      // Gave up waiting: the turn passes on once the one before it ends.
      before.then(done);
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort!);
    }
  } else await before;
  return { [Symbol.dispose]: done };
}
