/**
 * What the kernel (or the simulated one) says about modules and processes: `/proc/modules`, the module's
 * control directory `/proc/systemtap/MODULE/`, and `/proc/PID/stat` for the liveness of a stapio daemon.
 * @module
 */
import { join } from "node:path";

/** One line of `/proc/modules`. */
export interface LoadedModule {
  name: string;
  /** Module size in bytes, as the kernel reports it. */
  size: number;
  /** The "Used by" count: 1 while a stapio holds the control channel open, 0 when detached. */
  refcount: number;
  /** `Live`, `Loading` or `Unloading`. */
  state: string;
}

/**
 * Parses the text of `/proc/modules` (`name size refcount deps state address`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps/assert.ts";
 * const text = "stap_fr_io 327680 1 - Live 0xffffffffc0a00000\next4 1011712 2 - Live 0x0\n";
 * assertEquals(parseModules(text)[0], { name: "stap_fr_io", size: 327680, refcount: 1, state: "Live" });
 * ```
 */
export function parseModules(text: string): LoadedModule[] {
  const modules: LoadedModule[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0] === "") continue;
    const refcount = Number(fields[2]);
    modules.push({
      name: fields[0],
      size: Number(fields[1]) || 0,
      refcount: Number.isFinite(refcount) ? refcount : 0,
      state: fields[4] ?? "Live",
    });
  }
  return modules;
}

/**
 * The loaded modules under a `/proc` root; none when the file is absent (a fresh simulator root).
 *
 * A simulated module lives in a host process whose pid is in its control directory (`host.pid`); when that
 * process was killed, the simulated kernel still lists the module, but it is gone as surely as a module
 * that was unloaded. Such lines are left out, unless `includeGone` asks for them (`gc` cleans them up with
 * `staprun -d`). A real `/proc/systemtap/MODULE/` never holds a `host.pid`.
 */
export async function listModules(procRoot: string, options: { includeGone?: boolean } = {}): Promise<
  LoadedModule[]
> {
  let modules: LoadedModule[];
  try {
    modules = parseModules(await Deno.readTextFile(join(procRoot, "modules")));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  if (options.includeGone) return modules;
  const live: LoadedModule[] = [];
  for (const m of modules) if (!(await hostGone(procRoot, m.name))) live.push(m);
  return live;
}

async function hostGone(procRoot: string, module: string): Promise<boolean> {
  if (!module.startsWith("stap_")) return false;
  let text: string;
  try {
    text = await Deno.readTextFile(join(controlDir(procRoot, module), "host.pid"));
  } catch {
    return false;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && processStartTime(pid) === undefined;
}

/** The control directory of a SystemTap 4.8 module (procfs transport). */
export function controlDir(procRoot: string, module: string): string {
  return join(procRoot, "systemtap", module);
}

/** Whether the module has a SystemTap control directory, i.e. it is a stap module and it is loaded. */
export async function hasControlDir(procRoot: string, module: string): Promise<boolean> {
  try {
    return (await Deno.stat(controlDir(procRoot, module))).isDirectory;
  } catch {
    return false;
  }
}

/** The relay channels (`trace0…traceN-1`) of a loaded module: one per CPU online at load time. */
export async function relayChannels(procRoot: string, module: string): Promise<number | undefined> {
  try {
    let n = 0;
    for await (const entry of Deno.readDir(controlDir(procRoot, module))) {
      if (/^trace\d+$/.test(entry.name)) n++;
    }
    return n;
  } catch {
    return undefined;
  }
}

/** What `/proc/modules` and the control directory say about one module. */
export type ModuleState = "absent" | "detached" | "attached";

/** Finds a module and tells whether a reader holds its control channel. */
export async function moduleState(procRoot: string, module: string): Promise<ModuleState> {
  const found = (await listModules(procRoot)).find((m) => m.name === module);
  if (!found) return "absent";
  return found.refcount > 0 ? "attached" : "detached";
}

/**
 * Field 22 of `/proc/PID/stat` (start time in clock ticks since boot): with the pid, it names one process
 * across pid reuse. Undefined when the process is gone or a zombie.
 *
 * @example
 * ```ts
 * import { assert } from "../deps/assert.ts";
 * assert(processStartTime(Deno.pid) !== undefined);
 * ```
 */
export function processStartTime(pid: number, procRoot = "/proc"): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(procRoot, String(pid), "stat"));
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** Whether the process `pid` is alive and (when `startTime` is given) is still the same process. */
export function processAlive(pid: number | undefined, startTime?: number): boolean {
  if (pid === undefined || pid <= 0) return false;
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || now === startTime;
}
