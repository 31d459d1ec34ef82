/**
 * The watcher's shipping (`watch … --ship URL`, and so the systemd unit): every snapshot the watcher takes is
 * marked pending before retention sees it, then shipped in the background, one at a time, so that a slow
 * upload never delays the next snapshot. When the store cannot be reached, the snapshots stay here, pending,
 * and the shipper tries again after a wait that doubles from `STAPFR_SHIP_RETRY_MS` up to an hour; a success
 * resets it. At start it takes up what an earlier watcher left pending for the same destination; when the
 * watcher stops it makes one last attempt for what is queued (the service stop's final snapshot) without
 * waiting, and leaves the rest pending for the next start or `stapfr ship --pending`. docs/fleet.md "Shipping
 * as part of capture".
 * @module
 */
import { sleep } from "../driver/run.ts";
import type { SnapshotStore, StoredSnapshot } from "../snapshots/store.ts";
import { destinationUrl } from "../destination.ts";
import { listShipRecords } from "../snapshots/ship_record.ts";
import { markPending, ShipBusy, type ShipOptions, shipSnapshot } from "./ship.ts";
import { type RemoteStore, StoreFailure } from "./store_client.ts";

/** The longest wait between attempts. */
const MAX_WAIT_MS = 3_600_000;

/** How the shipper runs. */
export interface ShipperOptions {
  /** The recorder whose snapshots it ships. */
  recorder: string;
  /** How to upload. */
  ship: ShipOptions;
  /** The first wait after a failure. */
  retryMs: number;
  /** One line per event (shipped, failed and when it tries again). */
  log: (line: string) => void;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 1000)}s`;
}

/** Ships a recorder's snapshots as they are taken, retrying with backoff. */
export class Shipper {
  readonly #remote: RemoteStore;
  readonly #store: SnapshotStore;
  readonly #o: ShipperOptions;
  readonly #queue: StoredSnapshot[] = [];
  #wake: () => void = () => {};
  readonly #closing = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  /** Snapshots shipped so far. */
  shipped = 0;

  constructor(remote: RemoteStore, store: SnapshotStore, options: ShipperOptions) {
    this.#remote = remote;
    this.#store = store;
    this.#o = options;
  }

  /** Starts shipping: first what earlier watchers left pending, then each snapshot as it is added. */
  start = (): void => {
    this.#loop = this.#run();
  };

  get #url(): string {
    return destinationUrl(this.#remote.dest);
  }

  /** Marks a new snapshot pending (before retention looks at it: retention keeps what is not shipped). */
  mark = async (snapshot: StoredSnapshot): Promise<void> => {
    await markPending(this.#store, [snapshot], this.#url, this.#remote.endpoint, "not shipped yet");
  };

  /** Queues a snapshot. */
  add = (snapshot: StoredSnapshot): void => {
    this.#queue.push(snapshot);
    this.#wake();
  };

  /** One last attempt for what is queued (when started), then stops; what is left stays pending. */
  close = async (): Promise<void> => {
    this.#closing.abort();
    this.#wake();
    await this.#loop;
  };

  /** What an earlier watcher left pending for this destination. */
  async #leftOver(): Promise<StoredSnapshot[]> {
    const found: StoredSnapshot[] = [];
    for (const [ref, record] of await listShipRecords(this.#store.dir, this.#o.recorder)) {
      if (record.destinations[this.#url]?.state !== "pending") continue;
      try {
        found.push(await this.#store.find(ref));
      } catch {
        // Deleted meanwhile.
      }
    }
    return found;
  }

  async #run(): Promise<void> {
    const earlier = await this.#leftOver().catch(() => []);
    if (earlier.length > 0) {
      this.#o.log(
        `queued (${earlier.length} snapshot${earlier.length === 1 ? "" : "s"} left pending before)`,
      );
      this.#queue.unshift(...earlier);
    }
    let wait = this.#o.retryMs;
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closing.signal.aborted) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const next = this.#queue[0];
      const label = `${next.manifest.recorder}/${next.manifest.id}`;
      try {
        const outcome = await shipSnapshot(this.#remote, this.#store, next, this.#o.ship);
        this.#queue.shift();
        this.shipped++;
        wait = this.#o.retryMs;
        this.#o.log(`shipped ${next.manifest.id} (${outcome.url})`);
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        const retry = err instanceof StoreFailure && err.kind !== "conflict" && !(err instanceof ShipBusy);
        if (!retry) {
          // Trying again cannot help (another stapfr ships it, or the store holds something else there).
          this.#queue.shift();
          this.#o.log(`failed ${label} (${message}; left pending)`);
          continue;
        }
        if (this.#closing.signal.aborted) {
          this.#o.log(
            `failed ${label} (${message}; ${this.#queue.length} left pending for "stapfr ship --pending")`,
          );
          return;
        }
        this.#o.log(`failed ${label} (${message}; trying again in ${seconds(wait)})`);
        await sleep(wait, this.#closing.signal);
        wait = Math.min(wait * 2, MAX_WAIT_MS);
      }
    }
  }
}
