/**
 * Benchmarks of the simulated user side (stapio): the writer with the 4.8 merge, against writing the same
 * payloads straight into a file; and the in-process simulator reading while attached, against the module
 * alone. Prints `name: value unit (ratio R to BASELINE)`, the baseline measured in the same run.
 * @module
 */
import { SequenceMerger } from "../sim/stapio/merge.ts";
import { MemoryFile, MemoryOutputFs } from "../sim/stapio/output_fs.ts";
import { StapioWriter } from "../sim/stapio/writer.ts";
import { Simulator } from "../sim/simulator.ts";

const RECORDS = 300_000;
const payload = new TextEncoder().encode("vfs.read**postgres: app appdb [local] SELECT**7121\n");

function perSecond(count: number, ms: number): number {
  return Math.round(count / (ms / 1000));
}

function baselineFile(): number {
  const file = new MemoryFile();
  const t0 = performance.now();
  let off = 0;
  for (let i = 0; i < RECORDS; i++) {
    file.writeAt(off, payload);
    off += payload.length;
    if (off > 1 << 20) off = 0;
  }
  return perSecond(RECORDS, performance.now() - t0);
}

function writerWithMerge(): number {
  const fs = new MemoryOutputFs();
  const writer = new StapioWriter({
    outfile: "/b/out",
    bulk: false,
    cpus: 2,
    fs,
    now: () => new Date(0),
    rotation: { sizeLimit: 1 << 20, fileCount: 2 },
  });
  writer.open();
  const merger = new SequenceMerger(2, 0);
  const t0 = performance.now();
  for (let i = 1; i <= RECORDS; i++) {
    merger.push(i % 2, { seq: i, payload }, i);
    for (const { cpu, record } of merger.take(i)) writer.write(cpu, record);
  }
  return perSecond(RECORDS, performance.now() - t0);
}

function simulatorVirtualSeconds(attached: boolean): number {
  const sim = new Simulator({ seed: 1, rate: 20_000, stall: 0 });
  sim.load("b", 'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) }');
  const reader = attached ? sim.attach("b") : undefined;
  const t0 = performance.now();
  sim.advance(5_000);
  const ms = performance.now() - t0;
  reader?.detach();
  return +(5 / (ms / 1000)).toFixed(2);
}

const base = baselineFile();
const merged = writerWithMerge();
console.log(`file write baseline: ${base} records/s`);
console.log(
  `stapio writer with merge and -S 1,2: ${merged} records/s (ratio ${
    (merged / base).toFixed(2)
  } to file write baseline)`,
);
const alone = simulatorVirtualSeconds(false);
const read = simulatorVirtualSeconds(true);
console.log(`simulator module alone at 20000 events/s: ${alone} virtual s per wall s`);
console.log(
  `simulator attached reader at 20000 events/s: ${read} virtual s per wall s (ratio ${
    (read / alone).toFixed(2)
  } to module alone)`,
);
