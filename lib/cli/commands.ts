/**
 * The command table: names, one-line summaries and usage, and a lazy loader for each command's code, so that
 * `stapfr --help` and `stapfr list` load only what they use. `deno run` would still read and load every
 * `import("…")` with a literal specifier before the first line runs (the whole simulator, for `list`);
 * deno.json's `"unstable": ["lazy-dynamic-imports"]` makes it wait until the import runs. A compiled binary
 * embeds them all either way.
 * @module
 */
import type { Context } from "./context.ts";
import { TRIGGER_KINDS } from "../watch/spec.ts";

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
  /** It also takes every flag of these commands (`unit` takes `start`'s), as lib/cli/flags.ts reads them. */
  flagsFrom?: string[];
  /** The words a flag's first value may be (`--on` takes a trigger kind), for completions. */
  choices?: Record<string, string[]>;
  /**
   * Ctrl-Z (SIGTSTP) detaches its reader before the process stops, and it attaches again when continued
   * (lib/cli/suspend.ts): the commands that show live output.
   */
  suspendable?: boolean;
  /** The command handles SIGINT and SIGTERM itself (cli.ts installs no listeners for it). */
  ownSignals?: boolean;
  /**
   * The command ends well within the 500 ms after which Deno answers SIGUSR1 by opening its inspector, so it
   * does not pay for the restart that blocks SIGUSR1 (lib/inspector_guard.ts); every other command does.
   */
  quick?: boolean;
  /** Imports the command's code. */
  load: () => Promise<CommandModule>;
}

