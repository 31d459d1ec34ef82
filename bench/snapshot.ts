/**
 * `stapfr snapshot` against `stapfr dump` of the same data, as whole processes:
 * - a file recorder holding 1 GiB in 100 rotated files: the first snapshot (which hashes every file once) and a
 *   second one (closed files are hard-linked and their hashes come from the cache: independent of size), each
 *   as a ratio to a dump of the run into a pipe; and the second snapshot of a run a quarter the size, to show
 *   that it does not grow with the run;
 * - a memory recorder on the simulator whose 16 MiB × 2 ring is full: snapshot against dump, each of a freshly
 *   filled ring.
 *
 * Run: npx -y deno@2.9.6 run -A bench/snapshot.ts   (STAPFR_BENCH_SNAPSHOT_MIB=N for another file-run size)
 */
import { PERMISSIONS } from "../lib/self.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { generate, registerFinished } from "./support/file_run.ts";

const TOTAL_MIB = Number(Deno.env.get("STAPFR_BENCH_SNAPSHOT_MIB") ?? 1024);
const FILES = 100;
const CLI = fromFileUrl(new URL("../cli.ts", import.meta.url));

async function timed(argv: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command("sh", {
    args: ["-c", 'exec "$@" > /dev/null', "sh", ...argv],
    env,
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${argv.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return (performance.now() - start) / 1000;
}

function stapfr(...args: string[]): string[] {
  return [Deno.execPath(), "run", "--quiet", ...PERMISSIONS, CLI, "--sim", ...args];
}

/** A finished file run of `mib` MiB: seconds for dump, first snapshot, second snapshot. */
async function fileRun(mib: number): Promise<{ dump: number; first: number; second: number }> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-bench-snapshot-" });
  try {
    const name = "bench";
    const runDir = `${root}/out/${name}-run`;
    await Deno.mkdir(runDir, { recursive: true });
    const bytes = await generate(runDir, `${name}.out`, mib, FILES);
    const stateDir = `${root}/state`;
    await Deno.mkdir(stateDir, { recursive: true });
    await registerFinished(stateDir, name, root, runDir, bytes, FILES);
    const env = { STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: stateDir };
    const dump = await timed(stapfr("dump", name), env);
    const first = await timed(stapfr("snapshot", name), env);
    const second = await timed(stapfr("snapshot", name), env);
    return { dump, first, second };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A memory recorder whose 2 × 16 MiB ring is refilled before each measured read. */
async function memoryRing(): Promise<{ dump: number; snapshot: number; bytes: number }> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-bench-ring-" });
  const env = {
    STAPFR_SIM_ROOT: root,
    STAPFR_STATE_DIR: `${root}/state`,
    STAPFR_SIM_CPUS: "2",
    STAPFR_SIM_RATE: "200000",
  };
  // Every CPU prints 300 lines of 100 bytes per profile tick: 2 × 16 MiB fill within seconds.
  const script = 'probe timer.profile { for (i = 0; i < 300; i++) printf("%d %090d\\n", cpu(), i) }';
  const fill = () => new Promise((r) => setTimeout(r, 15_000));
  try {
    await timed(stapfr("start", "ring", "-e", script, "--buffer", "16M"), env);
    await fill();
    const dump = await timed(stapfr("dump", "ring"), env);
    await fill();
    const snapshot = await timed(stapfr("snapshot", "ring"), env);
    const list = await new Deno.Command(stapfr("--json", "snapshots")[0], {
      args: stapfr("--json", "snapshots").slice(1),
      env,
    }).output();
    const bytes = JSON.parse(new TextDecoder().decode(list.stdout)).snapshots[0].bytes as number;
    return { dump, snapshot, bytes };
  } finally {
    await timed(stapfr("stop", "--discard", "ring"), env).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}

const big = await fileRun(TOTAL_MIB);
const small = await fileRun(TOTAL_MIB / 4);
const r = (a: number, b: number) => (a / b).toFixed(2);
console.log(
  `snapshot of a ${TOTAL_MIB} MiB file run, first (hashes every file): ${big.first.toFixed(2)} s ` +
    `(ratio ${r(big.first, big.dump)} to dump at ${big.dump.toFixed(2)} s)`,
);
console.log(
  `snapshot of a ${TOTAL_MIB} MiB file run, again (links, cached hashes): ${big.second.toFixed(2)} s ` +
    `(ratio ${r(big.second, big.dump)} to dump; ratio ${r(big.second, small.second)} to the same of a ${
      TOTAL_MIB / 4
    } MiB run: independent of size)`,
);
const ring = await memoryRing();
console.log(
  `snapshot of a full 16 MiB × 2 ring (${(ring.bytes / (1 << 20)).toFixed(1)} MiB): ${
    ring.snapshot.toFixed(2)
  } s ` +
    `(ratio ${r(ring.snapshot, ring.dump)} to dump at ${ring.dump.toFixed(2)} s)`,
);
