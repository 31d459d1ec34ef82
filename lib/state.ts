/**
 * Reconciliation: what the registry says, checked against what is loaded (`/proc/modules`) and alive
 * (the stapio daemon's pid and start time). Pure: the facts come in, the states come out.
 * @module
 */
import type { LoadedModule } from "./driver/kernel.ts";
import type { RecorderRecord } from "./registry.ts";

/**
 * The state of a recorder:
 * - `recording`: loaded and recording, nobody attached;
 * - `attached`: a memory recorder with a reader on its control channel (a dump, an attach, or `staprun -A`);
 * - `stray`: a memory recorder held by a reader whose stapfr is gone (docs/strays.md): its ring no longer
 *   overwrites, so it stops keeping the newest data, until `gc`, `dump` or `stop` detach the reader;
 * - `exited`: it ended and what it recorded was kept: a file recorder whose module and daemon are both gone
 *   (its files remain), or a memory recorder that stapfr saw end in order (its script had exited, found by a
 *   dump or stop, whose reader took what its ring held);
 * - `dead`: it ended unexpectedly: a memory recorder's module is gone without stapfr seeing it end (its ring
 *   went with it), or a file recorder's daemon or module died without the other;
 * - `orphan`: a loaded `stap_` module that no recorder of this state directory owns.
 */
export type RecorderState = "recording" | "attached" | "stray" | "exited" | "dead" | "orphan";

/** The facts about one registered recorder. */
export interface Facts {
  /** The module line of `/proc/modules`, if the module is loaded. */
  module?: LoadedModule;
  /** File mode: whether the daemon (pid and start time) is alive. */
  daemonAlive: boolean;
}

/**
 * The state of one registered recorder given the facts: the one place where the states are decided.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const loaded = { name: "stap_fr_io", size: 1, refcount: 0, state: "Live" };
 * assertEquals(recorderState({ mode: "memory" }, { module: loaded, daemonAlive: false }), "recording");
 * assertEquals(recorderState({ mode: "memory" }, { daemonAlive: false }), "dead");
 * assertEquals(recorderState({ mode: "memory", endedAt: "2026-01-01T00:00:00Z" }, { daemonAlive: false }), "exited");
 * assertEquals(recorderState({ mode: "file" }, { daemonAlive: false }), "exited");
 * assertEquals(recorderState({ mode: "file" }, { module: loaded, daemonAlive: false }), "dead");
 * ```
 */
export function recorderState(record: Pick<RecorderRecord, "mode" | "endedAt">, facts: Facts): RecorderState {
  if (record.mode === "memory") {
    if (facts.module) return facts.module.refcount > 0 ? "attached" : "recording";
    return record.endedAt ? "exited" : "dead";
  }
  if (facts.module && facts.daemonAlive) return "recording";
  if (!facts.module && !facts.daemonAlive) return "exited";
  return "dead";
}

/**
 * The state once the reader of an attached recorder is known: `stray` when the stapfr that started it is gone.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(withReader("attached", { stray: true }), "stray");
 * assertEquals(withReader("attached", { stray: false }), "attached");
 * assertEquals(withReader("recording", null), "recording");
 * ```
 */
export function withReader(state: RecorderState, reader: { stray: boolean } | null): RecorderState {
  return state === "attached" && reader?.stray ? "stray" : state;
}

/** A module name SystemTap gives (`stap_…`, or a recorder's `stap_fr_NAME`). */
export const STAP_MODULE = /^stap_[A-Za-z0-9_]+$/;

/**
 * The loaded `stap_` modules that no record owns.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const mods = ["stap_fr_io", "stap_0123abcd_42", "ext4"].map((name) => ({ name, size: 1, refcount: 0, state: "Live" }));
 * assertEquals(orphanModules(mods, new Set(["stap_fr_io"])).map((m) => m.name), ["stap_0123abcd_42"]);
 * ```
 */
export function orphanModules(modules: readonly LoadedModule[], owned: ReadonlySet<string>): LoadedModule[] {
  return modules.filter((m) => STAP_MODULE.test(m.name) && !owned.has(m.name));
}
