/**
 * Parity of the simulator's parser with the real `stap -p1` over every example script of systemtap-doc:
 * both must accept or reject each script, given the same guru flag and positional arguments (taken from the
 * example's `.meta` test line). Skips when `stap` or the examples are not installed.
 *
 * stap needs a kernel build tree only for its start-up checks; a fake one (`.config`, the release file and an
 * empty `Module.symvers`) is made in a temporary directory and passed with `-r`. In pass 1 stap spends nearly
 * all its time parsing the tapset library; only its `.stpm` macro files matter to a script's parse, so they are
 * copied to a temporary tapset directory given to stap with `SYSTEMTAP_TAPSET` (and read from there by our
 * side too). That makes the run about twenty times faster.
 */

import { assertEquals } from "../../lib/deps/assert.ts";
import { checkScript } from "../../sim/lang/check.ts";

const EXAMPLES_DIR = "/usr/share/systemtap/examples";
const TAPSET_DIR = "/usr/share/systemtap/tapset";
const KERNEL_RELEASE = "6.1.0-sim";
const CONFIG: Record<string, string> = {
  CONFIG_MODULES: "y",
  CONFIG_SMP: "y",
  CONFIG_NR_CPUS: "64",
  CONFIG_PREEMPT: "y",
  CONFIG_64BIT: "y",
};
const ARCH = Deno.build.arch === "aarch64" ? "arm64" : "x86_64";
const PARALLEL = 2;

function findInPath(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return null;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const stapPath = findInPath("stap");
const haveExamples = exists(EXAMPLES_DIR);
const skipReason = !stapPath
  ? "stap is not installed"
  : !haveExamples
  ? `the examples (package systemtap-doc) are not in ${EXAMPLES_DIR}`
  : "";
if (skipReason) console.log(`parity: skipped, ${skipReason}`);

function listScripts(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...listScripts(path));
    else if (e.isFile && e.name.endsWith(".stp")) out.push(path);
  }
  return out.sort();
}

/** Splits a shell command line into words (quotes and backquotes kept together). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|`[^`]*`|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? m[0]);
  return words;
}

// stap options that take a separate argument (when not glued to the letter).
const OPTIONS_WITH_ARG = new Set([
  "-x",
  "-c",
  "-G",
  "-d",
  "-o",
  "-D",
  "-I",
  "-T",
  "-m",
  "-r",
  "-S",
  "-s",
  "-B",
  "-a",
  "-R",
  "-e",
]);

/** The guru flag and positional arguments of an example, from the `test_check:` line of its `.meta` file. */
function invocationOf(script: string): { guru: boolean; args: string[] } {
  const meta = script.replace(/\.stp$/, ".meta");
  let text: string;
  try {
    text = Deno.readTextFileSync(meta);
  } catch {
    return { guru: false, args: [] };
  }
  const line = /^test_check:\s*(.*)$/m.exec(text)?.[1];
  if (!line) return { guru: false, args: [] };
  const base = script.slice(script.lastIndexOf("/") + 1);
  const words = shellWords(line);
  let guru = false;
  const args: string[] = [];
  let seenScript = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (!seenScript && w === base) {
      seenScript = true;
      continue;
    }
    if (w.startsWith("--")) continue;
    if (w.startsWith("-") && w.length > 1) {
      if (/^-[a-zA-Z]*g/.test(w) && !OPTIONS_WITH_ARG.has(w.slice(0, 2))) guru = true;
      if (OPTIONS_WITH_ARG.has(w)) i++;
      continue;
    }
    if (seenScript) args.push(w.replace(/\$\$/g, "1").replace(/^`.*`$/, "x"));
  }
  if (!seenScript) return { guru: false, args: [] };
  return { guru, args };
}

interface StapOutcome {
  ok: boolean;
  firstError: string;
}

/** Copies the tapset's `.stpm` files, keeping their relative paths. */
function copyMacroFiles(from: string, to: string): void {
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) copyMacroFiles(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile && e.name.endsWith(".stpm")) {
      Deno.mkdirSync(to, { recursive: true });
      Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

async function runStap(
  kernelDir: string,
  tapsetDir: string,
  script: string,
  guru: boolean,
  args: string[],
): Promise<StapOutcome> {
  const argv = ["-p1", "-r", kernelDir, ...(guru ? ["-g"] : []), script, ...args];
  const out = await new Deno.Command(stapPath!, {
    args: argv,
    env: { SYSTEMTAP_TAPSET: tapsetDir },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const firstError = stderr.split("\n").filter((l) => !l.startsWith("WARNING: Kernel function symbol")).slice(
    0,
    4,
  )
    .join("\n");
  return { ok: out.success, firstError };
}

async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

Deno.test({
  name: "parity: the parser accepts and rejects the example scripts as stap -p1 does",
  ignore: skipReason !== "",
  async fn() {
    const kernelDir = await Deno.makeTempDir({ prefix: "stapfr-parity-kernel-" });
    try {
      await Deno.mkdir(`${kernelDir}/include/config`, { recursive: true });
      await Deno.writeTextFile(
        `${kernelDir}/.config`,
        Object.entries(CONFIG).map(([k, v]) => `${k}=${v}\n`).join(""),
      );
      await Deno.writeTextFile(`${kernelDir}/include/config/kernel.release`, KERNEL_RELEASE + "\n");
      await Deno.writeTextFile(`${kernelDir}/Module.symvers`, "");
      const tapsetDir = `${kernelDir}/tapset`;
      copyMacroFiles(TAPSET_DIR, tapsetDir);

      const scripts = listScripts(EXAMPLES_DIR);
      const invocations = scripts.map(invocationOf);
      const stapResults = await inBatches(
        scripts.map((s, i) => ({ s, inv: invocations[i] })),
        PARALLEL,
        ({ s, inv }) => runStap(kernelDir, tapsetDir, s, inv.guru, inv.args),
      );
      const disagreements: string[] = [];
      scripts.forEach((script, i) => {
        const source = new TextDecoder("latin1").decode(Deno.readFileSync(script));
        const ours = checkScript(source, {
          file: script,
          guru: invocations[i].guru,
          args: invocations[i].args,
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir,
        });
        const theirs = stapResults[i];
        if (ours.ok !== theirs.ok) {
          disagreements.push(
            `${script} (guru ${invocations[i].guru}, args ${JSON.stringify(invocations[i].args)}): ` +
              `stap ${theirs.ok ? "accepts" : "rejects"}, ours ${ours.ok ? "accepts" : "rejects"}\n` +
              (theirs.ok ? "" : `  stap: ${theirs.firstError.replaceAll("\n", "\n        ")}\n`) +
              (ours.ok ? "" : `  ours: ${ours.text.split("\n").slice(0, 4).join("\n        ")}\n`),
          );
        }
      });
      const rejected = stapResults.filter((r) => !r.ok).length;
      console.log(`parity: ${scripts.length - disagreements.length}/${scripts.length} example scripts agree`);
      console.log(`parity: stap -p1 rejects ${rejected} of them (bad arguments, missing -g and the like)`);
      for (const d of disagreements) console.log(d);
      assertEquals(disagreements.length, 0, `${disagreements.length} example scripts disagree`);
    } finally {
      await Deno.remove(kernelDir, { recursive: true });
    }
  },
});
