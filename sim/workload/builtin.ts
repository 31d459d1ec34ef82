/**
 * A fixed script for the simulated module until the script language lands (`compileScript` in
 * `sim/lang/mod.ts`): the equivalent of
 *
 * ```
 * probe vfs.read, vfs.write { printf("%s**%s**%d\n", ppfunc(), cmdline_str(), pid()) }
 * probe end { printf("exited\n") }
 * ```
 *
 * on a small synthetic machine (a PostgreSQL server, sshd, a shell, journald). Lines look like
 * `vfs.read**postgres: wal writer process    "" "" ""**7014`. Events come at `rate` per second of virtual
 * time, evenly spaced, each on a CPU drawn from the seeded random source: deterministic for a seed.
 * @module
 */
import type { CompiledScript, RunOptions, ScriptRun } from "../kernel/program.ts";

/** Processes of the machine: the `cmdline_str()` the probe prints, the pid, and a share of the events. */
const PROCESSES: ReadonlyArray<{ cmdline: string; pid: number; weight: number }> = [
  { cmdline: 'postgres: wal writer process    "" "" ""', pid: 7014, weight: 8 },
  { cmdline: 'postgres: writer process    "" "" ""', pid: 7013, weight: 5 },
  { cmdline: 'postgres: checkpointer process    "" "" ""', pid: 7012, weight: 2 },
  { cmdline: 'postgres: stats collector process    "" ""', pid: 7016, weight: 3 },
  { cmdline: "postgres -D /var/lib/postgres/data", pid: 7001, weight: 1 },
  { cmdline: "sshd: admin@pts/0", pid: 2188, weight: 2 },
  { cmdline: "-bash", pid: 2190, weight: 1 },
  { cmdline: "/lib/systemd/systemd-journald", pid: 301, weight: 2 },
];

const PROBES = ["vfs.read", "vfs.write"] as const;

/** mulberry32: a tiny seeded generator, so the workload never touches Math.random(). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class BuiltinRun implements ScriptRun {
  #options: RunOptions;
  #random: () => number;
  /** Encoded lines, one per (probe, process): printing allocates nothing. */
  #lines: Uint8Array[];
  /** Cumulative weights for the process draw. */
  #cumulative: number[];
  #totalWeight: number;
  #intervalNs: number;
  #nextNs: number;
  #hits = 0;
  #stopped = false;

  constructor(options: RunOptions) {
    this.#options = options;
    this.#random = seededRandom(options.seed);
    const encoder = new TextEncoder();
    this.#lines = PROBES.flatMap((probe) =>
      PROCESSES.map((p) => encoder.encode(`${probe}**${p.cmdline}**${p.pid}\n`))
    );
    let sum = 0;
    this.#cumulative = PROCESSES.map((p) => (sum += p.weight));
    this.#totalWeight = sum;
    this.#intervalNs = options.rate > 0 ? 1e9 / options.rate : Infinity;
    this.#nextNs = this.#intervalNs;
  }

  get hits(): number {
    return this.#hits;
  }

  begin(): void {}

  advance(untilNs: number): void {
    const { cpus, sink } = this.#options;
    while (!this.#stopped && this.#nextNs <= untilNs) {
      const cpu = Math.floor(this.#random() * cpus);
      const w = this.#random() * this.#totalWeight;
      let process = 0;
      while (this.#cumulative[process] <= w) process++;
      const probe = this.#random() < 0.7 ? 0 : 1;
      sink.print(cpu, this.#lines[probe * PROCESSES.length + process]);
      this.#hits++;
      this.#nextNs += this.#intervalNs;
    }
  }

  end(): void {
    this.#stopped = true;
    this.#hits++;
    this.#options.sink.print(0, new TextEncoder().encode("exited\n"));
  }
}

/** The built-in script, ready to be loaded into a module. */
export const builtinWorkload: CompiledScript = {
  unsupported: [],
  instantiate: (options: RunOptions): ScriptRun => new BuiltinRun(options),
};
