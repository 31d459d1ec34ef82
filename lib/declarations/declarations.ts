/**
 * Every command of the command line, declared once: its name, arguments, flags with their types, defaults,
 * units and help (the shape is lib/declarations/declaration.ts). Everything else is read from here: parsing
 * (lib/cli/parse.ts), `--help` and the usage lines (lib/cli/help.ts), the README's command reference
 * (lib/cli/reference.ts, checked by tests/docs/declarations_test.ts), the shell completions (lib/completions/), the
 * unit writer's arguments (lib/service/unit_args.ts), and the ranges and defaults the library shares with the
 * command line (lib/api/check_options.ts, the watcher, the planner).
 *
 * Plain data, imports nothing: `cli.ts` loads it at every start, and the commands' code only when it runs
 * (lib/cli/loaders.ts).
 * @module
 */
import type { CommandDeclaration, FlagDeclaration } from "./declaration.ts";

const SECOND = 1000;
const DAY = 86_400_000;
const MiB = 1024 * 1024;
/** setTimeout holds at most 2^31-1 ms: every duration waited for with a timer stops at 24 days. */
export const TIMER_MAX = 24 * DAY;

const SCRIPT: FlagDeclaration = {
  long: "script",
  short: "e",
  value: "SCRIPT",
  help: "the script text instead of a file",
};
const STORE: FlagDeclaration = {
  long: "store",
  value: "DIR",
  kind: "dir",
  defaultText: "$STAPFR_STORE, else STATE_DIR/snapshots",
  help: "the snapshot store",
};
const ENDPOINT: FlagDeclaration = {
  long: "endpoint",
  value: "URL",
  kind: "url",
  defaultText: "$AWS_ENDPOINT_URL, else AWS S3",
  help: "an S3-compatible store (RADOS Gateway, MinIO, …) instead of AWS S3",
};
const RAW: FlagDeclaration = {
  long: "raw",
  help: "the bytes as stapio wrote them: no cutting of damaged lines",
};
const REASON: FlagDeclaration = { long: "reason", value: "TEXT", help: "why, kept in the manifest" };
const NAME = { name: "NAME", kind: "recorder" } as const;
const STAP_ARGS = { name: "STAP_ARGS…", help: "passed to stap as they are" } as const;

/** The retention flags, named as `prefix` says (`snapshots prune`: none; `start`: `snapshot-`). */
function retention(
  names: { keep: string; maxAge: string; maxSize: string },
  zero: boolean,
): FlagDeclaration[] {
  const min = zero ? 0 : 1;
  return [
    {
      long: names.keep,
      value: "N",
      kind: "count",
      min,
      max: 1_000_000,
      help: zero ? "keep at most N snapshots (0 deletes all)" : "keep at most N snapshots (not 0)",
    },
    {
      long: names.maxAge,
      value: "DURATION",
      kind: "duration",
      min,
      help: "delete snapshots older than DURATION (like 12h or 7d)",
    },
    { long: names.maxSize, value: "SIZE", kind: "size", min, help: "keep at most SIZE bytes of snapshots" },
  ];
}

/** The options before the command name. */
export const GLOBAL_FLAGS: readonly FlagDeclaration[] = [
  { long: "sim", help: "use the simulated SystemTap (also STAPFR_SIM=1)" },
  {
    long: "state-dir",
    value: "DIR",
    kind: "dir",
    defaultText: "$STAPFR_STATE_DIR, then /var/lib/stapfr as root or ~/.local/state/stapfr",
    help: "where recorders are registered",
  },
  { long: "json", help: "print one JSON document on stdout" },
  { long: "help", short: "h", help: 'this help; "stapfr COMMAND --help" for one command' },
  { long: "version", short: "V", help: "print the version" },
];

/** The triggers of `watch --on`, in the order help lists them. */
const TRIGGERS = [
  { word: "signal", help: '"stapfr trigger NAME" (over the watcher\'s socket)' },
  {
    word: "exit-status",
    args: "[--interval D]",
    help: 'a health check: the command after "--" (to the end), failing (or not answering within D) fires',
    flags: [{
      long: "interval",
      value: "D",
      kind: "duration",
      default: "10s",
      min: 100,
      max: TIMER_MAX,
      help: "run it every D",
    }],
  },
  {
    word: "log",
    args: "FILE REGEX",
    help: 'a line matching REGEX in FILE (followed across rotation; "-" is stdin)',
  },
  {
    word: "pressure",
    args: "RES SCOPE EXPR",
    help: "kernel PSI: RES cpu|memory|io, SCOPE some|full, EXPR like avg10>40",
  },
  { word: "process", args: "PID|NAME", help: "the process disappears" },
  { word: "marker", args: "REGEX", help: "a line of the recorder's new output (file recorders only)" },
] as const;

