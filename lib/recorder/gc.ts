/**
 * `gc`: removes the entries of dead recorders (cleaning up what they left: a module without its daemon, a
 * daemon without its module), stale locks and build directories; with `unloadOrphans`, unloads the `stap_`
 * modules nobody registered, and never anything else. Orphans that look like stapfr recorders (`stap_fr_…`)
 * may belong to another state directory: unloading them needs `yes`, and without it gc changes nothing.
 * @module
 */
import { join } from "../path.ts";
import { hasControlDir, listModules, type LoadedModule, processAlive } from "../driver/kernel.ts";
import { StapfrError } from "../errors.ts";
import { unloadModule } from "../driver/unload.ts";
import { orphanModules, STAP_MODULE } from "../state.ts";
import { type Engine, stateOf } from "./engine.ts";
import { collectStrayReader, removeStaleReaderRecords } from "./reader_records.ts";
import { signalDaemonUntilGone } from "./stop.ts";

/** One thing `gc` did or left alone. */
export interface GcAction {
  /** A recorder name, or a module name for orphans. */
  name: string;
  /** What happened to it (`detached`: a stray reader was ended with SIGQUIT; the recorder goes on). */
  action: "removed" | "unloaded" | "detached" | "kept" | "failed";
  /** Why, in words. */
  detail: string;
}

/** What `gc` did. */
export interface GcResult {
  /** One entry per recorder or module that gc looked at and did not leave as it was, or left for a reason. */
  actions: GcAction[];
}

/** What `gc` may do beyond cleaning up after dead recorders. */
export interface GcOptions {
  /** Unload the loaded `stap_` modules that no recorder of this state directory owns. */
  unloadOrphans?: boolean;
  /**
   * Confirm unloading orphans that look like stapfr recorders (`stap_fr_…`): this state directory does not
   * know them, but another one may (a mistyped `--state-dir` must not unload a colleague's recorders).
   */
  yes?: boolean;
}

/**
 * `gc --unload-orphans` would unload modules that look like other stapfr recorders, and was not told `yes`:
 * nothing was changed (`code: "confirmation_needed"`). `modules` names them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new GcConfirmationNeeded(["stap_fr_web"], "/var/lib/stapfr");
 * assertEquals([err.code, err.modules], ["confirmation_needed", ["stap_fr_web"]]);
 * ```
 */
export class GcConfirmationNeeded extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "GcConfirmationNeeded";
  /** The `stap_fr_` modules it would unload. */
  readonly modules: string[];
  /** The refusal for these modules of state directory `dir`. */
  constructor(modules: string[], dir: string) {
    super(
      `Not unloading ${
        modules.length === 1 ? "a module that looks" : `${modules.length} modules that look`
      } ` +
        `like stapfr recorders that "${dir}" does not register: ${modules.map((m) => `"${m}"`).join(", ")}`,
      {
        code: "confirmation_needed",
        hint: "They may be recording for another state directory (check --state-dir); " +
          'confirm to unload them anyway ("--yes"; yes: true in the library)',
      },
    );
    this.modules = modules;
  }
}

