/**
 * stapfr: a flight-recorder manager for SystemTap, as a library.
 *
 * - {@linkcode Recorders}: the operations of the `stapfr` command line (start, list, status, dump, attach,
 *   tail, stop, gc, check, build, snapshot, snapshots, prune, plan, watch, trigger) over the installed
 *   SystemTap or the simulator, returning data instead of printing; reads also as web streams
 *   ({@linkcode RecorderStream}), sinks as functions or `WritableStream`s.
 * - Errors with a stable `code` ({@linkcode ERROR_CODES}): {@linkcode StapfrError} and its subclasses,
 *   {@linkcode OptionTypeError} and {@linkcode OptionRangeError} for options checked where they come in.
 * - One cancellation rule: `signal` cancels (the call rejects with `signal.reason`), `until` ends an operation
 *   that runs until told to stop (it resolves with what it got); a reader always detaches first.
 * - {@linkcode blockInspectorSignal}: the guard a long-running program needs against SIGUSR1, which makes Deno
 *   open a debugger port; the library itself sends no signal to its own process and installs no handler.
 * - {@linkcode readModuleInfo}: a kernel module's `.modinfo` (name, vermagic, the release it was built for),
 *   read without modinfo(8), for prebuilt modules.
 * - {@linkcode planBuffers} and {@linkcode selectPrunable}: the buffer planner's arithmetic and the retention
 *   rule, as pure functions.
 * - {@linkcode Simulator}: SystemTap's flight recorder in-process on a virtual clock, deterministic for a seed
 *   (relay rings, module detach/reattach, stapio and file rotation, the script language on a synthetic
 *   workload), for planning and rehearsing a recording without root or a kernel.
 * - The units the command line takes (sizes, rotations, durations, recorder names).
 *
 * Options and the API's own names are camelCase; results, manifests and watch events are snake_case, because
 * they are the very JSON documents `stapfr --json` prints and `manifest.json` holds. A program needs
 * `--allow-read`, `--allow-write`, `--allow-run`, `--allow-env`, `--allow-sys`, and `--allow-net` for the
 * simulator's and the watcher's Unix sockets; `--allow-ffi` for {@linkcode blockInspectorSignal}, and to read
 * `/proc` through libc rather than helper processes (README "Library" says why each).
 *
 * @example Rehearse a memory recorder on virtual time
 * ```ts
 * import { Simulator } from "./mod.ts";
 * import { assert } from "@std/assert";
 * const sim = new Simulator({ seed: 1, rate: 500 });
 * sim.load("stap_fr_io", 'probe vfs.read { printdln("**", pn(), execname(), pid()) }');
 * sim.advance(3000);
 * const reader = sim.attach("stap_fr_io");
 * sim.advance(2500);
 * assert(reader.output().startsWith("vfs.read**"));
 * reader.detach();
 * ```
 *
 * @example List the recorders of a state directory on the simulator
 * ```ts
 * import { Recorders } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root });
 * assertEquals((await recorders.list()).recorders, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @example Build a prebuilt module on the simulator and read the kernel release it was built for
 * ```ts
 * import { readModuleInfo, Recorders } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root });
 * const built = await recorders.build({
 *   name: "io",
 *   script: { text: 'probe vfs.read { printf("%s\\n", execname()) }' },
 *   kernel: "6.1.0-57-amd64",
 *   outDir: root,
 * });
 * assertEquals(built.module_path, `${root}/stap_fr_io.ko`);
 * assertEquals((await readModuleInfo(built.module_path)).release, "6.1.0-57-amd64");
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @example Browse and prune a snapshot store (here an empty one)
 * ```ts
 * import { Recorders } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 * const root = await Deno.makeTempDir();
 * const recorders = new Recorders({ sim: true, simRoot: root, store: `${root}/snapshots` });
 * assertEquals((await recorders.snapshots()).snapshots, []);
 * const pruned = await recorders.pruneSnapshots({ keep: 5, maxAgeMs: 7 * 86_400_000 }, { dryRun: true });
 * assertEquals(pruned.removed, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @example Recommend a ring for a window from measured rates
 * ```ts
 * import { planBuffers } from "./mod.ts";
 * import { assertEquals } from "@std/assert";
 * const plan = planBuffers({ "0": 2 * 1024 * 1024, "1": 512 * 1024 }, 10, "real");
 * assertEquals(plan.buffer?.flag, "30M"); // 2 MiB/s × 10 s × 1.5 headroom
 * ```
 *
 * @module
 */
export * from "./lib/api/recorders.ts";
export { HEADROOM, type Plan, planBuffers } from "./lib/recorder/planner.ts";
export type { RetentionBounds } from "./lib/units.ts";
export { type RetentionItem, selectPrunable } from "./lib/snapshots/retention.ts";
export {
  type ElfFile,
  type ModuleInfo,
  moduleInfo,
  NotAModuleError,
  readModuleInfo,
} from "./lib/driver/modinfo.ts";
export { runningRelease, SIM_RELEASE, simRelease } from "./lib/kernel_release.ts";
export { realHost, simHost } from "./lib/host.ts";
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
export {
  ERROR_CODES,
  type ErrorCode,
  errorCode,
  ExitCode,
  exitCodeOf,
  type ExitCodeValue,
  Interrupted,
  OptionRangeError,
  OptionTypeError,
  StapfrError,
  type StapfrErrorOptions,
  UsageError,
} from "./lib/errors.ts";
export { KnobError } from "./lib/knobs.ts";
export { StoreError } from "./lib/snapshots/store_errors.ts";
export { DamagedSnapshot } from "./lib/snapshots/verify.ts";
export { GcConfirmationNeeded } from "./lib/recorder/gc.ts";
export { ScriptError, UnsupportedScriptError } from "./sim/lang/mod.ts";
export { blockInspectorSignal, type InspectorGuard } from "./lib/inspector_guard.ts";
export { eventLine, type WatchEventBase } from "./lib/watch/events.ts";
export type { LossReport, MissingRecords } from "./lib/recorder/loss.ts";
export type { SeqRange } from "./lib/read_path/ledger.ts";
export * from "./sim/simulator.ts";
