/**
 * stapfr: a flight-recorder manager for SystemTap, as a library.
 *
 * The same operations as the `stapfr` command line, over the real `stap`/`staprun` or the simulator, plus the
 * in-process simulator of SystemTap (relay rings, module lifecycle, stapio, the script language on a synthetic
 * workload) for planning and rehearsing a recording without root or a kernel.
 *
 * @example Parse the sizes the command line takes
 * ```ts
 * import { parseBufferSize } from "./mod.ts";
 * import { assertEquals } from "./lib/deps/assert.ts";
 * assertEquals(parseBufferSize("16M", "real"), 16 * 1024 * 1024);
 * ```
 *
 * @module
 */
export {
  formatSize,
  type HostKind,
  MAX_NAME_LENGTH,
  MiB,
  moduleName,
  PAGE,
  parseBufferSize,
  parseDuration,
  parseRotate,
  parseSize,
  type RotateSpec,
  validateName,
} from "./lib/units.ts";
export { ExitCode, Interrupted, StapfrError, UsageError } from "./lib/errors.ts";