/** `gc`: reconciles the registry with loaded modules and live processes. */
export async function collectGarbage(engine: Engine, options: GcOptions = {}): Promise<GcResult> {
  const actions: GcAction[] = [];
  const { records, corrupt } = await engine.registry.list();
  const modules = await listModules(engine.host.procRoot);
  const owned = new Set([...records.map((r) => r.module), ...corrupt.flatMap((c) => c.modules)]);
  const orphans = await classifyOrphans(engine, orphanModules(modules, owned));
  if (options.unloadOrphans && !options.yes) {
    // Asked before anything changes: a refusal leaves everything as it was.
    const recorders = orphans.filter((o) => o.verdict === "unload" && o.module.startsWith("stap_fr_"));
    if (recorders.length > 0) {
      throw new GcConfirmationNeeded(recorders.map((o) => o.module), engine.registry.dir);
    }
  }
  // Includes simulated modules whose host was killed: "staprun -d" clears their leftovers.
  const listed = await listModules(engine.host.procRoot, { includeGone: true });
  for (const record of records.filter((r) => r.host === engine.host.kind)) {
    const state = await stateOf(record, modules);
    if (state !== "dead" && !(state === "exited" && record.mode === "memory")) continue;
    let release: () => Promise<void>;
    try {
      release = await engine.registry.lock(record.name);
    } catch (err) {
      actions.push({ name: record.name, action: "kept", detail: (err as Error).message });
      continue;
    }
    try {
      const loaded = listed.some((m) => m.name === record.module);
      if (record.pid !== null && (await processAlive(record.pid, record.pidStart ?? undefined))) {
        // Its module is gone: the daemon has nothing left to write.
        await signalDaemonUntilGone(record.pid, record.pidStart ?? undefined, "SIGTERM", engine.signalWaitMs);
      }
      if (loaded) await unloadModule(engine.host, record.module, record.name);
      await engine.registry.remove(record.name);
      actions.push({
        name: record.name,
        action: "removed",
        detail: loaded ? `${state}; unloaded module "${record.module}"` : state,
      });
    } catch (err) {
      actions.push({ name: record.name, action: "failed", detail: (err as Error).message });
    } finally {
      await release();
    }
  }
  // Readers whose stapfr is gone hold the module with overwrite off: detach them (docs/strays.md).
  for (const record of records.filter((r) => r.host === engine.host.kind && r.mode === "memory")) {
    const loaded = modules.find((m) => m.name === record.module);
    if (!loaded || loaded.refcount === 0) continue;
    const done = await collectStrayReader(engine, record, loaded.refcount);
    if (done) actions.push({ name: record.name, ...done });
  }
  await removeStaleReaderRecords(engine.registry.dir);
  for (const c of corrupt) {
    actions.push({ name: c.name, action: "kept", detail: `unusable registry file "${c.path}": ${c.reason}` });
  }
  await removeStaleLeftovers(engine);
  for (const o of orphans) {
    if (o.verdict === "keep") {
      actions.push({ name: o.module, action: "kept", detail: o.detail });
    } else if (!options.unloadOrphans) {
      actions.push({ name: o.module, action: "kept", detail: "orphan (add --unload-orphans to unload it)" });
    } else {
      try {
        await unloadModule(engine.host, o.module);
        actions.push({ name: o.module, action: "unloaded", detail: "orphan" });
      } catch (err) {
        actions.push({ name: o.module, action: "failed", detail: (err as Error).message });
      }
    }
  }
  return { actions };
}

/** An orphan module and whether `--unload-orphans` may unload it. */
interface Orphan {
  module: string;
  verdict: "unload" | "keep";
  /** Why it is kept. */
  detail: string;
}

/** Which orphans may be unloaded: SystemTap modules only, and none whose recorder is being started. */
async function classifyOrphans(engine: Engine, orphans: readonly LoadedModule[]): Promise<Orphan[]> {
  const out: Orphan[] = [];
  for (const m of orphans) {
    // A recorder being started right now has its module loaded before its registry file exists.
    if (m.name.startsWith("stap_fr_") && (await lockHeld(engine, m.name.slice("stap_fr_".length)))) {
      out.push({ module: m.name, verdict: "keep", detail: "its recorder is being started" });
    } else if (!STAP_MODULE.test(m.name) || !(await hasControlDir(engine.host.procRoot, m.name))) {
      // Never anything but a SystemTap module: the name pattern and its control directory must both match.
      out.push({
        module: m.name,
        verdict: "keep",
        detail: "no /proc/systemtap entry: not a SystemTap module",
      });
    } else {
      out.push({ module: m.name, verdict: "unload", detail: "orphan" });
    }
  }
  return out;
}

/** Removes lock files whose owner died and build directories nobody is using. */
async function removeStaleLeftovers(engine: Engine): Promise<void> {
  const dir = engine.registry.dir;
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  for (const e of entries) {
    // Temporary files of a stapfr that died mid-write (lock contents, write probes, lib/atomic_write.ts's).
    const owner = /^\.(?:.+\.lock|probe)\.(\d+)\./.exec(e.name) ??
      /^\..+\.(\d+)\.[0-9a-f-]{36}\.tmp$/.exec(e.name);
    if (owner && !(await processAlive(Number(owner[1])))) {
      await Deno.remove(join(dir, e.name)).catch(() => {});
      continue;
    }
    if (!e.name.endsWith(".lock")) continue;
    try {
      const holder = JSON.parse(await Deno.readTextFile(join(dir, e.name)));
      if (!(await processAlive(holder.pid, holder.start ?? undefined))) await Deno.remove(join(dir, e.name));
    } catch {
      // Being written, or already gone.
    }
  }
  try {
    for await (const e of Deno.readDir(join(dir, "build"))) {
      try {
        await Deno.lstat(join(dir, `${e.name}.lock`));
      } catch {
        await Deno.remove(join(dir, "build", e.name), { recursive: true }).catch(() => {});
      }
    }
  } catch {
    // No build directory.
  }
}

/** Whether a live stapfr holds the lock of recorder `name`. */
function lockHeld(engine: Engine, name: string): Promise<boolean> {
  return engine.registry.lockHeld(name);
}
