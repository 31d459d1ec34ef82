/**
 * Checks made before SystemTap spends a minute compiling a module that cannot load.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { formatSize } from "../units.ts";

/** The memory figures the check needs (bytes), as `Deno.systemMemoryInfo()` gives them. */
export interface MemoryFigures {
  free: number;
  buffers: number;
}

/**
 * Refuses a memory ring that SystemTap 4.8 could not allocate. With an explicit `-s`, the runtime fails module
 * init when the rings of all online CPUs exceed free plus buffer memory (docs/systemtap-4.8.md 5.1): stap then reports only
 * an insert failure after compiling. Without an explicit size, stap shrinks the default itself, so there is
 * nothing to check.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * const mem = { free: 512 * 1024 * 1024, buffers: 0 };
 * checkRingFits(16 * 1024 * 1024, 4, mem); // 64M of 512M: fine
 * assertThrows(() => checkRingFits(256 * 1024 * 1024, 4, mem)); // 1G of 512M: refused
 * ```
 */
export function checkRingFits(bufferPerCpu: number, cpus: number, mem: MemoryFigures): void {
  const total = bufferPerCpu * cpus;
  const available = mem.free + mem.buffers;
  if (total <= available) return;
  throw new StapfrError(
    `Buffer "${formatSize(bufferPerCpu)}" per CPU needs ${formatSize(total)} for ${cpus} CPUs, ` +
      `more than the ${formatSize(available)} of free and buffer memory`,
    {
      hint: 'SystemTap would fail to load the module ("Cannot allocate memory"): choose a smaller "--buffer"',
    },
  );
}

/** The figures of this machine: online CPUs and free plus buffer memory. */
export function thisMachine(): { cpus: number; mem: MemoryFigures } {
  const info = Deno.systemMemoryInfo();
  return { cpus: navigator.hardwareConcurrency, mem: { free: info.free, buffers: info.buffers } };
}
