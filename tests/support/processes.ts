/**
 * Processes a test did not start directly but must see end: the module hosts and stapio daemons the simulator
 * leaves running (detached, so not the test's children).
 * @module
 */
import { until } from "./poll.ts";

/**
 * Whether a pid runs. A zombie counts as gone: nobody may reap it here (a daemon's parent is gone, and pid 1
 * of a container may not reap). Asks `ps`, because Deno reads `/proc/PID/…` only with every permission.
 */
export async function alive(pid: number): Promise<boolean> {
  if (pid <= 0) return false;
  try {
    // Deno offers no signal 0; SIGCONT is harmless to these processes, and its failure answers at once.
    Deno.kill(pid, "SIGCONT");
  } catch {
    return false;
  }
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stderr: "null",
  })
    .output();
  const state = new TextDecoder().decode(stdout).trim();
  return state !== "" && !state.startsWith("Z");
}

/** SIGKILLs the processes and waits until they are gone; fails if one outlives SIGKILL for 10 s. */
export async function killAndWait(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  const left = async () => (await Promise.all(pids.map(async (p) => (await alive(p)) ? [p] : []))).flat();
  await until("SIGKILLed processes to end", async () => (await left()).length === 0, { timeoutMs: 10_000 })
    .catch(async () => {
      throw new Error(`Processes ${(await left()).join(", ")} outlived SIGKILL`);
    });
}
