/**
 * Interpreter throughput: probe hits per second of wall time of the seed script on virtual time, one core,
 * with every record copied into a preallocated ring (as the simulated module's relay buffer does), against a
 * baseline that writes the same records into the same ring with nothing else.
 *
 * Times are CPU time of this process (one core: the interpreter is single-threaded), not wall time, so that
 * other work on the machine does not skew the figures.
 *
 * Run: npx -y deno@2.9.6 run -A bench/interp.ts
 * @module
 */
import { cpuUsage } from "node:process";
import { compileScript } from "../sim/lang/mod.ts";

/** CPU time of this process in ms (user + system): robust when other processes share the cores. */
function cpuMs(): number {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
}

const SEED_SCRIPT =
  'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) } probe end { printf("exited\\n") }';
const RING_SIZE = 16 << 20;
const ring = new Uint8Array(RING_SIZE);
let head = 0;

function ringWrite(bytes: Uint8Array): void {
  const n = bytes.length;
  if (head + n > RING_SIZE) head = 0;
  ring.set(bytes, head);
  head += n;
}

function measureInterpreter(virtualSeconds: number, keep: Uint8Array[] | null): { hits: number; ms: number } {
  const run = compileScript(SEED_SCRIPT).instantiate({
    cpus: 1,
    seed: 42,
    rate: 1_000_000,
    sink: {
      print: (_cpu, bytes) => {
        ringWrite(bytes);
        if (keep !== null && keep.length < 200_000) keep.push(bytes);
      },
      warning() {},
      error() {},
      exit() {},
    },
  });
  const t0 = cpuMs();
  run.begin();
  const step = 10e6;
  for (let t = step; t <= virtualSeconds * 1e9; t += step) run.advance(t);
  run.end();
  return { hits: run.hits, ms: cpuMs() - t0 };
}

// Warm-up (JIT), then the measured runs.
const sample: Uint8Array[] = [];
measureInterpreter(0.5, sample);
let best = 0;
let events = 0;
for (let i = 0; i < 3; i++) {
  const r = measureInterpreter(2, null);
  events = r.hits;
  best = Math.max(best, (r.hits / r.ms) * 1000);
}

// Baseline: the same records, copied into the same ring, in a tight loop.
let baseline = 0;
for (let round = 0; round < 3; round++) {
  const t0 = cpuMs();
  let n = 0;
  while (n < events) {
    for (let i = 0; i < sample.length && n < events; i++, n++) ringWrite(sample[i]);
  }
  baseline = Math.max(baseline, (n / (cpuMs() - t0)) * 1000);
}

const fmt = (v: number) => Math.round(v).toLocaleString("en-US").replace(/,/g, "");
console.log(
  `interp_seed_hits_per_s: ${fmt(best)} hits/s (ratio ${
    (best / baseline).toFixed(3)
  } to ring_write_baseline)`,
);
console.log(`ring_write_baseline: ${fmt(baseline)} records/s (ratio 1.000 to ring_write_baseline)`);
