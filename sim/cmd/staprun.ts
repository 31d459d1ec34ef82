/**
 * The simulated `staprun` (and the stapio it becomes): load a module (`-L`), run it in the foreground, start
 * the `-D` daemon, attach (`-A`), unload (`-d`), with 4.8's messages and exit statuses (docs/systemtap-4.8.md 1.2, 2, 4,
 * 7). The module itself is a background host process (`sim/module_host/host.ts`); this side is user space.
 * @module
 */
import { spawnModuleHost, StaprunRefusal, unloadModule } from "../module_host/host.ts";
import { moduleDir } from "../kernel/procfs.ts";
import { connectModule, countRelayFiles, NotRunningError } from "../stapio/link.ts";
import { absoluteOutfile } from "../stapio/outfile_name.ts";
import { RealOutputFs } from "../stapio/output_fs.ts";
import { notRunningText, type StapioMode, StapioSession } from "../stapio/main_loop.ts";
import { StapioWriter } from "../stapio/writer.ts";
import { type OrderedSink, stdoutHandle } from "./io.ts";
import { modulePathOf, type ModuleSpec, readModuleFile } from "./module_file.ts";
import { selfCommand } from "../../lib/self.ts";
import { type SimSettings, simSettings } from "./settings.ts";
import type { SignalSource } from "./signals.ts";
import { renameModule } from "./stap_args.ts";
import {
  fileSizeOption,
  moduleNameOf,
  parseStaprunArgs,
  type StaprunArgError,
  type StaprunOptions,
} from "./staprun_args.ts";
import { staprunUsage } from "./usage.ts";

/** Bytes an output may hold queued before the reader feeding it waits. */
const OUTPUT_QUEUE = 4 * 1024 * 1024;

/** What a stand-in command gets from its process. */
export interface CommandIo {
  out: OrderedSink;
  err: OrderedSink;
  env: (name: string) => string | undefined;
  signals: SignalSource;
  cwd: string;
  /** The name the program was invoked by (usage and getopt messages). */
  argv0: string;
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  /** `uname -r`, for module paths and the usage text. */
  release: string;
}

const RED_ERROR = "\x1b[01;31m\x1b[KERROR:\x1b[m\x1b[K";

function useColor(o: Pick<StaprunOptions, "color">, io: CommandIo): boolean {
  if (o.color === "always") return true;
  if (o.color === "never") return false;
  return io.stderrIsTerminal && io.env("TERM") !== "dumb";
}

/** Prints lines that start with `ERROR:` (coloured as staprun's `-C` says). */
function printErrors(lines: string[], color: boolean, io: CommandIo): void {
  for (const line of lines) io.err.text((color ? line.replace(/^ERROR:/, RED_ERROR) : line) + "\n");
}

function printArgError(e: StaprunArgError, color: boolean, io: CommandIo): number {
  const text = e.getopt ? `${io.argv0}: ${e.message}` : (color ? RED_ERROR : "ERROR:") + ` ${e.message}`;
  io.err.text(text + (e.noNewline ? "" : "\n"));
  if (e.usage) io.out.text(staprunUsage(io.argv0, io.release));
  return 1;
}

/** `staprun ARGS…`: returns the exit status. */
export async function staprunMain(args: string[], io: CommandIo, override?: ModuleSpec): Promise<number> {
  const parsed = parseStaprunArgs(args);
  const color = useColor(parsed.kind === "ok" ? parsed.options : { color: "auto" }, io);
  switch (parsed.kind) {
    case "help":
      io.out.text(staprunUsage(io.argv0, io.release));
      return 0;
    case "version":
      // printf then _exit: nothing reaches a pipe (docs/systemtap-4.8.md 1.2).
      if (io.stdoutIsTerminal) {
        io.out.text("Systemtap module loader/runner (version 4.8/0.188, Debian version 4.8-2)\n");
      }
      return 0;
    case "error":
      return printArgError(parsed.error, color, io);
  }
  const o = parsed.options;
  const settings = simSettings(io.env);
  const name = moduleNameOf(o.module);
  if (o.deleteModule) return await deleteModule(name, settings, color, io);
  if (o.attach) return await runStapio(name, "attach", o, settings, io);
  let spec: ModuleSpec;
  if (override) spec = override;
  else {
    const read = await readModuleFile(modulePathOf(o.module, io.release, io.cwd));
    if ("errors" in read) {
      printErrors(read.errors, color, io);
      return 1;
    }
    spec = read;
  }
  return await insertAndRun(spec, o, settings, io, color);
}

