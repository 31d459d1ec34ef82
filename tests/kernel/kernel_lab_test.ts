/**
 * The kernel lab (docs/kernel-lab.md): boots the machine's Debian kernel under QEMU on the machine's own root,
 * runs the scenarios of scenarios.ts there through the stapfr CLI with modules compiled on the host, runs the
 * same scenarios on the simulator, and compares what a user sees. Skips, saying why, where QEMU, the kernel,
 * its headers, a static busybox or SystemTap are missing.
 */
import { assert } from "@std/assert";
import { killAndWait } from "../support/processes.ts";
import { compareSides, type Comparison, intendedDifferences } from "./compare.ts";
import { buildModules } from "./compile.ts";
import { bootGuest, jobScript } from "./guest.ts";
import type { GuestPlan } from "./guest_main.ts";
import { GUEST_XFER, writeInitramfs } from "./initramfs.ts";
import { labMachine } from "./machine.ts";
import { runScenarios, type ScenarioResult } from "./runner.ts";
import { fixedRuntime } from "./runtime_fix.ts";
import { MODULES, SCENARIOS } from "./scenarios.ts";
import { bundleArgv, simSide, TIMING } from "./sides.ts";
import { buildBundle } from "../support/artifact.ts";
import { PERMISSIONS } from "../../lib/self.ts";

const machine = labMachine();
const reason = "missing" in machine ? machine.missing : undefined;
if (reason) console.log(`kernel: skipped, ${reason}`);

/** `KERNEL_LAB_ONLY=id,id` runs only those scenarios (for working on one). */
const only = (Deno.env.get("KERNEL_LAB_ONLY") ?? "").split(",").filter(Boolean);
const scenarios = SCENARIOS.filter((s) => only.length === 0 || only.includes(s.id));
/** The guest's time limit: QEMU is killed when it passes, whatever the guest is doing. */
const GUEST_LIMIT_S = 1200;

function log(text: string): void {
  console.log(`kernel: ${text}`);
}

