/**
 * The read log of a memory recorder, `STATE_DIR/NAME.reads` (0600): every read that drained its ring (dump, tail,
 * attach, stop, snapshot) with its time, bytes and the sequence numbers it read. Loss accounting takes the
 * previous read's last number from it (what was overwritten since), and a snapshot the ranges other reads took
 * since the previous snapshot; status and plan take the rate at which the ring fills. See
 * docs/loss-accounting.md "Between reads".
 * @module
 */
import { writeAtomic } from "../atomic_write.ts";
import { join } from "../path.ts";
import type { Registry } from "../registry.ts";

/** One read of a memory ring. */
export interface ReadLogEntry {
  /** When the read ended (ISO 8601). */
  at: string;
  /** Bytes it passed on. */
  bytes: number;
  /** Which command read. */
  by: "dump" | "tail" | "attach" | "stop" | "snapshot";
  /** The snapshot it went into, for `by: "snapshot"`. */
  snapshot?: string;
  /** The recorder run (its start time), so a restarted recorder's log starts afresh. */
  run: string;
  /** It read records by sequence number (a bulk module); false or absent: text, numbers unknown. */
  sequenced?: boolean;
  /** The first sequence number it read (passed on or left out); absent when it read none or cannot know. */
  first_seq?: number;
  /**
   * The last sequence number it accounted for: the last it read (passed on or left out), or, when it read none,
   * the module's last number when it began (what it reported missing before it); absent when it cannot know.
   */
  last_seq?: number;
  /** The module's count of records it could not reserve, when the read ended (absent: unknown). */
  transport_failures?: number;
  /**
   * Numbers missing after the last one some CPU passed on: that CPU's reader stopped first and its ring may
   * still hold them; the next read passes them on or counts them missing (docs/loss-accounting.md).
   */
  pending?: [number, number][];
  /** A previous read's pending numbers this read passed on. */
  settled?: number[];
}

const KEEP = 50;

/** The file of the log. */
export function readLogPath(registry: Registry, name: string): string {
  return join(registry.dir, `${name}.reads`);
}

/** The reads of the current run of `name`, oldest first (empty when none were logged). */
export async function readLog(registry: Registry, name: string, run: string): Promise<ReadLogEntry[]> {
  try {
    const value = JSON.parse(await Deno.readTextFile(readLogPath(registry, name)));
    if (!Array.isArray(value)) return [];
    return value.filter((d): d is ReadLogEntry =>
      typeof d?.at === "string" && typeof d.bytes === "number" && typeof d.by === "string" && d.run === run
    );
  } catch {
    return [];
  }
}

/** Appends a read (written atomically; a failure to log never fails the read). */
export async function logRead(registry: Registry, name: string, entry: ReadLogEntry): Promise<void> {
  try {
    const entries = [...(await readLog(registry, name, entry.run)), entry].slice(-KEEP);
    await writeAtomic(readLogPath(registry, name), JSON.stringify(entries) + "\n");
  } catch {
    // Not logged: the next read cannot say what this one took, and says so.
  }
}

/**
 * The rate at which the ring filled, from the last read and the one (or the start) before it: bytes per
 * second, or null when there is no read to go by.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const run = "2026-12-01T00:00:00.000Z";
 * const reads = [{ at: "2026-12-01T00:00:10.000Z", bytes: 5000, by: "dump" as const, run }];
 * assertEquals(fillRate(reads, run), 500);
 * ```
 */
export function fillRate(reads: readonly ReadLogEntry[], run: string): number | null {
  const last = reads.at(-1);
  if (!last) return null;
  const from = Date.parse(reads.at(-2)?.at ?? run);
  const seconds = (Date.parse(last.at) - from) / 1000;
  return seconds > 0 ? last.bytes / seconds : null;
}
