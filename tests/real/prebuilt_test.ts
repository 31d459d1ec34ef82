/**
 * `stapfr build` with the real SystemTap, for a kernel whose build tree is installed (no module is loaded:
 * compiling needs no root and no running kernel of that release). The module's vermagic, read by stapfr's own
 * ELF reader, must name that kernel (and agree with modinfo(8) where it is installed); `start --module` of it
 * on a machine running another kernel must refuse with nothing loaded and nothing registered. Where the kernel
 * renamed task_work_cancel and the runtime is 4.8's, a build without the fixed runtime must be explained; a
 * build for a kernel without a build tree must say which headers to install. Skips with the reason where stap
 * or a kernel build tree is missing. Each compile takes 5–15 s on an idle 2-core machine (4 min under load).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { runCli } from "../support/stapfr.ts";
import { readModuleInfo } from "../../lib/driver/modinfo.ts";
import { listModules } from "../../lib/driver/kernel.ts";
import {
  buildTarget,
  kernelRenamedTaskWorkCancel,
  makeFixedRuntime,
  RUNTIME_DIR,
  runtimeCallsOldName,
} from "../support/stap_runtime.ts";

function stapMissing(): string | undefined {
  for (const path of ["/usr/bin/stap", `${RUNTIME_DIR}/stp_task_work.c`]) {
    try {
      Deno.statSync(path);
    } catch {
      return `${path} is missing (install systemtap)`;
    }
  }
  return undefined;
}

const target = buildTarget();
const reason = stapMissing() ??
  (target ? undefined : "no kernel build tree under /lib/modules (install linux-headers-amd64)");
if (reason) console.log(`real-prebuilt: skipped, ${reason}`);
const needsFix = target !== undefined && kernelRenamedTaskWorkCancel(target.build) && runtimeCallsOldName();

const SCRIPT = 'global n probe timer.ms(100) { printf("tick %d\\n", ++n) } probe end { printf("exited\\n") }';

Deno.test({
  name:
    "real SystemTap: build writes a module whose vermagic names the target kernel; start --module refuses it " +
    "on another kernel",
  ignore: reason !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stapfr-real-prebuilt-" });
    try {
      const { release } = target!;
      const fix = needsFix ? ["--", "-R", await makeFixedRuntime(`${dir}/runtime`)] : [];
      const started = performance.now();
      const built = await runCli([
        "--state-dir",
        `${dir}/state`,
        "--json",
        "build",
        "rb",
        "-e",
        SCRIPT,
        "--kernel",
        release,
        "--out-dir",
        `${dir}/mods`,
        ...fix,
      ]);
      console.log(`real-prebuilt: build took ${((performance.now() - started) / 1000).toFixed(1)} s`);
      assertEquals(built.code, 0, built.stderr);
      const result = JSON.parse(built.stdout);
      const ko = `${dir}/mods/stap_fr_rb.ko`;
      assertEquals(result.module_path, ko);
      assertEquals((await Deno.stat(ko)).mode! & 0o777, 0o644);
      assertEquals(result.description.kernel_release, release);
      assertMatch(result.description.systemtap_version, /^\d+\.\d+/);
      const info = await readModuleInfo(ko);
      assertEquals([info.name, info.release], ["stap_fr_rb", release]);
      assertEquals(info.entries.find(([k]) => k === "stapfr_bulk")?.[1], "1");
      assertEquals(info.entries.find(([k]) => k === "stapfr_counters")?.[1], "1");
      try {
        const modinfo = await new Deno.Command("modinfo", { args: ["-F", "vermagic", ko] }).output();
        if (modinfo.code === 0) {
          assertEquals(new TextDecoder().decode(modinfo.stdout).trim(), info.vermagic!.trim());
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }

      if (Deno.osRelease() === release) {
        console.log(
          `real-prebuilt: the running kernel is ${release}: the wrong-kernel refusal is not shown here`,
        );
        return;
      }
      const start = await runCli(["--state-dir", `${dir}/state`, "start", "rb", "--module", ko]);
      assertEquals(start.code, 1, start.stdout + start.stderr);
      assertEquals(
        start.stderr.split("\n")[0],
        `stapfr: Module "${ko}" was built for kernel "${release}", but this machine runs "${Deno.osRelease()}"`,
      );
      // Through the engine's reader: Deno reads /proc only with --allow-all, the reader falls back to cat.
      assert(!(await listModules("/proc")).some((m) => m.name === "stap_fr_rb"), "nothing loaded");
      const list = await runCli(["--state-dir", `${dir}/state`, "--json", "list"]);
      assertEquals(JSON.parse(list.stdout).recorders, [], "nothing registered");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "real SystemTap 4.8 on a kernel that renamed task_work_cancel: build explains the fix",
  ignore: reason !== undefined || !needsFix,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stapfr-real-prebuilt-" });
    try {
      const r = await runCli([
        "--state-dir",
        `${dir}/state`,
        "build",
        "rc",
        "-e",
        SCRIPT,
        "--kernel",
        target!.release,
        "--out-dir",
        `${dir}/mods`,
      ]);
      assertEquals(r.code, 1, r.stderr);
      const lines = r.stderr.split("\n");
      assertEquals(
        lines[0],
        'stapfr: Cannot build recorder "rc": SystemTap\'s runtime does not compile against this kernel ' +
          "(it calls task_work_cancel, which newer kernels renamed task_work_cancel_func)",
      );
      assertMatch(
        r.stderr,
        /-R DIR \(see docs\/prebuilt-modules\.md "The SystemTap 4\.8 runtime on current kernels"\)/,
      );
      assertEquals(await Array.fromAsync(Deno.readDir(`${dir}/mods`)), [], "nothing written");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "real SystemTap: build for a kernel without a build tree says which headers to install, and writes nothing",
  ignore: stapMissing() !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stapfr-real-prebuilt-" });
    try {
      const r = await runCli([
        "--state-dir",
        `${dir}/state`,
        "build",
        "rh",
        "-e",
        SCRIPT,
        "--kernel",
        "9.9.9-nosuch",
        "--out-dir",
        `${dir}/mods`,
      ]);
      assertEquals(r.code, 1, r.stderr);
      const lines = r.stderr.split("\n");
      assertEquals(
        lines[0],
        'stapfr: Cannot build recorder "rh": the kernel headers of kernel "9.9.9-nosuch" are missing',
      );
      assertMatch(r.stderr, /^ {2}\| Checking "\/lib\/modules\/9\.9\.9-nosuch\/build\/\.config" failed/m);
      assertMatch(r.stderr, /apt install linux-headers-9\.9\.9-nosuch\) and build again/);
      assertEquals(await Array.fromAsync(Deno.readDir(`${dir}/mods`)), [], "nothing written");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
