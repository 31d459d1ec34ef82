/**
 * Parity of the preprocessor with `stap -p1` on `%( CONDITION %? … %: … %)`: for each condition, the branch
 * kept (or the error given) must be the same. The kept branch shows in stap's parse-tree dump as
 * `probe begin` (then) or `probe end` (else). Skips when `stap` is not installed.
 */

import { assertEquals } from "@std/assert";
import { checkScript } from "../../sim/lang/check.ts";
import { ARCH, CONFIG, inBatches, KERNEL_RELEASE, makeStapEnv, runStap, skipReason } from "./stap_env.ts";

const CONDITIONS = [
  'kernel_v >= "2.6.30"',
  'kernel_v >= "6.1"',
  'kernel_v == "6.1.0"',
  'kernel_v == "6.1"',
  'kernel_v < "6.1.1"',
  'kernel_v > "6.1.0"',
  'kernel_v <= "6.1.0"',
  'kernel_v != "6.1.0"',
  'kernel_v == "6.*"',
  'kernel_v != "5.*"',
  'kernel_v >= "6.*"',
  'kernel_v > "6.01"',
  'kernel_v < "6.1.0-rc1"',
  'kernel_vr == "6.1.0-sim"',
  'kernel_vr > "6.1.0-rc"',
  'kernel_vr == "*-sim"',
  'kernel_vr == "6.1.0-si?"',
  'kernel_vr == "6.1.0-[rs]im"',
  'kernel_vr == "6.1.0-[!s]im"',
  "kernel_v >= 6",
  'arch == "x86_64"',
  'arch != "x86_64"',
  'arch == "i?86"',
  'arch == "x86*"',
  'arch >= "x86"',
  "arch == 1",
  'runtime == "kernel"',
  'runtime != "dyninst"',
  'runtime == "k*"',
  'systemtap_v >= "4.0"',
  'systemtap_v < "4.10"',
  'systemtap_v == "4.8"',
  'systemtap_v <= "1.3"',
  'systemtap_privilege == "stapdev"',
  'systemtap_privilege != "stapusr"',
  'systemtap_privilege < "stapusr"',
  "guru_mode == 0",
  "guru_mode != 1",
  "guru_mode == 2",
  'guru_mode == "0"',
  "guru_mode < 1",
  'CONFIG_SMP == "y"',
  'CONFIG_SMP != "y"',
  'CONFIG_NOPE == "y"',
  'CONFIG_NOPE == ""',
  'CONFIG_SMP == "[ym]"',
  'CONFIG_SMP < "z"',
  "CONFIG_NR_CPUS >= 32",
  "CONFIG_NR_CPUS == 0x40",
  "CONFIG_NR_CPUS == 064",
  "guru_mode == 00",
  "1 == 1x",
  "CONFIG_NR_CPUS < 8",
  "CONFIG_SMP == 1",
  "CONFIG_NR_CPUS == CONFIG_NR_CPUS",
  "CONFIG_SMP == CONFIG_PREEMPT",
  "CONFIG_NR_CPUS > CONFIG_SMP",
  "CONFIG_SMP > CONFIG_NOPE",
  "CONFIG_SMP == nope",
  '"abc" < "abd"',
  '"abc" == "abc"',
  '"b" >= "abc"',
  "1 < 2",
  "2 <= 1",
  "3 == 3",
  '1 == "1"',
  '"1" == 1',
  "$# == 0",
  "$# > 1",
  '@# == "0"',
  'kernel_v >= "2.6" && arch == "x86_64"',
  'kernel_v >= "7.0" && arch == "x86_64"',
  'kernel_v >= "7.0" || arch == "x86_64"',
  'arch == "arm" || arch == "x86_64" && kernel_v < "2"',
  'arch == "x86_64" && kernel_v < "2" || runtime == "kernel"',
  'arch == "a" || arch == "b" || arch == "c"',
  'foo == "x"',
  'kernel_v "2.6"',
  "kernel_v",
  'kernel_v = "2.6"',
  'arch == "x86_64" &&',
  'arch == "x86_64" and arch == "x"',
];

function firstError(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.find((l) => l.startsWith("parse error:") || l.startsWith("Input file")) ?? lines[0] ?? "?";
}

/** The kept branch as stap's dump shows it, or the first error line. */
function stapBranch(stdout: string, stderr: string, ok: boolean): string {
  if (!ok) return firstError(stderr);
  if (stdout.includes("probe begin")) return "then";
  if (stdout.includes("probe end")) return "else";
  return "none";
}

Deno.test({
  name: "parity: preprocessor conditions keep the same branch as stap -p1",
  ignore: skipReason !== "",
  async fn() {
    const env = await makeStapEnv();
    try {
      const cases = CONDITIONS.map((c, i) => ({ c, file: `${env.kernelDir}/c${i}.stp` }));
      for (const { c, file } of cases) {
        Deno.writeTextFileSync(file, `%( ${c} %? probe begin { } %: probe end { } %)\n`);
      }
      const theirs = await inBatches(cases, async ({ file }) => {
        const r = await runStap(env, file, { guru: false, args: [] }, true);
        return stapBranch(r.stdout, r.stderr, r.ok);
      });
      const disagreements: string[] = [];
      cases.forEach(({ c, file }, i) => {
        const r = checkScript(Deno.readTextFileSync(file), {
          file,
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir: env.tapsetDir,
        });
        const ours = !r.ok
          ? firstError(r.text)
          : r.script.probes[0]?.points[0].components[0].name === "begin"
          ? "then"
          : "else";
        if (ours !== theirs[i]) disagreements.push(`%( ${c} %): stap ${theirs[i]}, ours ${ours}`);
      });
      console.log(`parity: ${cases.length - disagreements.length}/${cases.length} conditions agree`);
      for (const d of disagreements) console.log(d);
      assertEquals(disagreements.length, 0);
    } finally {
      await env.remove();
    }
  },
});
