/**
 * The command table: names, one-line summaries and usage, and a lazy loader for each command's code, so that
 * `stapfr --help` and `stapfr list` load only what they use.
 * @module
 */
import type { Context } from "./context.ts";

/** A command's implementation, loaded on demand. */
export interface CommandModule {
  /** Runs the command with the arguments after its name; returns the exit code. */
  run(args: string[], ctx: Context): Promise<number>;
}

/** One row of the command table. */
export interface CommandInfo {
  summary: string;
  usage: string;
  /** Flag descriptions for `stapfr COMMAND --help`. */
  help?: string;
  /** The command handles SIGINT and SIGTERM itself (cli.ts installs no listeners for it). */
  ownSignals?: boolean;
  /** Undefined while the command is not built yet. */
  load?: () => Promise<CommandModule>;
}

/** Every command of docs/architecture.md, in the order `--help` lists them. */
export const COMMANDS: Record<string, CommandInfo> = {
  start: {
    load: () => import("../commands/start.ts"),
    summary: "Start a recorder in the background",
    usage:
      "start NAME (SCRIPT_FILE | -e SCRIPT | --module FILE.ko) [--buffer SIZE] [--output PATH [--rotate SIZE[,COUNT]]] [--bulk] [-- STAP_ARGS…]",
    help: `  -e, --script SCRIPT   the script text instead of a file
  --module FILE.ko      a prebuilt module ("build"), started with staprun: stap_fr_NAME.ko for this kernel
  --buffer SIZE         memory mode: ring size per CPU (default 16M; 1M–4095M, simulator also 4K steps)
  --output PATH         file mode: a directory; each run writes PATH/NAME-<UTC time>/NAME.out*
  --rotate SIZE[,COUNT] file mode: switch files at SIZE, keep COUNT (per CPU on SystemTap 4.x)
  --bulk                file mode: one file per CPU, merged when read
  -- STAP_ARGS…         passed to stap as they are`,
  },
  build: {
    load: () => import("../commands/build.ts"),
    summary: "Compile a recorder's module for a kernel, to start it later with start --module",
    usage: "build NAME (SCRIPT_FILE | -e SCRIPT) [--kernel RELEASE] [--bulk] [--out-dir DIR] [-- STAP_ARGS…]",
    help: `  -e, --script SCRIPT   the script text instead of a file
  --kernel RELEASE      the target kernel (default: the running one); needs its build tree (linux-headers)
  --bulk                one output file per CPU: needed to rotate a file recorder on SMP
  --out-dir DIR         where to write stap_fr_NAME.ko and stap_fr_NAME.json (default: .)
  -- STAP_ARGS…         passed to stap as they are (e.g. -R DIR for a fixed runtime, -g, -DNAME=VALUE)`,
  },
  list: {
    load: () => import("../commands/list.ts"),
    summary: "List every recorder: name, mode, state, module, pid, age, bytes",
    usage: "list",
  },
  status: {
    load: () => import("../commands/status.ts"),
    summary: "Show one recorder in detail",
    usage: "status NAME",
  },
  dump: {
    load: () => import("../commands/dump.ts"),
    summary: "Print what a recorder holds; recording goes on",
    usage: "dump NAME [-o FILE] [--raw]",
    help: `  -o, --output FILE     write to a new file (0600) instead of stdout
  --raw                 the bytes as stapio wrote them: no cutting of damaged lines
A memory dump reads at most what the ring holds, for at most 30 s ($STAPFR_DUMP_MAX_MS).`,
  },
  attach: {
    load: () => import("../commands/attach.ts"),
    summary: "Live output; Ctrl-C detaches, never unloads",
    usage: "attach NAME [--raw]",
    help: "  --raw                 the bytes as stapio wrote them: no cutting of damaged lines",
  },
  tail: {
    load: () => import("../commands/tail.ts"),
    summary: "Last lines of a recorder, following with -f",
    usage: "tail NAME [-n N] [-f] [--raw]",
    help: `  -n, --lines N         how many lines (default 10)
  -f, --follow          keep printing new lines, across rotations
  --raw                 the bytes as stapio wrote them: no cutting of damaged lines`,
  },
  stop: {
    load: () => import("../commands/stop.ts"),
    summary: "End a recording, printing what is still buffered and the end-probe output",
    usage: "stop NAME [--discard] [--raw]",
    help: `  --discard             unload without reading what is buffered
  --raw                 the bytes as stapio wrote them: no cutting of damaged lines`,
  },
  gc: {
    load: () => import("../commands/gc.ts"),
    summary: "Reconcile the registry with loaded modules and live processes",
    usage: "gc [--unload-orphans]",
    help: "  --unload-orphans      also unload stap_ modules nobody registered (never anything else)",
  },
  check: {
    load: () => import("../commands/check.ts"),
    summary: "Validate a script (stap -p2, or the simulator's parser with --sim)",
    usage: "check (SCRIPT_FILE | -e SCRIPT)",
  },
  demo: {
    summary: "The seed scenario on the simulator, end to end",
    usage: "demo",
    load: () => import("../commands/demo.ts"),
  },
  sim: {
    summary: "The simulator's stand-ins for stap, staprun and lsmod",
    usage: "sim (stap ARGS… | staprun ARGS… | lsmod | shims DIR)",
    // The stand-ins behave as stapio: a second signal resends EXIT, a third gives up.
    ownSignals: true,
    load: () => import("../../sim/cmd/mod.ts"),
  },
};
