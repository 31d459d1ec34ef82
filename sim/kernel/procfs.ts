import { writeAtomic } from "../../lib/atomic_write.ts";
/**
 * The simulated `/proc` under the simulator root (docs/architecture.md "The simulator", docs/systemtap-4.8.md section 3):
 *
 * - `ROOT/proc/modules`: one line per loaded module in the kernel's format,
 *   `name size refcount - Live 0xffffffffc0a3d000 (OE)`; the refcount is 1 while a reader has `.cmd` open.
 *   Lines are added, changed and removed under a lock file, and the file is replaced atomically (rename).
 * - `ROOT/proc/systemtap/MODULE/`: `.cmd` and `trace0..N-1` (Unix stream sockets served by the module host,
 *   see `sim/kernel/transport.ts`), plus the simulator's own `host.pid` and `host.log`.
 * @module
 */

/** A line of `/proc/modules`. */
export interface ModuleLine {
  name: string;
  size: number;
  refcount: number;
  /** "Live", or "Loading" while the module host starts. */
  state: string;
  address: string;
}

/** `ROOT/proc/modules`. */
export function modulesPath(root: string): string {
  return `${root}/proc/modules`;
}

/** `ROOT/proc/systemtap/NAME`: the module's control directory. */
export function moduleDir(root: string, name: string): string {
  return `${root}/proc/systemtap/${name}`;
}

/** Formats a line as the kernel does (taint flags OE: out-of-tree, unsigned, as for any stap module). */
export function formatModuleLine(line: ModuleLine): string {
  return `${line.name} ${line.size} ${line.refcount} - ${line.state} ${line.address} (OE)`;
}

/** Parses `/proc/modules` text; lines that do not parse are skipped. */
export function parseModules(text: string): ModuleLine[] {
  const out: ModuleLine[] = [];
  for (const raw of text.split("\n")) {
    const m = raw.match(/^(\S+) (\d+) (\d+) \S+ (\S+) (0x[0-9a-f]+)/);
    if (m) out.push({ name: m[1], size: Number(m[2]), refcount: Number(m[3]), state: m[4], address: m[5] });
  }
  return out;
}

/** Reads `ROOT/proc/modules` (empty when the file does not exist). */
export async function readModules(root: string): Promise<ModuleLine[]> {
  try {
    return parseModules(await Deno.readTextFile(modulesPath(root)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** A made-up but stable load address for a module name, like `0xffffffffc0a3d000`. */
export function moduleAddress(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return `0xffffffffc${((h >>> 0) & 0xffff).toString(16).padStart(4, "0")}000`;
}

/**
 * Changes `ROOT/proc/modules` under its lock: `change` gets the current lines and returns the new ones (or
 * throws, leaving the file alone). The lock is an exclusive flock on `ROOT/proc/modules.lock`, which the kernel
 * releases when its holder dies (a SIGKILLed host leaves no stale lock). The file is replaced by a rename, so
 * readers never see half of it.
 */
export async function updateModules<T>(
  root: string,
  change: (lines: ModuleLine[]) => { lines: ModuleLine[]; result: T },
): Promise<T> {
  await Deno.mkdir(`${root}/proc/systemtap`, { recursive: true, mode: 0o700 });
  const lock = await Deno.open(`${modulesPath(root)}.lock`, { write: true, create: true, mode: 0o600 });
  try {
    await lock.lock(true);
    const { lines, result } = change(await readModules(root));
    await writeAtomic(modulesPath(root), lines.map((l) => formatModuleLine(l) + "\n").join(""), {
      mode: 0o644,
    });
    return result;
  } finally {
    lock.close();
  }
}

/**
 * Whether the host of module `name` is alive: its `host.sock` accepts a connection. A host that died, even by
 * SIGKILL (or a zombie not yet reaped), refuses. (Deno asks for all permissions to read `/proc/PID/…`, so the
 * pid is not checked there.)
 */
export async function hostAlive(root: string, name: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path: `${moduleDir(root, name)}/host.sock` });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** The host pid recorded in the module's directory, or 0. */
export async function readHostPid(root: string, name: string): Promise<number> {
  try {
    return Number((await Deno.readTextFile(`${moduleDir(root, name)}/host.pid`)).trim()) || 0;
  } catch {
    return 0;
  }
}