/** Every command, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandDeclaration>> = {
  start: {
    name: "start",
    summary: "Start a recorder in the background",
    forms: [{
      positionals: [NAME, { name: "SCRIPT_FILE", kind: "file", optional: true }],
      oneOf: ["SCRIPT_FILE", "script", "module"],
      flags: [
        SCRIPT,
        {
          long: "module",
          value: "FILE.ko",
          kind: "file",
          help: 'a prebuilt module ("build"), started with staprun: stap_fr_NAME.ko for this kernel',
        },
        {
          long: "buffer",
          value: "SIZE",
          kind: "size",
          min: MiB,
          max: 4095 * MiB,
          defaultText: "16M, stap's",
          help: "memory mode: ring size per CPU (the simulator also takes multiples of 4K)",
        },
        {
          long: "output",
          value: "PATH",
          kind: "dir",
          help: "file mode: a directory; each run writes PATH/NAME-<UTC time>/NAME.out*",
        },
        {
          long: "rotate",
          value: "SIZE[,COUNT]",
          kind: "size",
          needs: "output",
          help: "switch files at SIZE, keep COUNT (per CPU on SystemTap 4.x)",
        },
        { long: "bulk", needs: "output", help: "one file per CPU, merged when read" },
        { long: "adopt", help: "a recorder of this name already recording is adopted (exit 0), not refused" },
        ...retention(
          { keep: "keep-snapshots", maxAge: "snapshot-max-age", maxSize: "snapshot-max-size" },
          false,
        )
          .map((f) => ({ ...f, help: `${f.help}, applied after each new snapshot of this recorder` })),
      ],
      rest: STAP_ARGS,
    }],
  },
  build: {
    name: "build",
    summary: "Compile a recorder's module for a kernel, to start it later with start --module",
    forms: [{
      positionals: [NAME, { name: "SCRIPT_FILE", kind: "file", optional: true }],
      oneOf: ["SCRIPT_FILE", "script"],
      flags: [
        SCRIPT,
        {
          long: "kernel",
          value: "RELEASE",
          defaultText: "the running kernel's",
          help: "the target kernel; needs its build tree (linux-headers)",
        },
        {
          long: "bulk",
          help: "bulk records (the default): what memory recorders read by sequence number and rotating " +
            "file recorders on SMP need",
        },
        { long: "no-bulk", help: "plain text output instead of bulk records" },
        {
          long: "out-dir",
          value: "DIR",
          kind: "dir",
          default: ".",
          help: "where to write stap_fr_NAME.ko and stap_fr_NAME.json",
        },
      ],
      rest: { name: "STAP_ARGS…", help: "passed to stap as they are (e.g. -R DIR for a fixed runtime, -g)" },
    }],
  },
  list: {
    name: "list",
    summary: "List every recorder: name, mode, state, module, pid, age, bytes",
    quick: true,
    forms: [{ positionals: [], flags: [] }],
  },
  status: {
    name: "status",
    summary: "Show one recorder in detail",
    quick: true,
    forms: [{ positionals: [NAME], flags: [] }],
  },
  dump: {
    name: "dump",
    summary: "Print what a recorder holds; recording goes on",
    forms: [{
      positionals: [NAME],
      flags: [
        {
          long: "output",
          short: "o",
          value: "FILE",
          kind: "file",
          help: "write to a new file (0600) instead of stdout",
        },
        RAW,
      ],
    }],
    notes: ["A memory dump reads at most what the ring holds, for at most 30 s ($STAPFR_DUMP_MAX_MS)."],
  },
  attach: {
    name: "attach",
    summary: "Live output; Ctrl-C detaches, never unloads",
    suspendable: true,
    forms: [{ positionals: [NAME], flags: [RAW] }],
  },
  tail: {
    name: "tail",
    summary: "Last lines of a recorder, following with -f",
    suspendable: true,
    forms: [{
      positionals: [NAME],
      flags: [
        {
          long: "lines",
          short: "n",
          value: "N",
          kind: "count",
          default: "10",
          min: 0,
          max: 10_000_000,
          help: "how many lines",
        },
        { long: "follow", short: "f", help: "keep printing new lines, across rotations" },
        RAW,
      ],
    }],
  },
  stop: {
    name: "stop",
    summary: "End a recording, printing what is still buffered and the end-probe output",
    forms: [{
      positionals: [NAME],
      flags: [{ long: "discard", help: "unload without reading what is buffered" }, RAW],
    }],
  },
  gc: {
    name: "gc",
    summary: "Reconcile the registry with loaded modules and live processes",
    forms: [{
      positionals: [],
      flags: [
        { long: "unload-orphans", help: "also unload stap_ modules nobody registered (never anything else)" },
        {
          long: "yes",
          needs: "unload-orphans",
          help: "also unload stap_fr_ modules (another state directory's recorders?)",
        },
      ],
    }],
  },
  snapshot: {
    name: "snapshot",
    summary: "Capture a recorder's current window into the snapshot store",
    forms: [{
      positionals: [NAME],
      flags: [
        REASON,
        STORE,
        {
          long: "ship",
          value: "URL",
          kind: "url",
          optionalPrefix: "s3://",
          defaultText: "$STAPFR_SHIP_TO",
          help: "then ship it to s3://BUCKET/PREFIX; kept here, marked pending, if it cannot go",
        },
        { ...ENDPOINT, needs: "ship" },
      ],
    }],
  },
  snapshots: {
    name: "snapshots",
    summary: "List, show, verify and prune snapshots, here or in the fleet's store",
    forms: [
      {
        summary: "the snapshots in the store (of one recorder)",
        positionals: [{ ...NAME, optional: true }],
        flags: [STORE],
      },
      {
        keyword: "show",
        summary: "the manifest (ID or NAME/ID); --data prints the data as one ordered stream, checked " +
          "against the manifest as it goes",
        positionals: [{ name: "ID", kind: "snapshot" }],
        flags: [
          { long: "data", help: "the data instead of the manifest" },
          {
            long: "output",
            short: "o",
            value: "FILE",
            kind: "file",
            needs: "data",
            help: "write to a new file (0600)",
          },
          STORE,
        ],
      },
      {
        keyword: "verify",
        summary: "read every data file (of the snapshots given, else all) and check it against its manifest",
        positionals: [{ name: "ID", kind: "snapshot", optional: true, variadic: true }],
        flags: [STORE],
      },
      {
        keyword: "prune",
        summary: "delete the oldest snapshots until every bound holds (per recorder)",
        positionals: [{ ...NAME, optional: true }],
        flags: [
          ...retention({ keep: "keep", maxAge: "max-age", maxSize: "max-size" }, true),
          { long: "dry-run", help: "say what would be removed, remove nothing" },
          STORE,
        ],
      },
      {
        summary: "the snapshots of every host in the fleet's store (s3://BUCKET/PREFIX)",
        positionals: [],
        flags: [
          {
            long: "remote",
            value: "URL",
            kind: "url",
            optionalPrefix: "s3://",
            defaultText: "$STAPFR_SHIP_TO",
            help: "list the snapshots of every host in this store",
          },
          { long: "host", value: "HOST", help: "only this host's" },
          { long: "recorder", value: "NAME", help: "only this recorder's" },
          {
            long: "since",
            value: "WHEN",
            kind: "when",
            help: "taken at or after WHEN: a duration before now (1h, 7d) or a time (2026-12-01T05:00Z)",
          },
          { long: "until", value: "WHEN", kind: "when", help: "taken at or before WHEN" },
          { long: "reason", value: "REGEX", kind: "regex", help: "whose reason matches" },
          {
            long: "trigger",
            value: "KIND",
            help:
              "taken by this trigger (user, signal, log, pressure, exit-status, process, marker, service)",
          },
          ENDPOINT,
        ],
      },
      {
        keyword: "show",
        summary:
          "a snapshot of the fleet's store: its manifest, or with --data its data, every SHA-256 checked",
        positionals: [{ name: "HOST/RECORDER/ID|URL" }],
        flags: [
          {
            long: "remote",
            value: "URL",
            kind: "url",
            optionalPrefix: "s3://",
            defaultText: "$STAPFR_SHIP_TO",
            help: "the fleet's store",
          },
          { long: "data", help: "the data instead of the manifest" },
          {
            long: "output",
            short: "o",
            value: "FILE",
            kind: "file",
            needs: "data",
            help: "write to a new file (0600)",
          },
          ENDPOINT,
        ],
      },
      {
        keyword: "fetch",
        summary: "download one snapshot of the fleet's store, every SHA-256 checked",
        positionals: [{ name: "HOST/RECORDER/ID|URL" }],
        flags: [
          {
            long: "remote",
            value: "URL",
            kind: "url",
            optionalPrefix: "s3://",
            defaultText: "$STAPFR_SHIP_TO",
            help: "the fleet's store",
          },
          {
            long: "output",
            short: "o",
            value: "DIR",
            kind: "dir",
            defaultText: "./HOST/RECORDER/ID",
            help: "into DIR",
          },
          ENDPOINT,
        ],
      },
    ],
    notes: [
      "Flags W (wrapped: older data lost before it), G (a gap since the previous snapshot), D (damaged: a data " +
      "file missing or of the wrong size), U (not shipped yet) and S (shipped) in the listing. A snapshot not " +
      "shipped yet is pruned only by --max-size, and said.",
    ],
  },
  ship: {
    name: "ship",
    summary: "Upload snapshots to S3-compatible object storage (the fleet's store)",
    forms: [{
      positionals: [{ name: "NAME|ID", kind: "recorder", optional: true, variadic: true }],
      flags: [
        {
          long: "to",
          value: "URL",
          kind: "url",
          defaultText: "$STAPFR_SHIP_TO",
          help: "where: s3://BUCKET/PREFIX",
        },
        ENDPOINT,
        { long: "pending", help: "send what earlier ships could not, each where it was meant to go" },
        STORE,
      ],
    }],
    notes: [
      "NAME|ID is what to ship: a recorder's snapshots, or one snapshot (ID or NAME/ID); every snapshot when " +
      "none is given. Credentials come from the AWS chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE), never from the " +
      "command line.",
    ],
  },
  plan: {
    name: "plan",
    summary: "Measure a script's output rate and recommend --buffer and --rotate for a window",
    forms: [{
      positionals: [{ name: "SCRIPT_FILE", kind: "file", optional: true }],
      oneOf: ["SCRIPT_FILE", "script"],
      flags: [
        SCRIPT,
        {
          long: "window",
          value: "DURATION",
          kind: "duration",
          required: true,
          min: 1,
          max: 365 * DAY,
          help: "how much recent output to keep (like 30s, 10m, 2h; at most 365d)",
        },
        {
          long: "measure",
          value: "DURATION",
          kind: "duration",
          default: "10s",
          min: 500,
          max: 3_600_000,
          help: "how long to run the script to measure it (500ms to 1h)",
        },
      ],
      rest: STAP_ARGS,
    }],
  },
  watch: {
    name: "watch",
    summary: "Watch a recorder and its triggers; take snapshots when they fire",
    forms: [{
      positionals: [NAME],
      flags: [
        {
          long: "on",
          value: "TRIGGER",
          multiple: true,
          choices: TRIGGERS,
          help: "a trigger: its words up to the next flag",
        },
        {
          long: "cooldown",
          value: "D",
          kind: "duration",
          min: 0,
          max: 365 * DAY,
          help: "no second snapshot within D",
        },
        {
          long: "max-per-day",
          value: "N",
          kind: "count",
          min: 1,
          max: 86_400,
          help: "at most N snapshots in any 24 hours (leave it out for no limit)",
        },
        {
          long: "hold",
          value: "D",
          kind: "duration",
          min: 0,
          max: TIMER_MAX,
          help: "a condition (pressure, exit-status, process) must hold for D",
        },
        {
          long: "delay",
          value: "D",
          kind: "duration",
          min: 0,
          max: TIMER_MAX,
          help: "take the snapshot D after the trigger (the aftermath is in it)",
        },
        ...retention({ keep: "keep", maxAge: "max-age", maxSize: "max-size" }, false)
          .map((f) => ({ ...f, help: `${f.help}, applied after each snapshot` })),
        {
          long: "switch-every",
          value: "D",
          kind: "duration",
          min: SECOND,
          max: TIMER_MAX,
          help: "file recorders: switch files every D (stapio's SIGUSR2)",
        },
        {
          long: "interval",
          value: "D",
          kind: "duration",
          default: "1s",
          min: 100,
          max: TIMER_MAX,
          help: "how often the conditions (pressure, process) and the recorder's state are checked " +
            "(the health check has its own)",
        },
        {
          long: "service",
          help: 'on SIGTERM: a final snapshot ("service stop"), then stop the recorder',
        },
        STORE,
        {
          long: "ship",
          value: "URL",
          kind: "url",
          optionalPrefix: "s3://",
          defaultText: "$STAPFR_SHIP_TO",
          help:
            "ship each snapshot to s3://BUCKET/PREFIX; what cannot go stays pending, retried with backoff",
        },
        { ...ENDPOINT, needs: "ship" },
      ],
      rest: { name: "CMD…", help: 'the health check of "--on exit-status": everything after "--"' },
    }],
  },
  trigger: {
    name: "trigger",
    summary: "Fire the watcher's signal trigger (or take a plain snapshot when no watcher runs)",
    forms: [{ positionals: [NAME], flags: [REASON, STORE] }],
  },
  check: {
    name: "check",
    summary: "Validate a script (stap -p2, or the simulator's parser with --sim)",
    forms: [{
      positionals: [{ name: "SCRIPT_FILE", kind: "file", optional: true }],
      oneOf: ["SCRIPT_FILE", "script"],
      flags: [SCRIPT],
    }],
  },
  unit: {
    name: "unit",
    summary: "Print (or install) a systemd unit that runs a recorder and its watcher",
    flagsFrom: ["start", "watch"],
    forms: [{
      positionals: [NAME, { name: "SCRIPT_FILE", kind: "file", optional: true }],
      oneOf: ["SCRIPT_FILE", "script", "module"],
      flags: [
        { ...SCRIPT, help: "the script text instead of a file (kept in the unit, escaped for systemd)" },
        { long: "module", value: "FILE.ko", kind: "file", help: "a prebuilt module instead of a script" },
        {
          long: "aws-env-file",
          value: "FILE",
          kind: "file",
          needs: "ship",
          help: "the service reads its AWS_* variables from FILE (EnvironmentFile=, 0600)",
        },
        {
          long: "aws-credentials",
          value: "FILE",
          kind: "file",
          needs: "ship",
          help: "an AWS shared credentials file passed as a systemd credential (LoadCredential=, 0600)",
        },
        {
          long: "install",
          help: "write it to /etc/systemd/system/stapfr-NAME.service (0644) instead of printing it",
        },
        {
          long: "unit-dir",
          value: "DIR",
          kind: "dir",
          needs: "install",
          defaultText: "/etc/systemd/system",
          help: "write into DIR",
        },
        { long: "force", needs: "install", help: "replace an existing unit that differs" },
        { long: "daemon-reload", needs: "install", help: 'run "systemctl daemon-reload" afterwards' },
      ],
      rest: {
        name: "STAP_ARGS…|CMD…",
        help: 'the command of an "--on exit-status" trigger if there is one, else arguments for stap',
      },
    }],
  },
  completions: {
    name: "completions",
    summary: "Print a completion script for bash, zsh or fish",
    quick: true,
    forms: [
      { positionals: [{ name: "SHELL", choices: ["bash", "zsh", "fish"] }], flags: [] },
      {
        keyword: "words",
        internal: true,
        summary: "what the scripts complete from: recorder names or snapshot IDs, one a line",
        positionals: [{ name: "WHAT", choices: ["names", "snapshots"] }],
        flags: [],
      },
    ],
    notes: [
      "bash: source <(stapfr completions bash), or save it as /usr/share/bash-completion/completions/stapfr\n" +
      "zsh:  save it as _stapfr in a directory of $fpath (or source <(stapfr completions zsh))\n" +
      "fish: save it as ~/.config/fish/completions/stapfr.fish",
    ],
  },
  demo: {
    name: "demo",
    summary: "The seed scenario on the simulator, end to end",
    forms: [{ positionals: [], flags: [] }],
  },
  sim: {
    name: "sim",
    summary: "The simulator's stand-ins for stap, staprun and lsmod",
    passThrough: true,
    // The stand-ins behave as stapio: a second signal resends EXIT, a third gives up.
    ownSignals: true,
    forms: [
      { keyword: "stap", positionals: [{ name: "ARGS", optional: true, variadic: true }], flags: [] },
      { keyword: "staprun", positionals: [{ name: "ARGS", optional: true, variadic: true }], flags: [] },
      { keyword: "lsmod", positionals: [], flags: [] },
      { keyword: "shims", positionals: [{ name: "DIR", kind: "dir" }], flags: [] },
    ],
  },
};

/**
 * A flag of a command's declaration by its long name (the first of its forms that has it).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(declaredFlag("tail", "lines").default, "10");
 * ```
 */
export function declaredFlag(command: string, long: string): FlagDeclaration {
  for (const form of COMMANDS[command].forms) {
    const flag = form.flags.find((f) => f.long === long);
    if (flag) return flag;
  }
  throw new RangeError(`"stapfr ${command}" declares no "--${long}"`);
}
