/**
 * The module host: a background process that plays one loaded kernel module on real time, so that a
 * simulated `stap -F` keeps recording after the command returns. This file is the side the simulated
 * `staprun`/`stap`/`lsmod` use: start a host ({@linkcode spawnModuleHost}), list modules
 * ({@linkcode listModules}), unload one ({@linkcode unloadModule}). The process itself is `sim/module_host/main.ts`.
 *
 * What a reader sees (the SystemTap 4.8 transport over Unix stream sockets, framing in `sim/kernel/transport.ts`):
 *
 * - `ROOT/proc/systemtap/NAME/.cmd`: connect to attach. The host's first byte is its verdict, as the kernel's
 *   `open()` returns at once: 1, this connection is the reader; 0, a reader is already attached, and the host
 *   closes it (4.8's EBUSY; stapio then says "Cannot attach to module NAME control channel; not running?"). A
 *   reader opens its `traceN` only after its verdict, so that a refused stapio never takes another's relay
 *   files. While connected, the lsmod refcount is 1 and the relay does not overwrite; closing detaches.
 *   - Host to reader: queued control messages, oldest first: STP_TRANSPORT (once per module: the first reader
 *     after insert gets it), STP_OOB_DATA (`WARNING: …\n` / `ERROR: …\n` plus a NUL, as the runtime sends them;
 *     queued while detached, at most 256 buffers, with 4.8's overflow texts), STP_START reply
 *     (`int32 target, int32 res`), STP_REQUEST_EXIT (no payload; at attach if exit() ran while detached),
 *     STP_EXIT (no payload).
 *   - Reader to host: STP_READY, STP_BULK, STP_START (`int32 target, int32 res`: begin probes run, the reply
 *     START carries res 0, or negative when the script failed to start), STP_EXIT (end probes run, the
 *     transport-failure warning if any, then the host writes out all remaining records on the `traceN`
 *     sockets, ends them (EOF) and sends STP_EXIT). Other 4.8 messages (RELOCATION, TZINFO, …) are absorbed.
 *   - STP_BULK: on a real kernel the write itself fails with EINVAL when the module was not built with `-b`.
 *     A socket cannot fail a write, so the host answers every STP_BULK with an STP_BULK message whose payload
 *     is `int32 rc`: 0 (bulk mode) or -22 (EINVAL). A shim in front of the real stapio turns that into the
 *     write's return value.
 * - `ROOT/proc/systemtap/NAME/traceN` (N = 0..cpus-1): connect after `.cmd`, while attached (otherwise closed
 *   at once); one connection per CPU. The host streams that CPU's relay records (`uint32 seq, uint32 len,
 *   payload`), oldest first, starting with whatever was buffered, with at most one write in flight per CPU:
 *   the ring is the buffer, and what does not fit is dropped and counted (transport failures). When `.cmd`
 *   closes, the host closes the `traceN` connections too.
 * - Unloading is {@linkcode unloadModule} (`staprun -d`): it refuses while a reader is attached, then signals
 *   the host (SIGTERM), which runs the end probes if they have not run, removes its files and exits.
 * - `host.pid`, `host.log` (mode 0600) and `host.sock` in the same directory are the simulator's own: the
 *   host accepts connections on `host.sock`, so a refused connection means the host died. A closing stapio
 *   writes `detach\n` there and waits for `ok\n`, which comes once the host has seen `.cmd` close and written
 *   the refcount (the kernel drops it in the close itself).
 * @module
 */
import { resolve } from "../../lib/path.ts";
import { exists } from "@std/fs";
import {
  hostAlive,
  moduleAddress,
  moduleDir,
  readHostPid,
  readModules,
  updateModules,
} from "../kernel/procfs.ts";
import { DEFAULT_BUFFER_BYTES } from "../kernel/relay.ts";
import {
  denoRunFlags,
  filePath,
  PERMISSIONS,
  type SelfCommand,
  selfCommand,
  selfKind,
} from "../../lib/self.ts";
import type { TapsetFile } from "../lang/mod.ts";

/** How to start a module host (what `staprun` would insert). */
export interface HostOptions {
  /** Simulator root (see `lib/sim_root.ts`). */
  root: string;
  /** Module name (`stap_…` or the `-m` name). */
  module: string;
  /** The path shown in insert errors (`ERROR: Couldn't insert module 'PATH': …`); default `NAME.ko`. */
  modulePath?: string;
  /** Script text; without it (or a file) the built-in vfs workload runs. */
  scriptSource?: string;
  /** Script file, read by the host. */
  scriptFile?: string;
  /** Relay bytes per CPU (a multiple of 4096); default 16 MiB. */
  bufferBytes?: number;
  /** Simulated CPUs; default 2. */
  cpus?: number;
  /** Workload seed; default 1. */
  seed?: number;
  /** Workload events per second; default 100. */
  rate?: number;
  /** Compiled with `stap -b`. */
  bulk?: boolean;
  /** Guru mode (`stap -g`). */
  guru?: boolean;
  /** `$1`, `@1`, … */
  args?: string[];
  /** `stap -D NAME=VALUE` settings (MAXACTION, MAXERRORS, …). */
  defines?: Record<string, string>;
  /** `stap -E` scripts, run with the main one. */
  extraScripts?: string[];
  /** The tapsets of `stap -I` (stapfr's counters: sim/lang/tapset_natives.ts). */
  tapsets?: TapsetFile[];
  /** The 4.8 ring with its losses (sim/kernel/relay.ts) rather than the clean one; default off. */
  ringDamage?: boolean;
}