async function deleteModule(
  name: string,
  settings: SimSettings,
  color: boolean,
  io: CommandIo,
): Promise<number> {
  // `-d '*'` lists debugfs, where 4.8 modules are not: a silent no-op (docs/systemtap-4.8.md 3).
  if (name === "*") return 0;
  return await unload(name, settings, (lines) => printErrors(lines, color, io));
}

/** `staprun -d NAME`: 0, or the status of docs/systemtap-4.8.md 2.8 after printing its lines. */
async function unload(
  name: string,
  settings: SimSettings,
  print: (lines: string[]) => void,
): Promise<number> {
  try {
    await unloadModule(settings.root, name);
    return 0;
  } catch (err) {
    if (!(err instanceof StaprunRefusal)) throw err;
    print(err.lines);
    return err.status;
  }
}

/** Inserts the module (its host process starts) and runs stapio as the options say. */
async function insertAndRun(
  spec: ModuleSpec,
  o: StaprunOptions,
  settings: SimSettings,
  io: CommandIo,
  color: boolean,
): Promise<number> {
  if (spec.release !== undefined && spec.release !== io.release) {
    // The kernel compares the module's vermagic with its own and fails init_module with ENOEXEC, which
    // staprun words as insmod does.
    printErrors([`ERROR: Couldn't insert module '${spec.path}': Invalid module format`], color, io);
    return 1;
  }
  let name = spec.name;
  if (o.rename) {
    const renamed = renameModule(name, Deno.pid);
    if (renamed === undefined) {
      io.err.text(`WARNING: Old module name '${name}' is too short for renaming, ignoring -R.\n`);
    } else name = renamed;
  }
  if (o.verbose > 0) {
    io.err.text(`staprun:insert_module:191 Module ${name} inserted from file ${spec.path}\n`);
  }
  try {
    await spawnModuleHost({
      root: settings.root,
      module: name,
      modulePath: spec.path,
      scriptSource: spec.scriptSource,
      scriptFile: spec.scriptFile,
      bufferBytes: o.bufferBytes ?? spec.bufferBytes ?? 16 * 1024 * 1024,
      cpus: settings.cpus,
      seed: settings.seed,
      rate: settings.rate,
      bulk: spec.bulk,
      guru: spec.guru,
      args: [...spec.args, ...o.moduleOptions],
      ringDamage: settings.ringDamage,
      extraScripts: spec.extraScripts,
      tapsets: spec.tapsets,
    });
  } catch (err) {
    if (!(err instanceof StaprunRefusal)) throw err;
    printErrors(err.lines, color, io);
    return err.status;
  }
  if (o.loadOnly) return await runStapio(name, "load", o, settings, io);
  if (o.daemon) return await startDaemon(name, o, io);
  return await runStapio(name, "run", o, settings, io);
}

/**
 * Runs stapio against a loaded module in this process: load-only, attach, or a run until EXIT. Returns its
 * exit status. `diag` defaults to stderr (a daemon passes its syslog).
 */
