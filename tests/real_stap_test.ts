/**
 * The engine on a real SystemTap that can load kernel modules: start, list, dump twice, stop, for a memory
 * recorder and a rotating file recorder. These tests run only where asked (`STAPFR_REAL_STAP=1`, as the GitHub
 * workflow's real-systemtap job does) and skip with the reason elsewhere: here no module can be loaded.
 */
import { assert, assertEquals } from "@std/assert";
import { runCli } from "./helpers.ts";

function whyNot(): string | undefined {
  if (Deno.env.get("STAPFR_REAL_STAP") !== "1") return "STAPFR_REAL_STAP=1 is not set";
  if (Deno.uid() !== 0) return "loading kernel modules needs root";
  const release = Deno.osRelease();
  try {
    Deno.statSync(`/lib/modules/${release}/build`);
  } catch {
    return `no kernel build tree for ${release} (install linux-headers-${release})`;
  }
  try {
    Deno.statSync("/usr/bin/stap");
  } catch {
    return "stap is not installed";
  }
  return undefined;
}

const reason = whyNot();
if (reason) console.log(`real-stap: skipped, ${reason}`);

const SCRIPT = 'probe begin { printf("begin\\n") } probe timer.ms(100) { printf("tick %d\\n", ++n) } ' +
  'global n probe end { printf("exited\\n") }';

Deno.test({
  name: "real SystemTap: memory recorder started, dumped twice without repeats, stopped",
  ignore: reason !== undefined,
  async fn() {
    const stateDir = await Deno.makeTempDir({ prefix: "stapfr-real-" });
    const run = (...args: string[]) => runCli(["--state-dir", stateDir, ...args]);
    try {
      const start = await run("start", "realmem", "-e", SCRIPT, "--buffer", "1M");
      assertEquals(start.code, 0, start.stderr);
      const list = JSON.parse((await run("--json", "list")).stdout);
      assertEquals(list.recorders.map((r: { name: string; state: string }) => [r.name, r.state]), [
        ["realmem", "recording"],
      ]);
      await new Promise((r) => setTimeout(r, 1500));
      const first = await run("dump", "realmem");
      const second = await run("dump", "realmem");
      assertEquals([first.code, second.code], [0, 0], first.stderr + second.stderr);
      assert(first.stdout.startsWith("begin\n"), first.stdout.slice(0, 100));
      const ticks = (s: string) => s.split("\n").filter((l) => l.startsWith("tick "));
      const seen = new Set(ticks(first.stdout));
      assertEquals(ticks(second.stdout).filter((l) => seen.has(l)), [], "the second dump repeats nothing");
      const stop = await run("stop", "realmem");
      assertEquals(stop.code, 0, stop.stderr);
      assertEquals(stop.stdout.trimEnd().split("\n").at(-1), "exited");
      assertEquals(Deno.readTextFileSync("/proc/modules").includes("stap_fr_realmem "), false);
    } finally {
      await run("stop", "realmem", "--discard");
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "real SystemTap: file recorder rotating 1M,2 per CPU, stopped with its end-probe line",
  ignore: reason !== undefined,
  async fn() {
    const stateDir = await Deno.makeTempDir({ prefix: "stapfr-real-" });
    const out = await Deno.makeTempDir({ prefix: "stapfr-real-out-" });
    const run = (...args: string[]) => runCli(["--state-dir", stateDir, ...args]);
    try {
      const busy = 'probe timer.profile { printf("%s %d %s\\n", execname(), pid(), "x" . "y") } ' +
        'probe end { printf("exited\\n") }';
      const start = await run("start", "realfile", "-e", busy, "--output", out, "--rotate", "1M,2");
      assertEquals(start.code, 0, start.stderr);
      await new Promise((r) => setTimeout(r, 3000));
      const status = JSON.parse((await run("--json", "status", "realfile")).stdout);
      assertEquals(status.state, "recording");
      const stop = await run("stop", "realfile");
      assertEquals(stop.code, 0, stop.stderr);
      assertEquals(stop.stdout.trimEnd().split("\n").at(-1), "exited");
    } finally {
      await run("stop", "realfile", "--discard");
      await Deno.remove(stateDir, { recursive: true });
      await Deno.remove(out, { recursive: true });
    }
  },
});
