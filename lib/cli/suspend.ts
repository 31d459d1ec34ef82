/**
 * Ctrl-Z (SIGTSTP) for the commands that show live output (`attach`, `tail -f`). A job stopped by the shell
 * would keep its `staprun -A` attached for as long as it stays stopped: the ring stops overwriting (the
 * recorder loses its newest data) and nobody else can read it. So cli.ts listens for SIGTSTP in those commands
 * and calls {@linkcode suspendRequested}: while a reader is attached, the running command's handler detaches it
 * (SIGQUIT, as Ctrl-C does), says so, and only then stops the process; SIGCONT (`fg`, `bg`) attaches again, as
 * users of `tail -f` expect the output to go on. With no reader attached (a file recorder's files are read,
 * not attached to) the process stops at once, as it would without a listener. docs/strays.md "Ctrl-Z".
 * Kept free of imports beyond the live-reader set: cli.ts loads it at startup.
 * @module
 */
import { liveReaders } from "../driver/live_readers.ts";

let handler: (() => void) | undefined;

/**
 * Registers what Ctrl-Z does while a command holds a reader (it must detach, then call {@linkcode stopSelf});
 * returns the function that unregisters it.
 */
export function onSuspend(h: () => void): () => void {
  handler = h;
  return () => {
    if (handler === h) handler = undefined;
  };
}

/** SIGTSTP arrived (cli.ts's listener): detach first when a reader is attached, else stop at once. */
export function suspendRequested(): void {
  if (handler && liveReaders.size > 0) handler();
  else stopSelf();
}

/**
 * Stops this process as the shell's Ctrl-Z would (SIGSTOP, which cannot be caught); returns once it is
 * continued (SIGCONT).
 */
export function stopSelf(): void {
  Deno.kill(Deno.pid, "SIGSTOP");
}
