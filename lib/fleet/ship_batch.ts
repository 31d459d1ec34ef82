/**
 * Shipping several snapshots to one store, one after the other. A failure that concerns the store as a whole
 * (unreachable, credentials refused, no bucket) ends the batch: trying the rest would fail the same way, each
 * after its own retries. The snapshots not shipped are marked pending on the host, so that `ship --pending`
 * (or the watcher) sends them later; a failure of one snapshot alone (a conflict in the store, a damaged local
 * copy, another stapfr shipping it) is reported and the batch goes on.
 * @module
 */
import { Interrupted } from "../errors.ts";
import type { SnapshotStore, StoredSnapshot } from "../snapshots/store.ts";
import { destinationUrl } from "../destination.ts";
import { markPending, type ShipOptions, type ShipOutcome, shipSnapshot } from "./ship.ts";
import { type RemoteStore, StoreFailure } from "./store_client.ts";

/** A snapshot that was not shipped, and why. */
export interface ShipFailure {
  recorder: string;
  id: string;
  /** One line. */
  error: string;
  /** What to do about it, when there is something. */
  hint: string | null;
}

/** What a batch did. */
export interface BatchResult {
  shipped: ShipOutcome[];
  failed: ShipFailure[];
  /** The failure that ended the batch early (the rest are in `failed` too, marked pending). */
  stopped: StoreFailure | null;
}

/** Ships `snapshots` in order; `onOutcome` hears of each as it ends. */
export async function shipBatch(
  remote: RemoteStore,
  store: SnapshotStore,
  snapshots: readonly StoredSnapshot[],
  options: ShipOptions,
  onOutcome: (outcome: ShipOutcome | ShipFailure) => Promise<void> | void = () => {},
): Promise<BatchResult> {
  const result: BatchResult = { shipped: [], failed: [], stopped: null };
  for (let i = 0; i < snapshots.length; i++) {
    const s = snapshots[i];
    try {
      const outcome = await shipSnapshot(remote, store, s, options);
      result.shipped.push(outcome);
      await onOutcome(outcome);
    } catch (err) {
      if (options.signal?.aborted) {
        await markPending(
          store,
          snapshots.slice(i + 1),
          destinationUrl(remote.dest),
          remote.endpoint,
          "interrupted",
        );
        throw new Interrupted();
      }
      if (!(err instanceof Error)) throw err;
      const failure: ShipFailure = {
        recorder: s.manifest.recorder,
        id: s.manifest.id,
        error: err.message.split("\n")[0],
        hint: (err as { hint?: string }).hint ?? null,
      };
      result.failed.push(failure);
      await onOutcome(failure);
      if (err instanceof StoreFailure && err.kind !== "conflict") {
        result.stopped = err;
        const rest = snapshots.slice(i + 1);
        await markPending(store, rest, destinationUrl(remote.dest), remote.endpoint, err.message);
        for (const r of rest) {
          result.failed.push({
            recorder: r.manifest.recorder,
            id: r.manifest.id,
            error: "not tried",
            hint: null,
          });
        }
        break;
      }
    }
  }
  return result;
}