/** Every command of docs/architecture.md, in the order `--help` lists them. */
export const COMMANDS: Record<string, CommandInfo> = {
  start: {
    load: () => import("../commands/start.ts"),
    summary: "Start a recorder in the background",
    usage:
      "start NAME (SCRIPT_FILE | -e SCRIPT | --module FILE.ko) [--buffer SIZE] [--output PATH [--rotate SIZE[,COUNT]]] [--bulk] [--adopt] [-- STAP_ARGS…]",
    help: `  -e, --script SCRIPT   the script text instead of a file
  --module FILE.ko      a prebuilt module ("build"), started with staprun: stap_fr_NAME.ko for this kernel
  --buffer SIZE         memory mode: ring size per CPU (default 16M; 1M–4095M, simulator also 4K steps)
  --output PATH         file mode: a directory; each run writes PATH/NAME-<UTC time>/NAME.out*
  --rotate SIZE[,COUNT] file mode: switch files at SIZE, keep COUNT (per CPU on SystemTap 4.x)
  --bulk                file mode: one file per CPU, merged when read
  --adopt               a recorder of this name already recording is adopted (exit 0), not refused
  --keep-snapshots N    keep at most N snapshots of this recorder (applied after each new one)
  --snapshot-max-age D  delete its snapshots older than D
  --snapshot-max-size S keep at most S bytes of its snapshots
  -- STAP_ARGS…         passed to stap as they are`,
  },
  build: {
    load: () => import("../commands/build.ts"),
    summary: "Compile a recorder's module for a kernel, to start it later with start --module",
    usage:
      "build NAME (SCRIPT_FILE | -e SCRIPT) [--kernel RELEASE] [--no-bulk] [--out-dir DIR] [-- STAP_ARGS…]",
    help: `  -e, --script SCRIPT   the script text instead of a file
  --kernel RELEASE      the target kernel (default: the running one); needs its build tree (linux-headers)
  --no-bulk             plain text output instead of bulk records (the default, which memory recorders read
                        by sequence number and rotating file recorders on SMP need)
  --out-dir DIR         where to write stap_fr_NAME.ko and stap_fr_NAME.json (default: .)
  -- STAP_ARGS…         passed to stap as they are (e.g. -R DIR for a fixed runtime, -g, -DNAME=VALUE)`,
  },
  list: {
    quick: true,
    load: () => import("../commands/list.ts"),
    summary: "List every recorder: name, mode, state, module, pid, age, bytes",
    usage: "list",
  },
  status: {
    quick: true,
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
    suspendable: true,
    load: () => import("../commands/attach.ts"),
    summary: "Live output; Ctrl-C detaches, never unloads",
    usage: "attach NAME [--raw]",
    help: "  --raw                 the bytes as stapio wrote them: no cutting of damaged lines",
  },
  tail: {
    suspendable: true,
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
    usage: "gc [--unload-orphans [--yes]]",
    help: "  --unload-orphans      also unload stap_ modules nobody registered (never anything else)\n" +
      "  --yes                 with --unload-orphans: also unload stap_fr_ modules (another state dir's recorders?)",
  },
  snapshot: {
    load: () => import("../commands/snapshot.ts"),
    summary: "Capture a recorder's current window into the snapshot store",
    usage: "snapshot NAME [--reason TEXT] [--store DIR] [--ship [URL]] [--endpoint URL]",
    help: `  --reason TEXT         why, kept in the manifest
  --store DIR           the snapshot store (default $STAPFR_STORE, else STATE_DIR/snapshots)
  --ship [URL]          then ship it to s3://BUCKET/PREFIX (default $STAPFR_SHIP_TO); kept here if it cannot go
  --endpoint URL        with --ship: an S3-compatible store instead of AWS S3 ($AWS_ENDPOINT_URL)`,
  },
  snapshots: {
    load: () => import("../commands/snapshots.ts"),
    summary: "List, show, verify and prune snapshots, here or in the fleet's store",
    usage:
      "snapshots [NAME] | snapshots show ID [--data [-o FILE]] | snapshots verify [ID…] | snapshots prune [NAME] [--keep N] [--max-age DURATION] [--max-size SIZE] [--dry-run] | snapshots --remote [URL] [--host HOST] [--recorder NAME] [--since WHEN] [--until WHEN] [--reason REGEX] [--trigger KIND] | snapshots fetch URL [-o DIR]",
    help: `  show ID               the manifest (ID or NAME/ID); --data prints the data as one ordered stream,
                        checked against the manifest as it goes
  -o, --output FILE     with --data: write to a new file (0600)
  verify [ID…]          read every data file (of the snapshots given, else all) and check it against its manifest
  prune                 delete the oldest snapshots until every bound holds (per recorder); --keep 0 deletes all
  --keep N              keep at most N snapshots
  --max-age DURATION    delete snapshots older than DURATION (like 12h or 7d)
  --max-size SIZE       keep at most SIZE bytes of snapshots
  --dry-run             say what would be removed, remove nothing
  --store DIR           the snapshot store (default $STAPFR_STORE, else STATE_DIR/snapshots)
  Flags W (wrapped: older data lost before it), G (a gap since the previous snapshot), D (damaged: a data
  file missing or of the wrong size), U (not shipped yet) and S (shipped) in the listing. A snapshot not
  shipped yet is pruned only by --max-size, and said.
The fleet's store (s3://BUCKET/PREFIX, from --remote or $STAPFR_SHIP_TO; see "stapfr ship --help"):
  --remote [URL]        list the snapshots of every host; show and fetch take HOST/RECORDER/ID or its URL
  --host HOST           only this host's
  --recorder NAME       only this recorder's
  --since WHEN          taken at or after WHEN: a duration before now (1h, 7d) or a time (2026-12-01T05:00Z)
  --until WHEN          taken at or before WHEN
  --reason REGEX        whose reason matches
  --trigger KIND        taken by this trigger (user, signal, log, pressure, exit-status, process, marker, service)
  fetch URL             download one (HOST/RECORDER/ID or its URL), every SHA-256 checked
  -o, --output DIR      with fetch: into DIR (default ./HOST/RECORDER/ID)
  --endpoint URL        an S3-compatible store instead of AWS S3 ($AWS_ENDPOINT_URL)`,
  },
  ship: {
    load: () => import("../commands/ship.ts"),
    summary: "Upload snapshots to S3-compatible object storage (the fleet's store)",
    usage: "ship [NAME | ID]… [--to URL] [--endpoint URL] [--pending] [--store DIR]",
    help:
      `  NAME | ID | NAME/ID   what to ship: a recorder's snapshots, or one snapshot (default: every snapshot)
  --to URL              s3://BUCKET/PREFIX (default $STAPFR_SHIP_TO)
  --endpoint URL        an S3-compatible store (RADOS Gateway, MinIO, …) instead of AWS S3 ($AWS_ENDPOINT_URL)
  --pending             send what earlier ships could not, each where it was meant to go
  --store DIR           the snapshot store (default $STAPFR_STORE, else STATE_DIR/snapshots)
  Credentials come from the AWS chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE), never from the command line.`,
  },
  plan: {
    load: () => import("../commands/plan.ts"),
    summary: "Measure a script's output rate and recommend --buffer and --rotate for a window",
    usage: "plan (SCRIPT_FILE | -e SCRIPT) --window DURATION [--measure DURATION] [-- STAP_ARGS…]",
    help: `  -e, --script SCRIPT   the script text instead of a file
  --window DURATION     how much recent output to keep (like 30s, 10m, 2h)
  --measure DURATION    how long to run the script to measure it (default 10s)
  -- STAP_ARGS…         passed to stap as they are`,
  },
  watch: {
    load: () => import("../commands/watch.ts"),
    summary: "Watch a recorder and its triggers; take snapshots when they fire",
    usage:
      "watch NAME [--on TRIGGER ARGS…]… [--cooldown D] [--max-per-day N] [--hold D] [--delay D] [--keep N] [--max-age D] [--max-size S] [--switch-every D] [--service] [--ship URL [--endpoint URL]] [-- CMD…]",
    help: `  --on signal                      "stapfr trigger NAME" (over the watcher's socket)
  --on exit-status [--interval D]  a health check: the command after "--" (to the end), failing fires
  --on log FILE REGEX              a line matching REGEX in FILE (followed across rotation; "-" is stdin)
  --on pressure RES SCOPE EXPR     kernel PSI: RES cpu|memory|io, SCOPE some|full, EXPR like avg10>40
  --on process PID|NAME            the process disappears
  --on marker REGEX                a line of the recorder's new output (file recorders only)
  --cooldown D                     no second snapshot within D
  --max-per-day N                  at most N snapshots in any 24 hours
  --hold D                         a condition (pressure, exit-status, process) must hold for D
  --delay D                        take the snapshot D after the trigger (the aftermath is in it)
  --keep N, --max-age D, --max-size S   retention after each snapshot
  --switch-every D                 file recorders: switch files every D (stapio's SIGUSR2)
  --interval D                     how often conditions are checked (default 1s)
  --service                        on SIGTERM: a final snapshot ("service stop"), then stop the recorder
  --store DIR                      the snapshot store
  --ship URL                       ship each snapshot to s3://BUCKET/PREFIX ($STAPFR_SHIP_TO when no URL);
                                   what cannot go stays pending, retried with backoff
  --endpoint URL                   with --ship: an S3-compatible store instead of AWS S3`,
    choices: { "--on": [...TRIGGER_KINDS] },
  },
  trigger: {
    load: () => import("../commands/trigger.ts"),
    summary: "Fire the watcher's signal trigger (or take a plain snapshot when no watcher runs)",
    usage: "trigger NAME [--reason TEXT] [--store DIR]",
  },
  check: {
    load: () => import("../commands/check.ts"),
    summary: "Validate a script (stap -p2, or the simulator's parser with --sim)",
    usage: "check (SCRIPT_FILE | -e SCRIPT)",
  },
  unit: {
    load: () => import("../commands/unit.ts"),
    summary: "Print (or install) a systemd unit that runs a recorder and its watcher",
    usage:
      "unit NAME (SCRIPT_FILE | -e SCRIPT | --module FILE.ko) [START_FLAGS…] [WATCH_FLAGS…] [--aws-env-file FILE | --aws-credentials FILE] [--install [--unit-dir DIR] [--force] [--daemon-reload]] [-- STAP_ARGS… | -- CMD…]",
    help: `  -e, --script SCRIPT   the script text instead of a file (kept in the unit, escaped for systemd)
  --module FILE.ko      a prebuilt module instead of a script
  START_FLAGS           those of "stapfr start" (--buffer, --output, --rotate, --bulk, …) for its start line
  WATCH_FLAGS           those of "stapfr watch" (--on …, --cooldown, --keep, …) for its watch line; after
                        "--", the command of an "--on exit-status" trigger if there is one, else STAP_ARGS
  --install             write it to /etc/systemd/system/stapfr-NAME.service (0644) instead of printing it
  --unit-dir DIR        with --install: write into DIR instead of /etc/systemd/system
  --force               with --install: replace an existing unit that differs
  --daemon-reload       with --install: run "systemctl daemon-reload" afterwards
  --aws-env-file FILE   with --ship: the service reads its AWS_* variables from FILE (EnvironmentFile=, 0600)
  --aws-credentials FILE  with --ship: an AWS shared credentials file passed as a systemd credential
                        (LoadCredential=); the unit never holds a secret itself`,
    flagsFrom: ["start", "watch"],
  },
  completions: {
    quick: true,
    load: () => import("../commands/completions.ts"),
    summary: "Print a completion script for bash, zsh or fish",
    usage: "completions bash|zsh|fish",
    help:
      `  bash: source <(stapfr completions bash), or save it as /usr/share/bash-completion/completions/stapfr
  zsh:  save it as _stapfr in a directory of $fpath (or source <(stapfr completions zsh))
  fish: save it as ~/.config/fish/completions/stapfr.fish`,
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
