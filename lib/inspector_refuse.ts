/**
 * The fallback where SIGUSR1 cannot be blocked (lib/inspector_guard.ts): close the inspector Deno opens on that
 * signal as soon as it is open. The command line's quick commands use it as it is, and so load neither FFI nor
 * the restart that blocks the signal; it is a file of its own so that they load nothing else.
 * @module
 */

/** How long after the signal to keep looking for the server Deno may still be starting (ms). */
const WATCH_MS = [0, 1, 5, 20, 100, 500];

/**
 * The fallback where SIGUSR1 cannot be blocked: listens for SIGUSR1 and closes the inspector Deno opens on that
 * signal as soon as it is open. Installing it more than once is harmless.
 */
export function refuseInspectorSignal(): void {
  if (listening) return;
  try {
    Deno.addSignalListener("SIGUSR1", closeInspectorSoon);
    listening = true;
  } catch {
    // Not a Unix system: there is no SIGUSR1 and Deno does not react to it.
  }
}

let listening = false;

function closeInspectorSoon(): void {
  // Loaded only when the signal comes: it costs nothing at startup.
  import("node:inspector").then(({ default: inspector }) => {
    const close = (): void => {
      try {
        if (inspector.url() !== undefined) inspector.close();
      } catch {
        // No permission to look (without --allow-sys): nothing more we can do.
      }
    };
    close();
    // Unref'd: a stapfr about to exit does not wait for these.
    for (const ms of WATCH_MS) Deno.unrefTimer(setTimeout(close, ms));
  }).catch(() => {});
}
