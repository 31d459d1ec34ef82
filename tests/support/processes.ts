/**
 * Stopping what a test started: the module hosts and stapio daemons the simulator leaves running.
 * @module
 */

/** Whether a process exists (Deno offers no signal 0; SIGCONT is harmless to these processes). */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the processes and waits (up to 3 s) until they are gone. */
export async function killAndWait(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  for (let i = 0; i < 150 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
}
