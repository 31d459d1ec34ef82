/**
 * The watcher's trigger socket, `STATE_DIR/NAME.trigger.sock`: how `stapfr trigger NAME` reaches a running
 * watcher. A Unix stream socket in the 0700 state directory (so only its owner can connect), one request per
 * connection: the client writes one JSON line `{"reason": TEXT|null}`, the watcher answers one JSON line
 * `{"decision": TEXT}` saying what its policies made of it. No signal is involved: SIGUSR1 would open Deno's
 * debugger port (lib/inspector_guard.ts), and a socket also tells the sender whether the watcher answered.
 * See docs/watch.md "Triggers".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { operationError } from "../os_errors.ts";
import { join } from "../path.ts";
import type { Registry } from "../registry.ts";

/** The longest path a Unix socket can have on Linux (`sun_path` is 108 bytes with its NUL). */
export const SOCKET_PATH_MAX = 107;
/** The longest request line read (a reason is cut to fit). */
const REQUEST_MAX = 16 * 1024;
/** How long the watcher waits for a client's request line, and a client for the answer. */
const EXCHANGE_MS = 5000;
/** How long a client keeps trying to connect to a watcher that is alive. */
const CONNECT_MS = 3000;

/** The trigger socket of a recorder's watcher. */
export function triggerSocketPath(registry: Registry, name: string): string {
  return join(registry.dir, `${name}.trigger.sock`);
}

/** One request as the watcher receives it. */
export interface TriggerRequest {
  /** The reason given with `--reason`, or null. */
  reason: string | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads one line (without its newline) of at most `max` bytes, or throws when the peer is silent too long. */
async function readLine(conn: Deno.Conn, max: number, timeoutMs: number): Promise<string> {
  const buffer = new Uint8Array(max);
  let length = 0;
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    while (length < max) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) break;
      const newline = buffer.subarray(length, length + n).indexOf(10);
      length += n;
      if (newline >= 0) return decoder.decode(buffer.subarray(0, length - n + newline));
    }
    return decoder.decode(buffer.subarray(0, length));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves the trigger socket until `signal` aborts: each request is passed to `answer`, whose text goes back to
 * the client. A stale socket file (a watcher that died) is replaced; the caller has checked that no other
 * watcher of the recorder is alive.
 */
export async function serveTriggerSocket(
  path: string,
  answer: (request: TriggerRequest) => string,
  signal: AbortSignal,
): Promise<void> {
  if (encoder.encode(path).length > SOCKET_PATH_MAX) {
    throw new StapfrError(`The trigger socket path is too long for a Unix socket: ${path}`, {
      code: "io",
      hint:
        `Use a state directory whose path is shorter (at most ${SOCKET_PATH_MAX} bytes with the socket name)`,
    });
  }
  await Deno.remove(path).catch(() => {});
  const listener = Deno.listen({ transport: "unix", path });
  await Deno.chmod(path, 0o600);
  // Clients that have not sent their request yet: a stopping watcher does not wait for them (a client that
  // connects and says nothing would hold the stop for the whole exchange timeout).
  const silent = new Set<Deno.Conn>();
  const onAbort = () => {
    listener.close();
    for (const conn of silent) closeQuietly(conn);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  // Stopped before it listened (a watcher stopped as it started): an abort event will not come again.
  if (signal.aborted) onAbort();
  const open = new Set<Promise<void>>();
  try {
    for await (const conn of listener) {
      const served = serveOne(conn, answer, silent, signal).finally(() => open.delete(served));
      open.add(served);
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
    await Promise.all(open);
    await Deno.remove(path).catch(() => {});
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed already */ }
}

async function serveOne(
  conn: Deno.Conn,
  answer: (request: TriggerRequest) => string,
  silent: Set<Deno.Conn>,
  signal: AbortSignal,
): Promise<void> {
  try {
    if (signal.aborted) return;
    silent.add(conn);
    let line: string;
    try {
      line = await readLine(conn, REQUEST_MAX, EXCHANGE_MS);
    } finally {
      silent.delete(conn);
    }
    let reason: string | null = null;
    try {
      const r = JSON.parse(line)?.reason;
      if (typeof r === "string" && r !== "") reason = r;
    } catch {
      // Not JSON: a trigger without a reason.
    }
    const decision = answer({ reason });
    await conn.write(encoder.encode(JSON.stringify({ decision }) + "\n"));
  } catch {
    // The client went away (or the watcher stopped before it spoke): nothing to answer.
  } finally {
    closeQuietly(conn);
  }
}

/** Sends one trigger request to a watcher's socket and returns its answer (what the policies decided). */
export async function sendTrigger(path: string, reason: string | null): Promise<string> {
  let conn: Deno.UnixConn | undefined;
  // A watcher that has just started may not be listening yet.
  for (const deadline = Date.now() + CONNECT_MS; conn === undefined;) {
    try {
      conn = await Deno.connect({ transport: "unix", path });
    } catch (err) {
      // Not allowed to connect at all (no --allow-net): waiting would not help.
      if (err instanceof Deno.errors.NotCapable) throw operationError("reach the watcher", err);
      if (Date.now() >= deadline) {
        throw new StapfrError(`The watcher's trigger socket does not answer (${(err as Error).message})`, {
          code: "timeout",
          hint: "The watcher may have just stopped; see its log, or run the trigger again",
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    const request = JSON.stringify({ reason: reason === null ? null : reason.slice(0, 2000) });
    await conn.write(encoder.encode(request + "\n"));
    const line = await readLine(conn, REQUEST_MAX, EXCHANGE_MS);
    const decision = JSON.parse(line)?.decision;
    if (typeof decision !== "string") throw new Error("no answer");
    return decision;
  } catch {
    throw new StapfrError(`The watcher did not answer the trigger within ${EXCHANGE_MS / 1000} s`, {
      code: "timeout",
      hint: "It may be stuck; see its log (journalctl, or its terminal)",
    });
  } finally {
    try {
      conn.close();
    } catch { /* closed by the timeout */ }
  }
}
