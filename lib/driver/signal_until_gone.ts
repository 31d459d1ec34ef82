/**
 * Ending a stapio without unloading its module. stapio 4.8 loses signals while its reader threads are busy
 * writing (a high rate, or a slow consumer; docs/systemtap-4.8.md 2.5), and one whose outputs lost their reader
 * hangs deaf to them (section 6, item 4). So the signal is sent again, a bounded number of times, and the last
 * resort is SIGKILL: that detaches all the same (the control channel closes, the module turns overwrite back on
 * and keeps recording; only stapio's own SIGTERM path runs `staprun -d`). What stapio had read but not yet
 * written is lost then, so callers say so.
 * @module
 */
import { within } from "./run.ts";

/** A process to end: how to signal it and how to know it ended. */
export interface Target {
  /** Sends a signal; false when the process is already gone. */
  send(signal: Deno.Signal): boolean | Promise<boolean>;
  /** Resolves when the process has ended (it may never resolve). */
  ended: Promise<unknown>;
}

/** How it ended: after the signal, after the SIGKILL, or not at all within the waits. */
export type Ending = "signalled" | "killed" | "alive";

/**
 * Sends `signal` up to `attempts` times, waiting `waitMs` after each for the process to end, then SIGKILL and
 * a wait of `killWaitMs`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const child = new Deno.Command("sh", { args: ["-c", "trap '' QUIT; sleep 30"] }).spawn();
 * await new Promise((r) => setTimeout(r, 100));
 * const target = { send: (s: Deno.Signal) => (child.kill(s), true), ended: child.status };
 * assertEquals(await signalUntilGone(target, "SIGQUIT", { attempts: 2, waitMs: 50, killWaitMs: 5000 }), "killed");
 * ```
 */
export async function signalUntilGone(
  target: Target,
  signal: Deno.Signal,
  options: { attempts: number; waitMs: number; killWaitMs: number },
): Promise<Ending> {
  for (let i = 0; i < options.attempts; i++) {
    if (!(await target.send(signal))) return "signalled";
    if (await within(target.ended, options.waitMs)) return "signalled";
  }
  if (!(await target.send("SIGKILL"))) return "killed";
  return (await within(target.ended, options.killWaitMs)) ? "killed" : "alive";
}
