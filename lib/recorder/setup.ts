/**
 * The engine for a host and a state directory, from settings already checked: what `new Recorders()` sets up
 * after checking its options (lib/api/recorders.ts), and what the command line's quick commands (`list`,
 * `status`) use without loading the library's option checks (lib/commands/set_up_for.ts).
 * @module
 */
import { defaultStateDir, type EnvLookup, type Host, realHost, simHost } from "../host.ts";
import type { Knobs } from "../knobs.ts";
import { Registry } from "../registry.ts";
import { join } from "../path.ts";
import { fallbackSimRoot } from "../sim_root.ts";
import type { Engine } from "./engine.ts";

/** The settings, checked. */
export interface Setup {
  sim?: boolean;
  simRoot?: string;
  host?: Host;
  stateDir?: string;
  store?: string;
  env: EnvLookup;
  /** Read once: what the options and the knobs say wins over anything read later. */
  knobs: Knobs;
  idleMs?: number;
  signalWaitMs?: number;
  dumpMaxMs?: number;
}

/** The engine, and where its state directory and snapshot store are. */
export function setUp(s: Setup): { engine: Engine; stateDir: string; storeDir: string } {
  const { env, knobs } = s;
  const host = s.host ??
    (s.sim ? simHost({ root: s.simRoot ?? knobs.simRoot ?? fallbackSimRoot(env) }) : realHost());
  const registry = new Registry(defaultStateDir(s.stateDir ?? knobs.stateDir, env, host));
  return {
    engine: {
      host,
      registry,
      env,
      knobs,
      idleMs: s.idleMs ?? knobs.idleMs,
      signalWaitMs: s.signalWaitMs ?? knobs.signalWaitMs,
      drainMaxMs: s.dumpMaxMs ?? knobs.dumpMaxMs,
    },
    stateDir: registry.dir,
    storeDir: s.store || knobs.store || join(registry.dir, "snapshots"),
  };
}
