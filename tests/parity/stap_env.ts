/**
 * What the parity tests share: finding `stap` and the examples, a fake kernel build tree and a macro-only
 * tapset directory for `stap -p1`, and running stap in parallel batches.
 *
 * stap needs a kernel build tree only for its start-up checks; a fake one (`.config`, the release file and an
 * empty `Module.symvers`) is made in a temporary directory and passed with `-r`. In pass 1 stap spends nearly
 * all its time parsing the tapset library; only its `.stpm` macro files matter to a script's parse, so they are
 * copied to a temporary tapset directory given to stap with `SYSTEMTAP_TAPSET` (and read from there by our
 * side too). That makes a run about twenty times faster.
 */

export const EXAMPLES_DIR = "/usr/share/systemtap/examples";
const TAPSET_DIR = "/usr/share/systemtap/tapset";
export const KERNEL_RELEASE = "6.1.0-sim";
export const CONFIG: Record<string, string> = {
  CONFIG_MODULES: "y",
  CONFIG_SMP: "y",
  CONFIG_NR_CPUS: "64",
  CONFIG_PREEMPT: "y",
  CONFIG_64BIT: "y",
};
export const ARCH: string = Deno.build.arch === "aarch64" ? "arm64" : "x86_64";
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

/** Why the parity tests cannot run here, or "" when they can. */
export const skipReason: string = !stapPath
  ? "stap is not installed"
  : !exists(EXAMPLES_DIR)
  ? `the examples (package systemtap-doc) are not in ${EXAMPLES_DIR}`
  : !exists(TAPSET_DIR)
  ? `the tapset is not in ${TAPSET_DIR}`
  : "";

/** Every `*.stp` under a directory, sorted. */
export function listScripts(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...listScripts(path));
    else if (e.isFile && e.name.endsWith(".stp")) out.push(path);
  }
  return out.sort();
}

/** Reads a script byte for byte (stap counts columns in bytes). */
export function readScript(path: string): string {
  return new TextDecoder("latin1").decode(Deno.readFileSync(path));
}

/** Splits a shell command line into words (quotes and backquotes kept together). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|`[^`]*`|(\S+)/g;
  for (const m of line.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? m[0]);
  return words;
}

// stap options that take a separate argument.
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

/** How an example is run: guru flag and positional arguments. */
export interface Invocation {
  guru: boolean;
  args: string[];
}

/** The guru flag and positional arguments of an example, from the `test_check:` line of its `.meta` file. */
export function invocationOf(script: string): Invocation {
  let text: string;
  try {
    text = Deno.readTextFileSync(script.replace(/\.stp$/, ".meta"));
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

/** What stap -p1 said about a script. */
export interface StapOutcome {
  ok: boolean;
  /** stderr without the warning about the missing symbol table. */
  stderr: string;
  /** The parse-tree dump (only when asked for). */
  stdout: string;
}

/** A fake kernel tree and a macro-only tapset in a temporary directory. */
export interface StapEnv {
  kernelDir: string;
  tapsetDir: string;
  remove(): Promise<void>;
}

function copyMacroFiles(from: string, to: string): void {
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) copyMacroFiles(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile && e.name.endsWith(".stpm")) {
      Deno.mkdirSync(to, { recursive: true });
      Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

/** Makes the temporary kernel tree and tapset; call `remove()` when done. */
export async function makeStapEnv(): Promise<StapEnv> {
  const kernelDir = await Deno.makeTempDir({ prefix: "stapfr-parity-kernel-" });
  await Deno.mkdir(`${kernelDir}/include/config`, { recursive: true });
  await Deno.writeTextFile(
    `${kernelDir}/.config`,
    Object.entries(CONFIG).map(([k, v]) => `${k}=${v}\n`).join(""),
  );
  await Deno.writeTextFile(`${kernelDir}/include/config/kernel.release`, KERNEL_RELEASE + "\n");
  await Deno.writeTextFile(`${kernelDir}/Module.symvers`, "");
  const tapsetDir = `${kernelDir}/tapset`;
  copyMacroFiles(TAPSET_DIR, tapsetDir);
  return { kernelDir, tapsetDir, remove: () => Deno.remove(kernelDir, { recursive: true }) };
}

/** Runs `stap -p1` on a script file. */
export async function runStap(
  env: StapEnv,
  script: string,
  inv: Invocation,
  dump = false,
): Promise<StapOutcome> {
  const argv = ["-p1", "-r", env.kernelDir, ...(inv.guru ? ["-g"] : []), script, ...inv.args];
  const out = await new Deno.Command(stapPath!, {
    args: argv,
    env: { SYSTEMTAP_TAPSET: env.tapsetDir },
    stdout: dump ? "piped" : "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder("latin1").decode(out.stderr).split("\n")
    .filter((l) => !l.startsWith("WARNING: Kernel function symbol table missing")).join("\n");
  return { ok: out.success, stderr, stdout: dump ? new TextDecoder("latin1").decode(out.stdout) : "" };
}

/** Runs `work` over `items`, two at a time (the machines have two cores). */
export async function inBatches<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}
