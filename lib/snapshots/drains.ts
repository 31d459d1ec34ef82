/**
 * The drain log of a memory recorder: every read that drained its ring (dump, tail, attach, snapshot) with its
 * time and bytes, in `STATE_DIR/NAME.drains` (0600). SystemTap 4.8 counts nothing in overwrite mode, so this
 * is how stapfr knows whether a snapshot continues the previous one (no other reader drained in between) and
 * at what rate the ring fills (status shows the window it holds). See docs/snapshots.md "Gaps and windows".
 * @module
 */
import { join } from "../path.ts";
import type { Registry } from "../registry.ts";

/** One drain of a memory ring. */
export interface Drain {
  /** When the drain ended (ISO 8601). */
  at: string;
  /** Bytes it read. */
  bytes: number;
  /** Which command drained it. */
  by: "dump" | "tail" | "attach" | "stop" | "snapshot";
  /** The snapshot it went into, for `by: "snapshot"`. */
  snapshot?: string;
  /** The recorder run (its start time), so a restarted recorder's log starts afresh. */
  run: string;
}

const KEEP = 20;

function pathOf(registry: Registry, name: string): string {
  return join(registry.dir, `${name}.drains`);
}

/** The drains of the current run of `name`, oldest first (empty when none were logged). */
export async function readDrains(registry: Registry, name: string, run: string): Promise<Drain[]> {
  try {
    const value = JSON.parse(await Deno.readTextFile(pathOf(registry, name)));
    if (!Array.isArray(value)) return [];
    return value.filter((d): d is Drain =>
      typeof d?.at === "string" && typeof d.bytes === "number" && typeof d.by === "string" && d.run === run
    );
  } catch {
    return [];
  }
}

/** Appends a drain (written atomically; a failure to log never fails the read that drained). */
export async function logDrain(registry: Registry, name: string, drain: Drain): Promise<void> {
  const path = pathOf(registry, name);
  const temp = `${path}.tmp.${Deno.pid}`;
  try {
    const drains = [...(await readDrains(registry, name, drain.run)), drain].slice(-KEEP);
    await Deno.writeTextFile(temp, JSON.stringify(drains) + "\n", { mode: 0o600 });
    await Deno.rename(temp, path);
  } catch {
    await Deno.remove(temp).catch(() => {});
  }
}

/** Forgets the log (the recorder is gone). */
export async function forgetDrains(registry: Registry, name: string): Promise<void> {
  await Deno.remove(pathOf(registry, name)).catch(() => {});
}

/**
 * The rate at which the ring filled, from the last drain and the one (or the start) before it: bytes per
 * second, or null when there is no drain to go by.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const run = "2026-12-01T00:00:00.000Z";
 * const drains = [{ at: "2026-12-01T00:00:10.000Z", bytes: 5000, by: "dump" as const, run }];
 * assertEquals(fillRate(drains, run), 500);
 * ```
 */
export function fillRate(drains: readonly Drain[], run: string): number | null {
  const last = drains.at(-1);
  if (!last) return null;
  const from = Date.parse(drains.at(-2)?.at ?? run);
  const seconds = (Date.parse(last.at) - from) / 1000;
  return seconds > 0 ? last.bytes / seconds : null;
}
