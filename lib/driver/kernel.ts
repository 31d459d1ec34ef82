/**
 * What the kernel (or the simulated one) says about modules and processes: `/proc/modules`, the module's
 * control directory `/proc/systemtap/MODULE/`, and `/proc/PID/stat` for the liveness of a stapio daemon.
 * @module
 */
import { join } from "../path.ts";
import { readProcDirectory, readProcFile, readProcFiles } from "./proc_libc.ts";

/**
 * Deno 2.9 refuses reads under the real `/proc` and `/sys` without `--allow-all` (NotCapable). The command line
 * has it (README "Permissions"); a library program that has not reads them through libc by FFI
 * (lib/driver/proc_libc.ts), and where FFI is not allowed either, through `cat`, `ls` and `head` (argv arrays,
 * no shell).
 */
function needsHelper(err: unknown): boolean {
  return err instanceof Deno.errors.NotCapable;
}

async function helper(argv: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null", stderr: "null" })
      .output();
    return out.code === 0 ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a text file, under the real /proc too; undefined when it does not exist. The direct read is
 * synchronous: these files are small and in memory, and Deno's asynchronous file API costs more the first time
 * it is used than the read itself (docs/architecture.md "Start-up"). Where Deno refuses it, libc or a helper
 * process reads it.
 */
export async function readProcText(path: string): Promise<string | undefined> {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return undefined;
    if (!needsHelper(err)) throw err;
  }
  const text = readProcFile(path);
  return text !== null ? text : await helper(["cat", path]);
}

/** Whether `path` is under the real `/proc`, which Deno reads only with `--allow-all`. */
function realProc(path: string): boolean {
  return path === "/proc" || path.startsWith("/proc/");
}

/** The names in a directory, under the real /proc too; undefined when it does not exist. */
export async function readProcDir(path: string): Promise<string[] | undefined> {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch (err) {
    if (!needsHelper(err)) return undefined;
  }
  const names = readProcDirectory(path);
  if (names !== null) return names;
  const text = await helper(["ls", "-A", path]);
  return text === undefined ? undefined : text.split("\n").filter((l) => l !== "");
}

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
 * import { assertEquals } from "@std/assert";
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
  const text = await readProcText(join(procRoot, "modules"));
  if (text === undefined) return [];
  const modules = parseModules(text);
  // The kernel's /proc never holds a host.pid in a control directory (the simulator's /proc is an ordinary
  // directory). Where Deno refuses to read it, looking would cost one helper process per stap_ module.
  if (options.includeGone || realProc(procRoot)) return modules;
  const hosts = await Promise.all(modules.map((m) => hostPid(procRoot, m.name)));
  const alive = await processesAlive(hosts.map((pid) => ({ pid })));
  return modules.filter((_, i) => hosts[i] === undefined || alive[i]);
}

/** The pid of a simulated module's host process (`host.pid`); undefined for a real module. */
async function hostPid(procRoot: string, module: string): Promise<number | undefined> {
  if (!module.startsWith("stap_")) return undefined;
  const text = await readProcText(join(controlDir(procRoot, module), "host.pid")).catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The control directory of a SystemTap 4.8 module (procfs transport). */
export function controlDir(procRoot: string, module: string): string {
  return join(procRoot, "systemtap", module);
}

/** Whether the module has a SystemTap control directory, i.e. it is a stap module and it is loaded. */
export async function hasControlDir(procRoot: string, module: string): Promise<boolean> {
  return (await readProcDir(controlDir(procRoot, module))) !== undefined;
}

/** The relay channels (`trace0…traceN-1`) of a loaded module: one per CPU online at load time. */
export async function relayChannels(procRoot: string, module: string): Promise<number | undefined> {
  const names = await readProcDir(controlDir(procRoot, module));
  return names?.filter((name) => /^trace\d+$/.test(name)).length;
}

/** What `/proc/modules` and the control directory say about one module. */
export type ModuleState = "absent" | "detached" | "attached";

/** Finds a module and tells whether a reader holds its control channel. */
export async function moduleState(procRoot: string, module: string): Promise<ModuleState> {
  const found = (await listModules(procRoot)).find((m) => m.name === module);
  if (!found) return "absent";
  return found.refcount > 0 ? "attached" : "detached";
}

/** The state letter and start time (field 22, clock ticks since boot) of a process. */
interface ProcStat {
  state: string;
  start: number;
}

function parseStat(text: string): ProcStat {
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], start: Number(fields[19]) };
}

