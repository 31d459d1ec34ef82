/**
 * `build`: compiles a recorder's module for a kernel (`stap -p4 -r RELEASE -m stap_fr_NAME`) with the options
 * a start would use, and writes it with its JSON description into a directory, for `start --module` on a
 * server that has only `systemtap-runtime` (docs/prebuilt-modules.md). stap runs in a temporary directory;
 * the `.ko` is then copied under a temporary name beside its destination and renamed, so a reader never sees
 * half a module.
 * @module
 */
import { basename, join, resolve } from "../path.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { explainFailure } from "../driver/stap_failure.ts";
import { osError } from "../os_errors.ts";
import { moduleInfo, NotAModuleError } from "../driver/modinfo.ts";
import { runCommand } from "../driver/run.ts";
import type { ScriptSource } from "../driver/launch.ts";
import { releaseOf } from "../kernel_release.ts";
import { moduleName, validateName } from "../units.ts";
import type { Engine } from "./engine.ts";
import { descriptionPathOf, type ModuleDescription, sha256Hex } from "./module_description.ts";
import { BULK_MODINFO, COUNTERS_MODINFO } from "./prebuilt.ts";
import { writeCountersTapset } from "../driver/counters_tapset.ts";
import { declaredFlag } from "../declarations/declarations.ts";

/** What to build. */
export interface BuildOptions {
  /** The recorder's name: the module is `stap_fr_NAME`. */
  name: string;
  /** The script: `{ file }` or `{ text }` (as `stap -e`). */
  script: ScriptSource;
  /** The target kernel release (default: the running kernel's). */
  kernel?: string;
  /**
   * Compile bulk mode in (`stap -b`, the default): a memory recorder's records then reach a reader with their
   * sequence numbers (docs/loss-accounting.md), and a file recorder writes one file per CPU, which rotating on
   * SMP needs. `false` builds a module whose output is plain text (read without loss accounting).
   */
  bulk?: boolean;
  /** Where to write the module and its description (default: the working directory). */
  outDir?: string;
  /** More arguments for stap, such as `-R DIR`, `-g` or `-DNAME=VALUE` (placed before the script). */
  stapArgs?: string[];
  /** Aborting it stops the compile. */
  signal?: AbortSignal;
}

/** What `build` wrote. */
export interface BuildResult {
  /** The module file, absolute. */
  module_path: string;
  /** The description file, absolute. */
  description_path: string;
  /** The module's size in bytes. */
  bytes: number;
  /** How long stap took, in seconds. */
  seconds: number;
  /** What the description says. */
  description: ModuleDescription;
}

/** stap's options that take a value (its getopt string), so that a value is never read as an option. */
const TAKES_VALUE = new Set("pIeEoRramcxDslLdSBJGTC");
/** What build sets itself, or what would make stap do something else than compile one module here. */
const OWN = new Map([
  ["p", "the last pass (build stops after pass 4)"],
  ["m", "the module name (stap_fr_NAME)"],
  ["r", 'the kernel (use "--kernel")'],
  ["F", "flight-recorder mode"],
  ["b", 'bulk mode (use "--bulk")'],
  ["o", "the output file (a start option)"],
  ["S", "rotation (a start option)"],
  ["e", "the script"],
  ["E", "the script"],
  ["c", "a command to run"],
  ["x", "a process to watch (a run-time option)"],
  ["l", "probe listing"],
  ["L", "probe listing"],
]);

/**
 * Refuses STAP_ARGS that would change what build does (`-p5` would load the module on the build host, `-m`
 * would name it otherwise). Short options may be clustered (`-gv`); an option's value is skipped.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * checkBuildStapArgs(["-R", "/opt/runtime", "-g", "-DMAXACTION=10000", "--vp", "0001", "-I", "/x/-p"]);
 * assertThrows(() => checkBuildStapArgs(["-gp5"]), Error, '"-p"');
 * ```
 */
export function checkBuildStapArgs(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (arg.startsWith("--")) {
      if (/^--modinfo(=|$)/.test(arg)) {
        const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[++i] ?? "";
        if (value.startsWith(`${BULK_MODINFO}=`)) {
          throw new UsageError(`STAP_ARGS may not set "${BULK_MODINFO}": build sets it (use "--bulk")`);
        }
      }
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") continue;
    for (let j = 1; j < arg.length; j++) {
      const flag = arg[j];
      const own = OWN.get(flag);
      if (own) throw new UsageError(`STAP_ARGS may not hold "-${flag}": build sets ${own} itself`);
      if (TAKES_VALUE.has(flag)) {
        if (j === arg.length - 1) i++; // The value is the next argument.
        break;
      }
    }
  }
}

