/**
 * The engine on a real SystemTap that can load kernel modules: start, list, dump twice, stop, for a memory
 * recorder; start, rotation as asked, stop for a rotating file recorder. These tests run only where asked (`STAPFR_REAL_STAP=1`, as the GitHub
 * workflow's real-systemtap job does) and skip with the reason elsewhere: here no module can be loaded.
 */
import { assert, assertEquals } from "@std/assert";
import { runCli } from "../support/stapfr.ts";
import { until } from "../support/poll.ts";

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
      // Dump until two dumps have held ticks (each dump drains, so an empty one changes nothing): a second
      // dump that is empty would show nothing about repeats.
      const dumps: string[] = [];
      const ticks = (s: string) => [...s.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
      await until("two dumps holding ticks", async () => {
        const dump = await run("dump", "realmem");
        assertEquals(dump.code, 0, dump.stderr);
        dumps.push(dump.stdout);
        return dumps.filter((d) => ticks(d).length > 0).length >= 2;
      }, { timeoutMs: 60_000 });
      assert(dumps[0].startsWith("begin\n"), dumps[0].slice(0, 100));
      assert(!dumps.slice(1).some((d) => d.includes("begin\n")), "the begin line comes once");
      // No repeats: every tick number comes once across the dumps.
      const all = dumps.flatMap(ticks);
      assertEquals(new Set(all).size, all.length, `ticks repeat: ${all.join(" ")}`);
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
  name:
    "real SystemTap: file recorder rotating 1M,2 per CPU (switches, at most 2 files per CPU, ~1M each), stopped with its end-probe line",
  ignore: reason !== undefined,
  async fn() {
    const stateDir = await Deno.makeTempDir({ prefix: "stapfr-real-" });
    const out = await Deno.makeTempDir({ prefix: "stapfr-real-out-" });
    const run = (...args: string[]) => runCli(["--state-dir", stateDir, ...args]);
    try {
      // About 4 KB per hit on every CPU: a 1M file fills within a second or two.
      const chunk = "0123456789abcdef".repeat(16);
      const busy = `global s probe begin { s = "${chunk}" } ` +
        'probe timer.profile { printf("%s %d %s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s\\n", execname(), pid(), ' +
        "s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s) } " +
        'probe end { printf("exited\\n") }';
      const start = await run("start", "realfile", "-e", busy, "--output", out, "--rotate", "1M,2");
      assertEquals(start.code, 0, start.stderr);
      type Status = {
        state: string;
        bulk: boolean;
        files: { name: string; size: number; cpu: number | null }[];
      };
      const status = async () => JSON.parse((await run("--json", "status", "realfile")).stdout) as Status;
      // Rotation: some CPU's stream has switched twice (file .2 exists), so .0 was deleted (keep 2).
      const rotated = await until("a CPU stream at its third file", async () => {
        const s = await status();
        return s.files.some((f) => /\.2$/.test(f.name)) ? s : undefined;
      }, { timeoutMs: 60_000, intervalMs: 250 });
      assertEquals([rotated.state, rotated.bulk], ["recording", true]);
      const index = (name: string) => Number(/\.(\d+)$/.exec(name)?.[1]);
      const byCpu = Map.groupBy(rotated.files, (f) => f.cpu);
      for (const [cpu, files] of byCpu) {
        assert(cpu !== null, "bulk files name their CPU");
        assert(files.length <= 2, `CPU ${cpu} keeps ${files.map((f) => f.name)}`);
        // 4.8's bulk accounting lets a file pass the size by a few bytes per record, never by much.
        for (const f of files) assert(f.size <= 1024 * 1024 + 64 * 1024, `${f.name} holds ${f.size} bytes`);
      }
      // The older file of a CPU stream that switched was full: it reached 1 MiB, within a record.
      const older = [...byCpu.values()].filter((fs) => fs.length === 2)
        .map((fs) => fs.toSorted((a, b) => index(a.name) - index(b.name))[0]);
      assert(older.length > 0, "a CPU stream keeps two files");
      for (const f of older) assert(f.size >= 1024 * 1024 - 16 * 1024, `${f.name} holds ${f.size} bytes`);
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
