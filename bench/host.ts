/**
 * CPU cost of a module host process on real time (goal: at most 10 % of one core at 10,000 events/s):
 * utime+stime from /proc/PID/stat over 5 s, detached (overwrite on, nobody reading) and attached (this
 * process reads every traceN), against an idle host (rate 0) measured in the same run.
 * Prints `name: value unit (ratio R to BASELINE)`. Run: `deno run -A bench/host.ts`.
 * @module
 */
import { spawnModuleHost, unloadModule } from "../sim/module_host/host.ts";
import { moduleDir } from "../sim/kernel/procfs.ts";
import { encodeControl, Msg } from "../sim/kernel/transport.ts";

const SECONDS = 5;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Percent of one core used by `pid` over the measurement window, while `during` runs. */
async function measure(pid: number): Promise<number> {
  const before = await cpuTicks(pid);
  const start = performance.now();
  await sleep(SECONDS * 1000);
  const used = (await cpuTicks(pid)) - before;
  return (100 * used) / TICKS_PER_SECOND / ((performance.now() - start) / 1000);
}

/** Connects as a reader and drains every traceN until told to stop; returns the bytes read. */
function drain(dir: string, cpus: number): { stop: () => Promise<number> } {
  let bytes = 0;
  const conns: Deno.UnixConn[] = [];
  const ready = (async () => {
    const cmd = await Deno.connect({ transport: "unix", path: `${dir}/.cmd` });
    conns.push(cmd);
    await cmd.write(encodeControl(Msg.READY));
    for (let cpu = 0; cpu < cpus; cpu++) {
      conns.push(await Deno.connect({ transport: "unix", path: `${dir}/trace${cpu}` }));
    }
    await Promise.all(
      conns.slice(1).map(async (conn) => {
        const buf = new Uint8Array(256 * 1024);
        try {
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) bytes += n;
        } catch { /* closed */ }
      }),
    );
  })();
  return {
    stop: async () => {
      conns.forEach((c) => c.close());
      await ready.catch(() => {});
      return bytes;
    },
  };
}

async function hostRun(root: string, name: string, rate: number, attached: boolean): Promise<number> {
  const host = await spawnModuleHost({ root, module: name, rate, cpus: 2, seed: 1 });
  host.process.ref();
  try {
    const dir = moduleDir(root, name);
    // STP_START, as staprun -L does, then detach.
    const cmd = await Deno.connect({ transport: "unix", path: `${dir}/.cmd` });
    await cmd.write(encodeControl(Msg.START, new Uint8Array(8)));
    await sleep(100);
    cmd.close();
    await sleep(300);
    const reader = attached ? drain(dir, 2) : undefined;
    const percent = await measure(host.pid);
    const bytes = await reader?.stop();
    if (reader && bytes === 0) throw new Error("The reader got no data");
    await sleep(300);
    await unloadModule(root, name);
    return percent;
  } finally {
    try {
      host.process.kill("SIGKILL");
    } catch { /* unloaded */ }
    await host.process.status;
  }
}

const root = await Deno.makeTempDir({ prefix: "stapfr-bench-host-" });
try {
  const idle = await hostRun(root, "stap_bench_idle", 0, false);
  const detached = await hostRun(root, "stap_bench_detached", 10_000, false);
  const attached = await hostRun(root, "stap_bench_attached", 10_000, true);
  const ratio = (x: number) => (idle > 0 ? (x / idle).toFixed(1) : "inf");
  console.log(`host CPU idle (rate 0, detached): ${idle.toFixed(1)} % of one core`);
  console.log(
    `host CPU at 10000 events/s, detached: ${detached.toFixed(1)} % of one core (ratio ${
      ratio(detached)
    } to idle host)`,
  );
  console.log(
    `host CPU at 10000 events/s, attached and streaming: ${attached.toFixed(1)} % of one core (ratio ${
      ratio(attached)
    } to idle host)`,
  );
} finally {
  await Deno.remove(root, { recursive: true });
}
