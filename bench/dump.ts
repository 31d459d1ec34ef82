/**
 * `stapfr dump` of a file recorder holding 1 GiB of text in 100 rotated files, as a whole process writing into
 * a pipe (a named one, drained by `wc -c` in another process), against `cat` of the same files into the same
 * kind of pipe: throughput (goal: at least 0.8 of cat's) and peak memory, the child's VmHWM from
 * /proc/PID/status (goal: at most 64 MiB). The dump's time includes its start (about 60 ms more than an empty
 * `deno run`: its modules, the registry, and the restart with SIGUSR1 blocked, lib/inspector_guard.ts).
 *
 * The dump sends the files into the pipe in the kernel (sendfile; docs/architecture.md "Dumping a text file
 * run"), after the line cleaner has checked them, and grows the pipe to 1 MiB first, as it does with any pipe
 * on its stdout; `cat` writes into the pipe as it finds it, 64 KiB. Into a pipe it cannot grow, the dump runs
 * at 0.7 to 0.8 of `cat`'s speed; the pipe's size is most of the difference (fewer calls and wake-ups).
 *
 * And a memory dump of a full 16 MiB × 2 ring on the simulator (read by sequence number through the record
 * pipeline, docs/loss-accounting.md), against `cat` of the same bytes into the same kind of pipe: MiB/s and the
 * ratio. The ring is filled by a script that stops writing once it has wrapped, so that the dump reads the ring
 * and nothing else (one line of 1 KiB a record: see memoryRing); the dump's idle wait (STAPFR_IDLE_MS, set low here) is part of its time.
 *
 * Run: npx -y deno@2.9.6 run -A bench/dump.ts   (STAPFR_BENCH_DUMP_MIB=N for another total size)
 */
import { PERMISSIONS } from "../lib/self.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { generate, registerFinished } from "./support/file_run.ts";

const TOTAL_MIB = Number(Deno.env.get("STAPFR_BENCH_DUMP_MIB") ?? 1024);
const FILES = 100;
const RUNS = 3;
const CLI = fromFileUrl(new URL("../cli.ts", import.meta.url));
const PERMS = PERMISSIONS;

async function readHwm(pid: number): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs argv with its stdout into a pipe drained by `cat > /dev/null` (as `stapfr dump NAME | consumer` would
 * be); returns seconds, bytes and the highest VmHWM seen while it ran.
 */
async function measure(
  argv: string[],
  env: Record<string, string>,
  fifo: string,
): Promise<{ seconds: number; hwm: number; bytes: number }> {
  const start = performance.now();
  const consumer = new Deno.Command("sh", {
    args: ["-c", 'wc -c < "$0"', fifo],
    stdout: "piped",
  }).spawn();
  // exec: the shell becomes the measured program, so its pid is the one to watch.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" > "$FIFO"', "sh", ...argv],
    env: { ...env, FIFO: fifo },
    stderr: "inherit",
  }).spawn();
  let hwm = 0;
  let done = false;
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  while (!done) {
    hwm = Math.max(hwm, (await readHwm(child.pid)) ?? 0);
    await new Promise((r) => setTimeout(r, 5));
  }
  const s = await status;
  const out = await consumer.output();
  const seconds = (performance.now() - start) / 1000;
  if (!s.success) throw new Error(`${argv.join(" ")} failed with ${s.code}`);
  return { seconds, hwm, bytes: Number(new TextDecoder().decode(out.stdout).trim()) };
}

