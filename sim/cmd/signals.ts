/**
 * The signals a stand-in reacts to, behind a small interface: the real process signals, or a test's hand.
 * @module
 */
import type { StapioSignal } from "../stapio/main_loop.ts";

/** A source of signals: `listen` returns the function that stops listening. */
export interface SignalSource {
  listen(handler: (sig: StapioSignal) => void): () => void;
}

const SIGNALS: StapioSignal[] = ["SIGQUIT", "SIGINT", "SIGTERM", "SIGHUP", "SIGUSR2"];

/** The process's own signals. */
export const processSignals: SignalSource = {
  listen(handler) {
    const listeners = SIGNALS.map((sig) => {
      const fn = () => handler(sig);
      Deno.addSignalListener(sig, fn);
      return [sig, fn] as const;
    });
    return () => {
      for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
    };
  },
};
