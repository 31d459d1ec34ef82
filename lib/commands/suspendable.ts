/**
 * A live read (`attach`, `tail -f`) that Ctrl-Z suspends without leaving a reader attached: the read runs on
 * a signal of its own, which Ctrl-C (the command's signal) and Ctrl-Z (lib/cli/suspend.ts) both abort; after
 * a Ctrl-Z the reader has detached, the command says so and stops itself, and when the shell continues it the
 * read starts again. See docs/strays.md "Ctrl-Z".
 * @module
 */
import type { Context } from "../cli/context.ts";
import { onSuspend, stopSelf } from "../cli/suspend.ts";

/** The reads of a suspendable command: the first, and the one each continue runs. */
export interface SuspendableReads<R> {
  /** The command's read, until `signal` aborts. */
  first(signal: AbortSignal): Promise<R>;
  /** What runs after a continue: live output again from where the detach left the ring. */
  again(signal: AbortSignal): Promise<R>;
  /** Told the result of a read that Ctrl-Z ended (to report what it cut, say). */
  suspended?(result: R): Promise<void>;
}

/** Runs the reads until one ends for another reason than Ctrl-Z; returns that one's result. */
export async function suspendable<R>(ctx: Context, name: string, reads: SuspendableReads<R>): Promise<R> {
  for (let round = 0;; round++) {
    const own = new AbortController();
    const forward = () => own.abort(ctx.signal.reason);
    if (ctx.signal.aborted) forward();
    else ctx.signal.addEventListener("abort", forward, { once: true });
    let suspended = false;
    const off = onSuspend(() => {
      if (suspended) return;
      suspended = true;
      own.abort("SIGTSTP");
    });
    let result: R;
    try {
      result = await (round === 0 ? reads.first(own.signal) : reads.again(own.signal));
    } catch (err) {
      // A read that reports its interrupt as an error: after Ctrl-Z it is a detach like any other.
      if (!suspended || ctx.signal.aborted) throw err;
      result = undefined as R;
    } finally {
      off();
      ctx.signal.removeEventListener("abort", forward);
    }
    if (!suspended || ctx.signal.aborted) return result;
    if (result !== undefined) await reads.suspended?.(result);
    await ctx.err(`stapfr: Detached from "${name}" (Ctrl-Z); it keeps recording; "fg" attaches again`);
    stopSelf();
    // The signal listeners run on the event loop: a moment for a SIGTERM that came while stopped to arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Continued: by "fg" or "bg", or by the "kill" that ends a stopped job (then the signal has aborted).
    if (ctx.signal.aborted) return result;
    await ctx.err(`stapfr: Attaching to "${name}" again`);
  }
}