/**
 * `/proc/PID/stat` of several processes; a gone process has no entry. Where Deno refuses direct reads, one
 * `head -v` reads them all (it names each file before its text and goes on past missing ones), so a `list` of
 * many recorders costs one helper process, not one per recorder.
 */
async function statsOf(pids: readonly number[], procRoot = "/proc"): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>();
  let refused: number[] = [];
  for (const pid of pids) {
    try {
      stats.set(pid, parseStat(Deno.readTextFileSync(join(procRoot, String(pid), "stat"))));
    } catch (err) {
      if (needsHelper(err)) refused.push(pid);
    }
  }
  if (refused.length === 0) return stats;
  // Through libc when FFI is allowed: no helper process, and no signal 0 either.
  const texts = readProcFiles(refused.map((pid) => join(procRoot, String(pid), "stat")));
  if (texts !== null && texts.every((t) => t !== null)) {
    texts.forEach((t, i) => t !== undefined && stats.set(refused[i], parseStat(t)));
    return stats;
  }
  // A pid that the kernel says does not exist needs no /proc read, and so no helper process (a list of
  // exited or dead recorders then spawns none).
  if (procRoot === "/proc") refused = refused.filter((pid) => !surelyGone(pid));
  if (refused.length === 0) return stats;
  const paths = refused.map((pid) => join(procRoot, String(pid), "stat"));
  let text = "";
  try {
    const out = await new Deno.Command("head", { args: ["-v", "-c", "4096", "--", ...paths], stderr: "null" })
      .output();
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return stats;
  }
  for (const section of text.split(/^==> /m).slice(1)) {
    const header = /^(.*) <==\n/.exec(section);
    const pid = header ? Number(/\/(\d+)\/stat$/.exec(header[1])?.[1]) : NaN;
    if (header && Number.isInteger(pid)) stats.set(pid, parseStat(section.slice(header[0].length).trim()));
  }
  return stats;
}

/**
 * Whether the kernel says no process `pid` exists: `kill(pid, 0)`, which sends nothing. Deno's types name no
 * signal 0, but `Deno.kill` passes it on; if a Deno refused it, this answers "not sure" and the caller reads
 * /proc as before.
 */
function surelyGone(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return false;
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
}

async function statOf(pid: number, procRoot = "/proc"): Promise<ProcStat | undefined> {
  return (await statsOf([pid], procRoot)).get(pid);
}

function aliveBy(stat: ProcStat | undefined, startTime?: number): boolean {
  if (!stat || stat.state === "Z" || stat.state === "X") return false;
  return startTime === undefined || stat.start === startTime;
}

/**
 * The start time of a process (field 22 of `/proc/PID/stat`, clock ticks since boot): with the pid, it names
 * one process across pid reuse. Undefined when the process is gone or a zombie.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * assert((await processStartTime(Deno.pid)) !== undefined);
 * ```
 */
export async function processStartTime(pid: number, procRoot = "/proc"): Promise<number | undefined> {
  const stat = await statOf(pid, procRoot);
  if (!stat || stat.state === "Z" || stat.state === "X" || !Number.isFinite(stat.start)) return undefined;
  return stat.start;
}

/**
 * Whether the process `pid` is alive (not gone, not a zombie) and, when `startTime` is given, still the same
 * process (not a reused pid).
 */
export async function processAlive(pid: number | undefined, startTime?: number): Promise<boolean> {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  return aliveBy(await statOf(pid), startTime);
}

/** {@linkcode processAlive} for several processes at once (one helper process at most); same order. */
export async function processesAlive(
  list: readonly { pid: number | null | undefined; start?: number | null }[],
): Promise<boolean[]> {
  const valid = (pid: number | null | undefined): pid is number => Number.isInteger(pid) && pid! > 0;
  const stats = await statsOf(list.map((p) => p.pid).filter(valid));
  return list.map((p) => valid(p.pid) && aliveBy(stats.get(p.pid), p.start ?? undefined));
}