export async function runStapio(
  name: string,
  mode: StapioMode,
  o: StaprunOptions,
  settings: SimSettings,
  io: CommandIo,
  diag: (text: string) => void = (text) => io.err.text(text),
): Promise<number> {
  const dir = moduleDir(settings.root, name);
  const cpus = Math.max(1, await countRelayFiles(dir));
  const outfile = o.outfile === undefined || mode === "load" ? undefined : absoluteOutfile(o.outfile, io.cwd);
  let writer: StapioWriter | undefined;
  const session = new StapioSession({
    moduleName: name,
    mode,
    // At most 4 MiB waits for a slow stdout, or for the reader of a CPU's named pipe; then that CPU's reader
    // (or every reader, for stdout) stops reading and the rings fill (5.2).
    connect: (events) =>
      connectModule(dir, events, async (cpu) => {
        await io.out.whenBelow(OUTPUT_QUEUE);
        await writer?.whenBelow(cpu, OUTPUT_QUEUE);
      }),
    makeWriter: (bulk) =>
      writer = new StapioWriter({
        outfile,
        bulk,
        cpus,
        rotation: o.rotation,
        fs: new RealOutputFs({ capacity: settings.diskBytes }),
        stdout: stdoutHandle(io.out),
        now: () => new Date(),
        cwd: io.cwd,
      }),
    stall: settings.stall,
    suppressWarnings: o.suppressWarnings,
    verbose: o.verbose,
    diag,
    // The link's close returns once the host shows the reader gone (link.ts), so -d finds the refcount 0.
    unload: () => unload(name, settings, (lines) => diag(lines.map((l) => l + "\n").join(""))),
    loseSignals: settings.loseSignals,
    targetPid: o.targetPid,
  });
  // A failed stdout write is that reader's error even when nothing more is written (section 6 item 4).
  if (outfile === undefined) io.out.onFailure = (err) => session.outputFailed(err);
  const stop = io.signals.listen((sig) => session.signal(sig));
  try {
    try {
      await session.start();
    } catch (err) {
      if (!(err instanceof NotRunningError)) throw err;
      diag(notRunningText(name));
      return 1;
    }
    return await session.done;
  } finally {
    stop();
    await io.out.flush();
    await io.err.flush();
  }
}

/** The staprun arguments that hand a daemon its job (the original argv, minus what it has done). */
function daemonArgs(name: string, o: StaprunOptions, cwd: string): string[] {
  const args = ["-D", "-o", absoluteOutfile(o.outfile!, cwd)];
  // Sizes below a MiB (the simulator's NK) must reach the daemon as they were given, not as fractional MiB.
  if (o.rotation) args.push("-S", fileSizeOption(o.rotation));
  if (o.suppressWarnings) args.push("-w");
  for (let i = 0; i < o.verbose; i++) args.push("-v");
  if (o.color !== "auto") args.push("-C", o.color);
  args.push(name);
  return args;
}

/**
 * `-D -o FILE`: stapio daemonises. The original process prints the daemon's pid line (which the daemon writes
 * before its handshake, so before the files exist, docs/systemtap-4.8.md 2.2) and exits 0.
 */
async function startDaemon(name: string, o: StaprunOptions, io: CommandIo): Promise<number> {
  const self = selfCommand();
  const child = new Deno.Command(self.command, {
    args: [...self.args, "sim", "__stapio", ...daemonArgs(name, o, io.cwd)],
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  const reader = child.stdout.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const line = text.split("\n")[0];
  if (!/^\d+$/.test(line)) {
    io.err.text(`ERROR: Couldn't start the stapio daemon for module ${name}.\n`);
    return 1;
  }
  io.out.text(`${line}\n`);
  await io.out.flush();
  return 0;
}

/** Appends daemon diagnostics to the simulator's syslog (`ROOT/var/log/stapio.log`, 0600). */
function syslog(root: string): (text: string) => void {
  const path = `${root}/var/log/stapio.log`;
  try {
    Deno.mkdirSync(`${root}/var/log`, { recursive: true, mode: 0o700 });
  } catch {
    // reported on the first write
  }
  return (text) => {
    const stamp = new Date().toISOString();
    const lines = text.split("\n").filter((l) => l !== "").map((l) => `${stamp} stapio[${Deno.pid}]: ${l}\n`);
    try {
      Deno.writeTextFileSync(path, lines.join(""), { append: true, create: true, mode: 0o600 });
    } catch {
      // syslog is best effort, as for stapio
    }
  };
}

/**
 * `sim __stapio ARGS…`: the stapio daemon process. Prints its pid, closes stdout, then runs the module with
 * its diagnostics in the simulator's syslog.
 */
export async function stapioDaemonMain(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseStaprunArgs(args);
  if (parsed.kind !== "ok") return 1;
  const o = parsed.options;
  const settings = simSettings(io.env);
  io.out.text(`${Deno.pid}\n`);
  await io.out.flush();
  try {
    Deno.stdout.close();
  } catch {
    // already closed
  }
  const log = syslog(settings.root);
  return await runStapio(moduleNameOf(o.module), "run", o, settings, io, log);
}
