/**
 * Each command's code, loaded when it runs: `stapfr --help` and `stapfr list` load only what they use.
 * `deno run` would still read and load every `import("…")` with a literal specifier before the first line
 * runs (the whole simulator, for `list`); deno.json's `"unstable": ["lazy-dynamic-imports"]` makes it wait
 * until the import runs. A compiled binary embeds them all either way. What each command takes is declared in
 * lib/declarations/declarations.ts.
 * @module
 */
import type { Context } from "./context.ts";

/** A command's implementation, loaded on demand. */
export interface CommandModule {
  /** Runs the command with the arguments after its name; returns the exit code. */
  run(args: string[], ctx: Context): Promise<number>;
}

/** The loader of every command of lib/declarations/declarations.ts, by name. */
export const LOADERS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  start: () => import("../commands/start.ts"),
  build: () => import("../commands/build.ts"),
  list: () => import("../commands/list.ts"),
  status: () => import("../commands/status.ts"),
  dump: () => import("../commands/dump.ts"),
  attach: () => import("../commands/attach.ts"),
  tail: () => import("../commands/tail.ts"),
  stop: () => import("../commands/stop.ts"),
  gc: () => import("../commands/gc.ts"),
  snapshot: () => import("../commands/snapshot.ts"),
  snapshots: () => import("../commands/snapshots.ts"),
  ship: () => import("../commands/ship.ts"),
  plan: () => import("../commands/plan.ts"),
  watch: () => import("../commands/watch.ts"),
  trigger: () => import("../commands/trigger.ts"),
  check: () => import("../commands/check.ts"),
  unit: () => import("../commands/unit.ts"),
  completions: () => import("../commands/completions.ts"),
  demo: () => import("../commands/demo.ts"),
  sim: () => import("../../sim/cmd/mod.ts"),
};
