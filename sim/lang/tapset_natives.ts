/**
 * stapfr's own tapset functions, answered by the simulator itself. stapfr's tapset
 * (lib/driver/counters_tapset.ts, given to stap with `-I DIR`) reads SystemTap's runtime counters with embedded
 * C, which the simulator cannot run; when a tapset from `-I` defines one of these names with an embedded-C
 * body, the simulator gives it a body that calls its native counterpart here instead (sim/lang/tapset_script.ts).
 * The values come from the module's relay rings (sim/kernel/relay.ts): its transport failures and its last sequence
 * number. A tapset function of another name with an embedded-C body stays unsupported.
 * @module
 */
import type { Runtime } from "./interp_runtime.ts";
import type { TapsetFunction } from "./tapset.ts";

/** `transport_failures N\nsequence S\n`, as stapfr's tapset prints them. */
function countersText(rt: Runtime): string {
  const c = rt.counters();
  return `transport_failures ${c.transportFailures}\nsequence ${c.sequence >>> 0}\n`;
}

/** The natives, under names of their own (`__stapfr_native_…`). */
export const NATIVES: Record<string, TapsetFunction> = {
  __stapfr_native_transport_failures: {
    params: [],
    ret: "long",
    impl: (rt) => rt.counters().transportFailures,
  },
  __stapfr_native_sequence: { params: [], ret: "long", impl: (rt) => rt.counters().sequence >>> 0 },
  __stapfr_native_counters: { params: [], ret: "string", impl: countersText },
};

/** For each of stapfr's tapset functions: its return type and the native that answers it. */
export const NATIVE_FOR: Record<string, { ret: "long" | "string"; native: string }> = {
  stapfr_transport_failures: { ret: "long", native: "__stapfr_native_transport_failures" },
  stapfr_sequence: { ret: "long", native: "__stapfr_native_sequence" },
  stapfr_counters: { ret: "string", native: "__stapfr_native_counters" },
};