/** `stap -V`'s version (`4.8/0.188`), or null. */
async function stapVersion(engine: Engine): Promise<string | null> {
  try {
    const r = await runCommand([...engine.host.stap, "-V"], { env: engine.host.env });
    return /version ([^\s,)]+)/.exec(r.stderr + r.stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Builds a prebuilt module and its description. */
export async function buildModule(engine: Engine, options: BuildOptions): Promise<BuildResult> {
  const name = validateName(options.name);
  const module = moduleName(name);
  checkBuildStapArgs(options.stapArgs ?? []);
  const { host } = engine;
  const release = options.kernel ?? releaseOf(host.kind, engine.knobs);
  if (!/^[A-Za-z0-9._+~-]+$/.test(release)) {
    throw new UsageError(`Invalid kernel release "${release}": expected a release such as "6.1.0-57-amd64"`);
  }
  let scriptBytes: Uint8Array;
  let scriptFile: string | null = null;
  if ("file" in options.script) {
    scriptFile = resolve(options.script.file);
    try {
      scriptBytes = await Deno.readFile(scriptFile);
    } catch (err) {
      throw osError("read script", options.script.file, err);
    }
  } else scriptBytes = new TextEncoder().encode(options.script.text);
  const outDir = resolve(options.outDir ?? declaredFlag("build", "out-dir").default!);
  try {
    await Deno.mkdir(outDir, { recursive: true });
  } catch (err) {
    throw osError("use output directory", options.outDir ?? ".", err);
  }
  const bulk = options.bulk ?? true;
  const workDir = await Deno.makeTempDir({ prefix: "stapfr-build-" });
  const stapArgs = [
    "-p4",
    "-F",
    "-r",
    release,
    "-m",
    module,
    // Marks the module itself as bulk or not (see lib/recorder/prebuilt.ts bulkOf).
    "--modinfo",
    `${BULK_MODINFO}=${bulk ? 1 : 0}`,
    // The module serves stapfr's counters file (lib/driver/counters_tapset.ts), and says so.
    "--modinfo",
    `${COUNTERS_MODINFO}=1`,
    ...(bulk ? ["-b"] : []),
    ...(await writeCountersTapset(workDir)),
    ...(options.stapArgs ?? []),
    ...(scriptFile !== null ? [scriptFile] : ["-e", (options.script as { text: string }).text]),
  ];
  const modulePath = join(outDir, `${module}.ko`);
  const temp = join(outDir, `.${module}.ko.tmp.${Deno.pid}`);
  const descriptionPath = descriptionPathOf(modulePath);
  const descriptionTemp = join(outDir, `.${basename(descriptionPath)}.tmp.${Deno.pid}`);
  try {
    const started = performance.now();
    const result = await runCommand([...host.stap, ...stapArgs], {
      cwd: workDir,
      env: host.env,
      signal: options.signal,
    });
    // stap ended on our SIGTERM: the build was cancelled, its failure is not the story.
    options.signal?.throwIfAborted();
    const seconds = (performance.now() - started) / 1000;
    const built = join(workDir, `${module}.ko`);
    let bytes: Uint8Array | undefined;
    if (result.code === 0) bytes = await Deno.readFile(built).catch(() => undefined);
    if (result.code !== 0 || bytes === undefined) {
      throw explainFailure(result.stderr, {
        operation: "build",
        recorder: name,
        module,
        program: "stap",
        code: result.code === 0 ? 1 : result.code,
        release: options.kernel,
      });
    }
    let builtFor: string | undefined;
    try {
      builtFor = moduleInfo(bytes).release;
    } catch (err) {
      if (!(err instanceof NotAModuleError)) throw err;
      throw new StapfrError(`stap wrote "${module}.ko", but it is not a kernel module (${err.message})`, {
        code: "rejected_module",
      });
    }
    const description: ModuleDescription = {
      format: 1,
      name,
      module,
      module_file: `${module}.ko`,
      module_sha256: await sha256Hex(bytes),
      script_sha256: await sha256Hex(scriptBytes),
      script_file: scriptFile,
      stap_args: stapArgs,
      user_stap_args: options.stapArgs ?? [],
      kernel_release: builtFor ?? release,
      systemtap_version: await stapVersion(engine),
      bulk,
      counters: true,
      built_at: new Date().toISOString(),
      host: host.kind,
    };
    try {
      // A module holds code, not traced data: readable by all, as stap and the kernel's own modules are.
      await Deno.writeFile(temp, bytes, { mode: 0o644 });
      await Deno.chmod(temp, 0o644);
      await Deno.writeTextFile(descriptionTemp, JSON.stringify(description, null, 2) + "\n", { mode: 0o644 });
      await Deno.chmod(descriptionTemp, 0o644);
      await Deno.rename(temp, modulePath);
      await Deno.rename(descriptionTemp, descriptionPath);
    } catch (err) {
      throw osError("write the module into", outDir, err);
    }
    return {
      module_path: modulePath,
      description_path: descriptionPath,
      bytes: bytes.length,
      seconds: Math.round(seconds * 10) / 10,
      description,
    };
  } finally {
    await Deno.remove(temp).catch(() => {});
    await Deno.remove(descriptionTemp).catch(() => {});
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}
