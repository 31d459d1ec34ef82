/**
 * The engine in this process over the simulator, for unit tests that need a recorder: a private simulator root
 * with its state directory and snapshot store, the engine's operations called directly (only `stap`, `staprun`
 * and the module hosts and stapio daemons they leave are processes), and a clean-up that stops every recorder
 * and kills what is left (module hosts and daemons are detached from the test, so they are found through the
 * root and the registry).
 * @module
 */
import { simHost } from "../../lib/host.ts";
import { readKnobs } from "../../lib/knobs.ts";
import { Registry } from "../../lib/registry.ts";
import type { Engine } from "../../lib/recorder/engine.ts";
import { type StartOptions, startRecorder } from "../../lib/recorder/start.ts";
import { stopRecorder } from "../../lib/recorder/stop.ts";
import { SnapshotStore } from "../../lib/snapshots/store.ts";
import { killAndWait } from "./processes.ts";

/** The simulator's knobs for these tests: two CPUs, a fixed seed, no 4.8 sequence stall. */
const KNOBS: Record<string, string> = {
  STAPFR_SIM_CPUS: "2",
  STAPFR_SIM_SEED: "7",
  STAPFR_SIM_SEQ_WAIT_MS: "0",
};

/** A script that prints a line every 10 ms. */
export const TICKS = 'probe timer.ms(10) { printf("tick %d\\n", ++n) } global n';

/** A simulated world with the engine over it. */
export class SimEngine {
  readonly root: string;
  readonly engine: Engine;
  readonly store: SnapshotStore;

  private constructor(root: string, env: Record<string, string>, timing: Partial<Engine>) {
    this.root = root;
    const knobs = { ...KNOBS, ...env };
    const host = simHost({ root });
    this.engine = {
      host: { ...host, env: { ...host.env, ...knobs } },
      registry: new Registry(`${root}/state`),
      env: (name) => knobs[name],
      idleMs: 300,
      signalWaitMs: 1000,
      drainMaxMs: 10_000,
      ...timing,
      knobs: timing.knobs ?? readKnobs((name) => knobs[name]),
    };
    this.store = new SnapshotStore(`${root}/state/snapshots`);
  }

  /** A new world in a temporary directory; `env` adds simulator knobs, `timing` overrides the engine's waits. */
  static async create(env: Record<string, string> = {}, timing: Partial<Engine> = {}): Promise<SimEngine> {
    return new SimEngine(await Deno.makeTempDir({ prefix: "stapfr-unit-sim-" }), env, timing);
  }

  /** Runs `fn` in a new world and cleans up after it, whatever happens. */
  static async with(
    fn: (sim: SimEngine) => Promise<void>,
    env: Record<string, string> = {},
    timing: Partial<Engine> = {},
  ): Promise<void> {
    const sim = await SimEngine.create(env, timing);
    try {
      await fn(sim);
    } finally {
      await sim.cleanup();
    }
  }

  /** Starts a recorder (memory mode unless `output` is given); the script defaults to {@linkcode TICKS}. */
  async start(name: string, options: Partial<StartOptions> = {}) {
    return await startRecorder(this.engine, { name, script: { text: TICKS }, ...options });
  }

  /** The pid of a module's host process (the simulated kernel module), or 0. */
  async hostPid(module: string): Promise<number> {
    const text = await Deno.readTextFile(`${this.root}/proc/systemtap/${module}/host.pid`).catch(() => "0");
    return Number(text.trim()) || 0;
  }

  /** Stops every recorder (unread) and kills whatever is left; removes the root. */
  async cleanup(): Promise<void> {
    const pids: number[] = [];
    try {
      for await (const e of Deno.readDir(`${this.root}/proc/systemtap`)) {
        pids.push(await this.hostPid(e.name));
      }
    } catch {
      // No module was ever loaded.
    }
    try {
      const { records } = await this.engine.registry.list();
      for (const r of records) {
        if (r.pid) pids.push(r.pid);
        await stopRecorder(this.engine, r.name, () => Promise.resolve(), { discard: true }).catch(() => {});
      }
    } finally {
      await killAndWait(pids.filter((p) => p > 0));
      await Deno.remove(this.root, { recursive: true }).catch(() => {});
    }
  }
}