/** The configuration the host process receives (one JSON argument). */
export interface HostConfig
  extends
    Required<Omit<HostOptions, "scriptSource" | "scriptFile" | "defines" | "extraScripts" | "tapsets">> {
  scriptSource?: string;
  scriptFile?: string;
  defines?: Record<string, string>;
  extraScripts?: string[];
  tapsets?: TapsetFile[];
  /** /proc/modules size column. */
  size: number;
  /** Unix socket on which the spawner waits for "ok" or "error TEXT". */
  ready: string;
}

/** A started module host. */
export interface ModuleHostHandle {
  name: string;
  pid: number;
  /**
   * The child process, unref'd so that the spawner may exit while the host runs on. To wait for it (tests),
   * call `process.ref()` first, then await `process.status`.
   */
  process: Deno.ChildProcess;
}

/** A loaded module as `listModules` sees it. */
export interface LoadedModule {
  name: string;
  size: number;
  /** 1 while a reader is attached, 0 when detached. */
  refcount: number;
  /** "dead" when its host process is gone (killed): only `unloadModule` can clear it. */
  state: "live" | "dead";
  /** The host pid (0 if unknown). */
  pid: number;
}

/**
 * A failure with SystemTap's own words: the `ERROR: …` lines staprun prints on stderr and its exit status
 * (docs/systemtap-4.8.md 2.8).
 */
export class StaprunRefusal extends Error {
  constructor(readonly lines: string[], readonly status: number) {
    super(lines.join("\n"));
    this.name = "StaprunRefusal";
  }
}

/**
 * The permissions a module host needs: those of the stand-ins but `--allow-run`, as it starts no process (the
 * inspector guard's restart is an exec in place, through libc, which Deno's permissions do not cover).
 */
export const HOST_PERMISSIONS: readonly string[] = PERMISSIONS.filter((p) => p !== "--allow-run");

/**
 * The command line that runs a module host: from source, `deno run … sim/module_host/main.ts CONFIG`; from the
 * bundle or the compiled binary, which hold no separate file for it, `stapfr sim __host CONFIG` (lib/self.ts
 * says which program that is).
 */
export function hostCommand(configJson: string): SelfCommand {
  const kind = selfKind();
  if (kind === "source") {
    const hostMain = filePath(new URL("./main.ts", import.meta.url));
    return {
      command: Deno.execPath(),
      args: [...denoRunFlags(kind), ...HOST_PERMISSIONS, hostMain, configJson],
    };
  }
  const self = selfCommand(HOST_PERMISSIONS);
  return { command: self.command, args: [...self.args, "sim", "__host", configJson] };
}

function insertError(path: string, reason: string, extra: string[] = []): StaprunRefusal {
  return new StaprunRefusal([`ERROR: Couldn't insert module '${path}': ${reason}`, ...extra], 1);
}

/**
 * Inserts a module: starts its host process in the background and returns once the module is live (its
 * `/proc/modules` line says Live and its sockets listen). Throws {@linkcode StaprunRefusal} with the insert
 * error of docs/systemtap-4.8.md 2.8: EEXIST ("File exists", plus the `-R` hint) when the name is taken, ENOMEM when the
 * buffers exceed available memory, and the host's reason when it fails to start.
 */
