/**
 * The watcher's own CPU use, as a share of one core, from its /proc/PID/stat user+system time: idle (a signal,
 * a log and a pressure trigger watching, nothing firing) and while 10 triggers a second are evaluated (`stapfr trigger`
 * requests over its socket, all but the first suppressed by the cooldown), each over 20 s, with an idle `deno` process measured the same
 * way as the baseline.
 *
 * Run: npx -y deno@2.9.6 run -A bench/watch.ts
 */
import { PERMISSIONS } from "../lib/self.ts";
import { sendTrigger } from "../lib/watch/trigger_socket.ts";
import { fileURLToPath as fromFileUrl } from "node:url";

const CLI = fromFileUrl(new URL("../cli.ts", import.meta.url));
const SECONDS = 20;
const TICKS = 100; // USER_HZ on Linux

async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** CPU share of one core used by `pid` over `seconds`, while `during` runs. */
async function share(pid: number, seconds: number, during?: () => void): Promise<number> {
  const t0 = await cpuTicks(pid);
  const start = performance.now();
  const timer = during ? setInterval(during, 100) : undefined;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  if (timer !== undefined) clearInterval(timer);
  const used = (await cpuTicks(pid)) - t0;
  return used / TICKS / ((performance.now() - start) / 1000);
}

const root = await Deno.makeTempDir({ prefix: "stapfr-bench-watch-" });
const env = { STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: `${root}/state` };
const stapfr = (...args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMISSIONS, CLI, "--sim", ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  });
try {
  await stapfr("start", "w", "-e", 'probe timer.s(1) { printf("tick\\n") }').output();
  await Deno.mkdir(`${root}/proc/pressure`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/proc/pressure/memory`,
    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
  );
  await Deno.writeTextFile(`${root}/app.log`, "");
  const watcher = stapfr(
    "watch",
    "w",
    "--on",
    "signal",
    "--on",
    "log",
    `${root}/app.log`,
    "ERROR",
    "--on",
    "pressure",
    "memory",
    "some",
    "avg10>40",
    "--cooldown",
    "1h",
  ).spawn();
  const baseline = new Deno.Command(Deno.execPath(), {
    args: ["eval", "setInterval(() => {}, 1000)"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 5000)); // both started and settled
    const [idle, base] = await Promise.all([share(watcher.pid, SECONDS), share(baseline.pid, SECONDS)]);
    const socket = `${root}/state/w.trigger.sock`;
    const busy = await share(watcher.pid, SECONDS, () => void sendTrigger(socket, "bench").catch(() => {}));
    console.log(
      `watcher idle (signal, log, pressure triggers): ${(idle * 100).toFixed(2)}% of one core ` +
        `(idle deno baseline ${(base * 100).toFixed(2)}%)`,
    );
    console.log(`watcher at 10 triggers/s evaluated: ${(busy * 100).toFixed(2)}% of one core`);
  } finally {
    for (const c of [watcher, baseline]) {
      try {
        c.kill("SIGTERM");
      } catch { /* gone */ }
      await c.status;
    }
  }
} finally {
  await stapfr("stop", "--discard", "w").output();
  await Deno.remove(root, { recursive: true });
}
