/**
 * Relay ring throughput: records of 100-byte payloads written into the per-CPU rings (overwrite on, as while
 * detached) and read back, against the baseline of copying the same payloads into one Uint8Array.
 * Prints `name: value unit (ratio R to BASELINE)`. Run: `deno run -A bench/relay.ts`.
 * @module
 */
import { RelayBuffers } from "../sim/kernel/relay.ts";

const RECORDS = 5_000_000;
const PAYLOAD = 100;
const payloads = Array.from({ length: 64 }, (_, i) => new Uint8Array(PAYLOAD).fill(i));

function rate(run: () => void): number {
  run(); // warm-up
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return RECORDS / (best / 1000);
}

const copyTarget = new Uint8Array(16 * 1024 * 1024);
const copyRate = rate(() => {
  let at = 0;
  for (let i = 0; i < RECORDS; i++) {
    if (at + PAYLOAD > copyTarget.length) at = 0;
    copyTarget.set(payloads[i & 63], at);
    at += PAYLOAD;
  }
});

const relay = new RelayBuffers(2, 16 * 1024 * 1024);
relay.overwrite = true;
const writeRate = rate(() => {
  for (let i = 0; i < RECORDS; i++) relay.write(i & 1, payloads[i & 63]);
});

const reader = new RelayBuffers(1, 16 * 1024 * 1024);
const out = new Uint8Array(256 * 1024);
const writeReadRate = rate(() => {
  for (let i = 0; i < RECORDS; i++) {
    reader.write(0, payloads[i & 63]);
    if ((i & 1023) === 1023) { while (reader.read(0, out) > 0); }
  }
  while (reader.read(0, out) > 0);
});

const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M records/s`;
console.log(`copy baseline (100-byte payloads into one Uint8Array): ${fmt(copyRate)}`);
console.log(
  `relay write, 2 CPUs, overwrite on: ${fmt(writeRate)} (ratio ${(writeRate / copyRate).toFixed(2)} to copy)`,
);
console.log(
  `relay write + read, 1 CPU, read every 1024 records: ${fmt(writeReadRate)} (ratio ${
    (writeReadRate / copyRate).toFixed(2)
  } to copy)`,
);