export async function spawnModuleHost(options: HostOptions): Promise<ModuleHostHandle> {
  const name = options.module;
  const root = resolve(options.root);
  const config: HostConfig = {
    root,
    module: name,
    modulePath: options.modulePath ?? `${name}.ko`,
    bufferBytes: options.bufferBytes ?? DEFAULT_BUFFER_BYTES,
    cpus: options.cpus ?? 2,
    seed: options.seed ?? 1,
    rate: options.rate ?? 100,
    bulk: options.bulk ?? false,
    guru: options.guru ?? false,
    args: options.args ?? [],
    ringDamage: options.ringDamage ?? false,
    scriptSource: options.scriptSource,
    scriptFile: options.scriptFile,
    defines: options.defines,
    extraScripts: options.extraScripts,
    tapsets: options.tapsets,
    size: 0,
    ready: `${moduleDir(root, name)}/.ready`,
  };
  const scriptBytes = options.scriptSource?.length ?? 4096;
  config.size = 90112 + 4096 * Math.ceil(scriptBytes / 256);
  if (
    !Number.isInteger(config.bufferBytes) || config.bufferBytes < 4096 || config.bufferBytes % 4096 !== 0 ||
    !Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 1024
  ) {
    throw insertError(config.modulePath, "Invalid parameters");
  }
  const total = config.bufferBytes * config.cpus;
  const available = availableMemory();
  if (available !== undefined && total > available) {
    throw insertError(config.modulePath, "Cannot allocate memory");
  }

  const dir = moduleDir(root, name);
  await updateModules(root, (lines) => {
    if (lines.some((l) => l.name === name)) {
      throw insertError(config.modulePath, "File exists", [
        "ERROR: Rerun with staprun option '-R' to rename this module.",
      ]);
    }
    const line = { name, size: config.size, refcount: 0, state: "Loading", address: moduleAddress(name) };
    return { lines: [...lines, line], result: undefined };
  });
  try {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    return await startHost(config);
  } catch (err) {
    await removeModule(root, name);
    throw err;
  }
}

async function startHost(config: HostConfig): Promise<ModuleHostHandle> {
  const listener = Deno.listen({ transport: "unix", path: config.ready });
  try {
    const { command, args } = hostCommand(JSON.stringify(config));
    const child = new Deno.Command(command, {
      args,
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "null",
      // Its own session: a Ctrl-C at the terminal never reaches it, and the spawner may exit.
      detached: true,
    }).spawn();
    const answer = await Promise.race([
      readReady(listener),
      child.status.then((s) => `error host exited with status ${s.code}`),
    ]);
    if (answer !== "ok") {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      const reason = answer.startsWith("error ") ? answer.slice(6) : "Input/output error";
      throw insertError(config.modulePath, reason);
    }
    child.unref();
    return { name: config.module, pid: child.pid, process: child };
  } finally {
    listener.close();
    await Deno.remove(config.ready).catch(() => {});
  }
}

async function readReady(listener: Deno.Listener): Promise<string> {
  let conn: Deno.Conn;
  try {
    conn = await listener.accept();
  } catch {
    return "error listener closed";
  }
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) chunks.push(buf.slice(0, n));
  } finally {
    conn.close();
  }
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return text.trim();
}

function availableMemory(): number | undefined {
  try {
    return Deno.systemMemoryInfo().available;
  } catch {
    return undefined;
  }
}

/** Every module in `ROOT/proc/modules`, with whether its host is alive. */
export async function listModules(root: string): Promise<LoadedModule[]> {
  const lines = await readModules(root);
  return await Promise.all(lines.map(async (line) => {
    const pid = await readHostPid(root, line.name);
    const alive = line.state === "Loading" || await hostAlive(root, line.name);
    return { name: line.name, size: line.size, refcount: line.refcount, state: alive ? "live" : "dead", pid };
  }));
}

/**
 * Unloads a module as `staprun -d NAME` does. Throws {@linkcode StaprunRefusal} with status 234 and the two
 * 2.8 lines when the module is not loaded, not a SystemTap module, or attached. A module whose host died is
 * cleaned up (its line and files removed).
 */
export async function unloadModule(root: string, name: string): Promise<void> {
  const notZombie = new StaprunRefusal([
    `ERROR: Cannot attach to module ${name} control channel; not running?`,
    `ERROR: '${name}' is not a zombie systemtap module.`,
  ], 234);
  const line = (await readModules(root)).find((l) => l.name === name);
  if (!line || !(await exists(moduleDir(root, name)))) throw notZombie;
  const pid = await readHostPid(root, name);
  if (!(await hostAlive(root, name))) {
    await removeModule(root, name);
    return;
  }
  if (line.refcount > 0 && !(await detachedSoon(root, name))) throw notZombie;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch { /* it just died */ }
  // The host runs the end probes, removes its line and files, and exits.
  for (let i = 0; i < 1000; i++) {
    if (!(await hostAlive(root, name))) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (await hostAlive(root, name)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  await removeModule(root, name);
}

/**
 * Waits a moment for the refcount to drop: a reader that just closed `.cmd` (stapio after STP_EXIT, then
 * `staprun -d`) is detached at once in the kernel, a moment later in the host.
 */
async function detachedSoon(root: string, name: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const line = (await readModules(root)).find((l) => l.name === name);
    if (!line || line.refcount === 0) return true;
  }
  return false;
}

/** Removes a module's line and directory (idempotent). */
export async function removeModule(root: string, name: string): Promise<void> {
  await updateModules(root, (lines) => ({ lines: lines.filter((l) => l.name !== name), result: undefined }));
  await Deno.remove(moduleDir(root, name), { recursive: true }).catch(() => {});
}
