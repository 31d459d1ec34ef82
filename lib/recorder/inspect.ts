/**
 * `list` and `status`: every recorder of this host reconciled with what is loaded and alive, plus the loaded
 * `stap_` modules nobody registered (state `orphan`).
 * @module
 */
import { listModules, type LoadedModule, processesAlive } from "../driver/kernel.ts";
import type { CorruptEntry, RecorderRecord } from "../registry.ts";
import { orphanModules, withReader } from "../state.ts";
import {
  detailOf,
  type Engine,
  getRecord,
  infoOf,
  type RecorderDetail,
  type RecorderInfo,
} from "./engine.ts";

/** What `list` returns. */
export interface ListResult {
  /** Registered recorders (sorted by name), then orphan modules. */
  recorders: RecorderInfo[];
  /** Registry files that could not be read, by name. */
  corrupt: CorruptEntry[];
}

/** `list`: every recorder of this host and every orphan module. */
export async function listRecorders(engine: Engine): Promise<ListResult> {
  const [{ records, corrupt }, modules] = await Promise.all([
    engine.registry.list(),
    listModules(engine.host.procRoot),
  ]);
  const mine = records.filter((r) => r.host === engine.host.kind);
  const alive = await processesAlive(mine.map((r) => ({ pid: r.pid, start: r.pidStart })));
  const recorders = await Promise.all(
    mine.map(async (r, i) =>
      withReaderOf(engine, r, modules, await infoOf(r, modules, r.pid !== null && alive[i], engine.host))
    ),
  );
  // A corrupt file still names its module: do not call that module an orphan.
  const owned = new Set([...records.map((r) => r.module), ...corrupt.flatMap((c) => c.modules)]);
  for (const m of orphanModules(modules, owned)) {
    // A recorder being started has its module loaded before it is registered: not an orphan, not yet listed.
    if (m.name.startsWith("stap_fr_") && (await engine.registry.lockHeld(m.name.slice("stap_fr_".length)))) {
      continue;
    }
    recorders.push({
      name: m.name,
      mode: "memory",
      state: "orphan",
      module: m.name,
      pid: null,
      started_at: null,
      bytes: null,
      problem: null,
    });
  }
  return { recorders, corrupt };
}

/** `status`: one recorder in detail. */
export async function recorderStatus(engine: Engine, name: string): Promise<RecorderDetail> {
  const record = await getRecord(engine, name);
  const modules = await listModules(engine.host.procRoot);
  return await withReaderOf(engine, record, modules, await detailOf(engine, record, modules));
}

/** Adds who reads an attached memory recorder, and the `stray` state when its stapfr is gone. */
async function withReaderOf<T extends RecorderInfo>(
  engine: Engine,
  record: RecorderRecord,
  modules: readonly LoadedModule[],
  info: T,
): Promise<T> {
  if (record.mode !== "memory") return info;
  const refcount = modules.find((m) => m.name === record.module)?.refcount ?? 0;
  // Loaded only for an attached recorder (list and status start fast).
  const reader = info.state === "attached"
    ? await (await import("./reader_records.ts")).readerInfo(engine, record, refcount)
    : null;
  return { ...info, state: withReader(info.state, reader), reader };
}
