/**
 * The `staprun -A` readers this process has running, so that the command line's signal handling can act on
 * them without loading the driver: a second Ctrl-C resends the detaching SIGQUIT at once instead of exiting
 * and leaving a reader attached (docs/strays.md "Every way out detaches"). Kept free of imports: cli.ts loads it
 * at startup.
 * @module
 */

/** A running reader. */
export interface LiveReader {
  /** The reader's pid (staprun, then stapio). */
  readonly pid: number;
  /** Sends SIGQUIT now (detach), without waiting for the next resend. */
  hurry(): void;
}

/** The readers running in this process. */
export const liveReaders: Set<LiveReader> = new Set();
