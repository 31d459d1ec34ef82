/**
 * Deno 2.9.2 and later open V8's inspector, a debugger port on 127.0.0.1:9229 that runs any code it is sent,
 * when the process receives SIGUSR1 (as Node.js does). A flight recorder runs as root on production servers, so
 * no stapfr process may keep such a port open: each one listens for SIGUSR1 itself and closes the inspector as
 * soon as Deno has opened it. Deno offers no switch to turn the activation off, and it starts the server before
 * any listener of ours runs, so the port is open for the few milliseconds until the next turn of the event
 * loop (docs/strays.md "SIGUSR1 and the debugger port").
 * @module
 */

/** How long after the signal to keep looking for the server Deno may still be starting (ms). */
const WATCH_MS = [0, 1, 5, 20, 100, 500];

/**
 * Installs the SIGUSR1 listener that closes the inspector Deno opens on that signal; call it once, early, in
 * every entry point (stapfr's command line and the simulator's module host).
 */
export function refuseInspectorSignal(): void {
  try {
    Deno.addSignalListener("SIGUSR1", closeInspectorSoon);
  } catch {
    // Not a Unix system: there is no SIGUSR1 and Deno does not react to it.
  }
}

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
