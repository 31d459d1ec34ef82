/**
 * The buffer planner's arithmetic: from measured output rates per CPU and the window a user wants kept, the
 * `--buffer` of a memory recorder and the `--rotate SIZE,COUNT` of a file recorder that hold it with headroom,
 * rounded to what the host accepts (whole MiB on a real host, 4K steps on the simulator). Pure, so every
 * branch is tested; the measuring run is in lib/recorder/plan.ts. See docs/snapshots.md "How much buffer".
 * @module
 */
import { type HostKind, MiB, PAGE } from "../units.ts";

/** The headroom over the measured rate: bursts, sub-buffer padding and record headers. */
export const HEADROOM = 1.5;
/** The most a ring per CPU may be (`stap -s`, 1–4095 MiB; `start` refuses more on the simulator too). */
const MAX_BUFFER = 4095 * MiB;
/** The largest file `--rotate` takes, and the most files it keeps (lib/units.ts parseRotate). */
const MAX_ROTATE_SIZE = 4095 * MiB;
const MAX_ROTATE_COUNT = 100_000;

/** What the planner recommends. */
export interface Plan {
  /** Output rate per CPU (bytes per second), by CPU number. */
  rates: Record<string, number>;
  /** The busiest CPU's rate, which each per-CPU ring and file stream must hold. */
  max_rate: number;
  /** The window to hold, in seconds. */
  window_seconds: number;
  /** The factor over the measured rate. */
  headroom: number;
  /** Bytes per CPU the window needs with headroom. */
  needed_per_cpu: number;
  /** Memory mode: `--buffer` (bytes per CPU and as the flag), or null when no ring `start` takes is big enough. */
  buffer: { bytes: number; flag: string } | null;
  /** File mode: `--rotate SIZE,COUNT` per CPU (bulk), or null when no rotation `start` takes holds the window. */
  rotate: { size: number; count: number; flag: string } | null;
  /** The arithmetic, one line per step, for people. */
  arithmetic: string[];
}

function roundUp(bytes: number, unit: number): number {
  return Math.max(unit, Math.ceil(bytes / unit) * unit);
}

/** A size as the flags take it: whole MiB as `NM`, else `NK`. */
function flagSize(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB}M` : `${bytes / 1024}K`;
}

function rate(bytesPerSecond: number): string {
  return bytesPerSecond >= MiB
    ? `${(bytesPerSecond / MiB).toFixed(2)} MiB/s`
    : `${(bytesPerSecond / 1024).toFixed(1)} KiB/s`;
}

/**
 * Recommends a ring and a rotation for a window.
 *
 * @example Two CPUs, the busier writing 100 KiB/s, a one-minute window on a real host
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const plan = planBuffers({ "0": 100 * 1024, "1": 20 * 1024 }, 60, "real");
 * assertEquals(plan.buffer?.flag, "9M"); // 100 KiB/s × 60 s × 1.5 = 8.8 MiB, rounded up
 * assertEquals(plan.rotate?.flag, "3M,4"); // 3 full files of 3M hold the 8.8 MiB, plus the one being written
 * ```
 */
export function planBuffers(rates: Record<string, number>, windowSeconds: number, host: HostKind): Plan {
  const unit = host === "real" ? MiB : PAGE;
  const maxRate = Math.max(0, ...Object.values(rates));
  const needed = Math.ceil(maxRate * windowSeconds * HEADROOM);
  const bufferBytes = roundUp(needed, unit);
  // Only what start takes is recommended: past its limits the answer is "none", never a flag start refuses.
  const buffer = bufferBytes > MAX_BUFFER ? null : { bytes: bufferBytes, flag: flagSize(bufferBytes) };
  // COUNT-1 full files must hold the window: right after a switch the newest file is almost empty.
  const size = Math.min(roundUp(Math.max(needed / 3, unit), unit), MAX_ROTATE_SIZE);
  const count = Math.max(2, Math.ceil(needed / size) + 1);
  const rotate = count > MAX_ROTATE_COUNT ? null : { size, count, flag: `${flagSize(size)},${count}` };
  const arithmetic = [
    ...Object.entries(rates).map(([cpu, r]) => `CPU ${cpu}: ${rate(r)}`),
    `busiest CPU ${
      rate(maxRate)
    } × ${windowSeconds} s window × ${HEADROOM} headroom = ${needed} bytes per CPU`,
    buffer
      ? `memory: ${needed} bytes rounded up to ${
        host === "real" ? "whole MiB" : "4K"
      } = --buffer ${buffer.flag} (per CPU)`
      : `memory: ${needed} bytes per CPU is more than SystemTap's 4095M ring: use a file recorder`,
    rotate
      ? `file: ${count - 1} full files of ${
        flagSize(size)
      } ≥ ${needed} bytes, plus the one being written = --rotate ${rotate.flag} (per CPU)`
      : `file: ${needed} bytes per CPU is more than ${MAX_ROTATE_COUNT} files of 4095M: no rotation holds it`,
  ];
  return {
    rates,
    max_rate: maxRate,
    window_seconds: windowSeconds,
    headroom: HEADROOM,
    needed_per_cpu: needed,
    buffer,
    rotate,
    arithmetic,
  };
}