const root = await Deno.makeTempDir({ prefix: "stapfr-bench-dump-" });
try {
  const name = "bench";
  const runDir = `${root}/out/${name}-run`;
  await Deno.mkdir(runDir, { recursive: true });
  const bytes = await generate(runDir, `${name}.out`, TOTAL_MIB, FILES);
  const stateDir = `${root}/state`;
  await Deno.mkdir(stateDir, { recursive: true });
  await registerFinished(stateDir, name, root, runDir, bytes, FILES);
  const files = Array.from({ length: FILES }, (_, i) => `${runDir}/${name}.out.${i}`);
  const env = { STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: stateDir };
  const stapfr = [Deno.execPath(), "run", "--quiet", ...PERMS, CLI, "--sim", "dump", name];
  const cat = ["cat", ...files];
  const fifo = `${root}/pipe`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  if (!made.success) throw new Error("mkfifo failed");
  const best = { stapfr: Infinity, cat: Infinity, stapfrHwm: 0, catHwm: 0 };
  for (let i = 0; i < RUNS; i++) {
    const c = await measure(cat, env, fifo);
    const s = await measure(stapfr, env, fifo);
    if (s.bytes !== bytes || c.bytes !== bytes) {
      throw new Error(`Read ${s.bytes} and ${c.bytes} of ${bytes} bytes`);
    }
    best.cat = Math.min(best.cat, c.seconds);
    best.stapfr = Math.min(best.stapfr, s.seconds);
    best.catHwm = Math.max(best.catHwm, c.hwm);
    best.stapfrHwm = Math.max(best.stapfrHwm, s.hwm);
  }
  const mib = bytes / (1 << 20);
  const throughput = mib / best.stapfr;
  const catThroughput = mib / best.cat;
  console.log(
    `dump ${mib.toFixed(0)} MiB in ${FILES} files: ${throughput.toFixed(0)} MiB/s (ratio ${
      (throughput / catThroughput).toFixed(2)
    } to cat at ${catThroughput.toFixed(0)} MiB/s; goal >= 0.8)`,
  );
  console.log(
    `dump peak memory (VmHWM): ${(best.stapfrHwm / (1 << 20)).toFixed(1)} MiB (ratio ${
      (best.stapfrHwm / Math.max(1, best.catHwm)).toFixed(1)
    } to cat at ${(best.catHwm / (1 << 20)).toFixed(1)} MiB; goal <= 64 MiB)`,
  );
} finally {
  await Deno.remove(root, { recursive: true });
}

/** A full 2 × 16 MiB memory ring on the simulator, dumped, against cat of the bytes the dump printed. */
async function memoryRing(): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-bench-ring-" });
  const env = {
    STAPFR_SIM_ROOT: root,
    STAPFR_STATE_DIR: `${root}/state`,
    STAPFR_SIM_CPUS: "2",
    STAPFR_SIM_RATE: "200000",
    STAPFR_IDLE_MS: "300",
  };
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "--quiet", ...PERMS, CLI, "--sim", ...args], env })
      .output();
  // One 1016-byte line a read event, 40,000 of them (40 MB): 2 × 16 MiB wrap within seconds; then the script
  // goes quiet. A record is one probe's output (its prints are flushed once, in pieces of up to 8 KiB), and one
  // line with its 8-byte header fills a quarter of a 4 KiB page, so the 4.8 ring's first read of the wrapped ring
  // starts on a record. Of records that straddle pages (several lines a probe) it drops everything it holds
  // (docs/loss-accounting.md "Where records are lost", items 1–3): the dump would measure nothing.
  const script = 'global n probe vfs.read { if (n++ < 40000) printf("%d %01013d\\n", cpu(), n) }';
  try {
    const started = await run("start", "ring", "-e", script, "--buffer", "16M");
    if (!started.success) throw new Error(new TextDecoder().decode(started.stderr));
    // About time: until the script has stopped writing (40,000 events at this rate, well within this).
    await new Promise((r) => setTimeout(r, 20_000));
    const fifo = `${root}/pipe`;
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    const copy = `${root}/dumped.txt`;
    const saved = await run("dump", "ring", "-o", copy);
    if (!saved.success) throw new Error(new TextDecoder().decode(saved.stderr));
    const bytes = (await Deno.stat(copy)).size;
    // The ring is drained now: refill it the same way for the measured dump.
    await run("stop", "--discard", "ring");
    await run("start", "ring", "-e", script, "--buffer", "16M");
    await new Promise((r) => setTimeout(r, 20_000));
    const d = await measure(
      [Deno.execPath(), "run", "--quiet", ...PERMS, CLI, "--sim", "dump", "ring"],
      env,
      fifo,
    );
    const c = await measure(["cat", copy], env, fifo);
    const mib = (n: number) => n / (1 << 20);
    console.log(
      `memory dump of a full 16 MiB × 2 ring (${mib(d.bytes).toFixed(1)} MiB, first fill ${
        mib(bytes).toFixed(1)
      } MiB): ` +
        `${(mib(d.bytes) / d.seconds).toFixed(0)} MiB/s in ${d.seconds.toFixed(2)} s (ratio ${
          ((mib(d.bytes) / d.seconds) / (mib(c.bytes) / c.seconds)).toFixed(2)
        } to cat of the same bytes at ${(mib(c.bytes) / c.seconds).toFixed(0)} MiB/s); peak memory ${
          mib(d.hwm).toFixed(1)
        } MiB`,
    );
  } finally {
    await run("stop", "--discard", "ring").catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}

await memoryRing();