/** The simulator's leftovers: module hosts and stapio daemons, as tests/support/sim_world.ts finds them. */
async function simLeftovers(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const [dir, file] of [[`${root}/proc/systemtap`, "host.pid"], [`${root}/state`, ""]]) {
    try {
      for await (const e of Deno.readDir(dir)) {
        try {
          if (file) pids.push(Number((await Deno.readTextFile(`${dir}/${e.name}/${file}`)).trim()));
          else if (e.name.endsWith(".json")) {
            pids.push(JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`)).pid);
          }
        } catch {
          // Not one of them.
        }
      }
    } catch {
      // Nothing there.
    }
  }
  return pids.filter((p) => typeof p === "number" && p > 0);
}

Deno.test({
  name: "kernel lab: the scenarios on the real kernel (QEMU) and on the simulator agree",
  ignore: reason !== undefined,
  async fn() {
    if ("missing" in machine) return;
    const started = Date.now();
    const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
    const tmp = await Deno.makeTempDir({ prefix: "stapfr-kernel-lab-" });
    const xfer = `${tmp}/xfer`;
    const deno = Deno.execPath();
    try {
      await Deno.mkdir(`${xfer}/modules`, { recursive: true });
      const runtime = await fixedRuntime(`${tmp}/runtime`);
      await writeInitramfs(`${tmp}/initrd.gz`, {
        busybox: machine.busybox,
        modulesDir: machine.kernel.modules,
      });
      // The bundle, what a server gets: both sides run it (the build host below too). On the scratch share
      // the guest sees it with no source tree or deno.json beside it.
      const bundle = `${xfer}/stapfr.js`;
      await buildBundle(bundle);
      // Deno's cache for the guest's lab program, warmed here: the guest copies it into its writable overlay.
      const denoDir = { DENO_DIR: `${xfer}/deno`, DENO_NO_UPDATE_CHECK: "1" };
      const cached = await new Deno.Command(deno, {
        args: ["cache", "--quiet", new URL("./guest_main.ts", import.meta.url).pathname],
        env: denoDir,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert(cached.success, new TextDecoder().decode(cached.stderr));

      // The real modules compile while the simulator runs its side (both cores busy either way).
      const realBuild = buildModules({
        stapfr: bundleArgv(deno, bundle, PERMISSIONS),
        env: {
          ...TIMING,
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/root",
        },
        modules: MODULES,
        outDir: `${xfer}/modules`,
        kernel: machine.kernel.release,
        stapArgs: ["-R", runtime],
      });
      /**
       * One run of the scenarios on both sides, each from a fresh state: the simulator's in `dir`, the guest
       * booted anew. `build` is the real modules' compilation, when it is still going on (the first run).
       */
      const runBothSides = async (dir: string, build?: ReturnType<typeof buildModules>) => {
        const simRoot = `${dir}/sim`;
        await Deno.mkdir(`${simRoot}/modules`, { recursive: true });
        // What the guest reports: never an earlier run's.
        await Deno.remove(`${xfer}/results.json`).catch(() => {});
        await Deno.mkdir(`${dir}/sim-out`);
        const side = simSide({ root: simRoot, modules: `${simRoot}/modules`, out: `${dir}/sim-out`, bundle });
        const simRun = (async () => {
          await buildModules({ stapfr: side.stapfr, env: side.env, modules: MODULES, outDir: side.modules });
          return await runScenarios(side, scenarios, (line) => log(line));
        })();
        const [built, sim] = await Promise.all([build, simRun]);
        if (built) {
          log(
            `modules built for ${machine.kernel.release}: ${
              built.map((b) => `${b.name} ${b.seconds} s`).join(", ")
            }`,
          );
        }
        log(`simulator side done at ${seconds()} s`);
        const plan: GuestPlan = {
          deno,
          stapfr: `${GUEST_XFER}/stapfr.js`,
          home: "/root",
          denoDir: "/var/tmp/stapfr-lab-deno",
          modules: `${GUEST_XFER}/modules`,
          out: "/var/tmp/stapfr-lab-out",
          stateDir: "/var/tmp/stapfr-lab-state",
          results: `${GUEST_XFER}/results.json`,
          only: scenarios.map((s) => s.id),
        };
        await Deno.writeTextFile(`${xfer}/plan.json`, JSON.stringify(plan));
        let partial = "";
        const guest = await bootGuest({
          qemu: machine.qemu,
          kernel: machine.kernel,
          initrd: `${tmp}/initrd.gz`,
          scratch: xfer,
          job: jobScript({
            deno,
            program: new URL("./guest_main.ts", import.meta.url).pathname,
            plan: `${GUEST_XFER}/plan.json`,
            xfer: GUEST_XFER,
          }),
          limitSeconds: GUEST_LIMIT_S,
          onConsole: (text) => {
            // The guest's progress lines, as they come.
            partial += text.replaceAll("\r", "");
            const lines = partial.split("\n");
            partial = lines.pop()!;
            for (const line of lines) {
              if (line.startsWith("lab-guest: ")) log(line.slice("lab-guest: ".length));
            }
          },
        });
        log(
          `guest ended after ${guest.seconds.toFixed(0)} s (status ${guest.status}${
            guest.timedOut ? ", time limit" : ""
          })`,
        );
        let real: ScenarioResult[] = [];
        try {
          real = JSON.parse(await Deno.readTextFile(`${xfer}/results.json`));
        } catch {
          // The guest reported nothing: the comparison below says which scenarios are missing.
        }
        const doc = await Deno.readTextFile(new URL("../../docs/kernel-lab.md", import.meta.url)).catch(() =>
          ""
        );
        const intended = intendedDifferences(doc);
        const c = compareSides(real, sim, scenarios.map((s) => s.id), intended);
        for (const d of c.differences) {
          log(`${d.intended ? "intended difference" : "DISAGREE"} in ${d.scenario}: ${d.step}`);
          log(`  real: ${JSON.stringify(d.real)}`);
          log(`  sim:  ${JSON.stringify(d.sim)}`);
          log(`  info: real ${JSON.stringify(d.info?.real).slice(0, 1500)}`);
          log(`        sim ${JSON.stringify(d.info?.sim).slice(0, 1500)}`);
          if (d.intended) log(`  why:  ${d.intended}`);
        }
        for (const u of c.unmet) log(`unmet: ${u}`);
        const agreeLine = `kernel: ${c.agree.length}/${c.total} scenarios agree (real kernel vs simulator)`;
        console.log(agreeLine);
        log(`lab time ${seconds()} s`);
        if (Deno.env.get("KERNEL_LAB_KEEP")) {
          await Deno.writeTextFile(
            `${Deno.env.get("KERNEL_LAB_KEEP")}${dir.endsWith("run1") ? "" : ".2"}`,
            JSON.stringify({ real, sim, guest: guest.console.slice(-20000) }),
          );
        }
        return { comparison: c, guest, simRoot };
      };
      /** Whether a run of the lab is a pass: every scenario agrees, or differs only as documented, and met. */
      const passed = (c: Comparison) => c.differences.every((d) => d.intended) && c.unmet.length === 0;
      let run = await runBothSides(`${tmp}/run1`, realBuild);
      if (!passed(run.comparison)) {
        // An emulated kernel on a busy two-core machine: a timing case now and then. The disagreement above stays
        // in the log; only a second one fails the test (docs/kernel-lab.md "A second run").
        log("the sides did not agree on everything: the lab runs once more, both sides from the start");
        await killAndWait(await simLeftovers(run.simRoot));
        run = await runBothSides(`${tmp}/run2`);
      }
      const { comparison: c, guest } = run;
      assert(
        guest.status === 0,
        `the guest's job ended with status ${guest.status}:\n${guest.console.slice(-4000)}`,
      );
      assert(c.total >= (only.length ? 1 : 16), `only ${c.total} scenarios`);
      const unintended = c.differences.filter((d) => !d.intended);
      assert(unintended.length === 0, `${unintended.length} unintended differences (see above)`);
      assert(c.unmet.length === 0, `${c.unmet.length} expectations unmet (see above)`);
    } finally {
      for (const run of ["run1", "run2"]) await killAndWait(await simLeftovers(`${tmp}/${run}/sim`));
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
