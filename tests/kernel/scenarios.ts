/**
 * The kernel lab's scenarios, as data: the real kernel (in the guest) and the simulator (on the host) run the
 * identical steps through the stapfr CLI, and the test compares the views each step gives (docs/kernel-lab.md
 * "The scenarios"). Arguments may hold `{modules}` (where the prebuilt `.ko` files are) and `{out}` (a
 * directory for file recorders); each side fills in its own.
 * @module
 */

/** A prebuilt module: compiled once on the host for the guest's kernel (and once for the simulator). */
export interface LabModule {
  /** The recorder name; the module is `stap_fr_NAME.ko`. */
  name: string;
  script: string;
  /** Bulk mode (`-b`), for rotating file recorders on 2 CPUs. */
  bulk?: boolean;
  /** More stap arguments for this module. */
  stapArgs?: string[];
}

// An emulated CPU spends long in each probe: SystemTap's overload guard ("probe overhead exceeded threshold")
// and its limit of 100 skipped probes (two CPUs contending for the counter's lock) would end the high-rate
// scripts within seconds, as they would on a slow real machine.
const NO_OVERLOAD = ["-DSTP_NO_OVERLOAD", "-DMAXSKIPPED=1000000"];

// 100 bytes of padding, so each numbered line is about 107 bytes, as in the lab's first measurements.
const PAD = "x".repeat(100);

/** The records the fast script writes before it goes quiet. */
export const FAST_TOTAL = 40000;

/** Every module the scenarios start. */
export const MODULES: readonly LabModule[] = [
  {
    name: "tick",
    script:
      'global n probe begin { printf("begin\\n") } probe timer.ms(100) { n++; printf("tick %d\\n", n) } ' +
      'probe end { printf("exited\\n") }',
  },
  {
    // Fast enough to wrap a 2 x 1 MiB ring within seconds, even in an emulated guest.
    name: "flood",
    stapArgs: NO_OVERLOAD,
    script: `global n probe timer.ms(1) { for (i = 0; i < 20; i++) { n++; printf("%d ${PAD}\\n", n) } } ` +
      'probe end { printf("exited\\n") }',
  },
  {
    // The issue's fast script: 1,000 numbered records a second (40 bytes each, so they meet 4.8's page tails),
    // quiet after 40,000, so that a last read can account for every one.
    name: "fast",
    stapArgs: NO_OVERLOAD,
    script: `global n probe timer.ms(1) { if (n < ${FAST_TOTAL}) { n++; ` +
      'printf("%d abcdefghijklmnopqrstuvwxyz\\n", n) } }',
  },
  {
    // A counter printed from both CPUs in turn (CPU 0's profile ticks print in one jiffy of eight, CPU 1's four
    // jiffies later: two probes racing between taking a number and writing their record, which an emulated
    // CPU's delays once made print two numbers in the other order than their records' sequence numbers,
    // would need one delayed 16 ms), in records of 128 bytes: 32
    // fill a page, so none meets a page's tail and the counter is the sequence number. A few KiB a second:
    // an emulated guest's readers keep up, and a read ends soon after its backlog. (The guest's profile ticks
    // come faster than HZ: the lab saw about 2.5 times as many records as 250 ticks a second would give.)
    name: "pair",
    stapArgs: NO_OVERLOAD,
    script: "global n probe timer.profile { if (jiffies() % 8 == cpu() * 4) { n++; " +
      `printf("%08d cpu%d ${"p".repeat(105)}\\n", n, cpu()) } }`,
  },
  {
    // Every CPU writes, so a bulk recorder has a file series per CPU.
    name: "rot",
    stapArgs: NO_OVERLOAD,
    script: `global n probe timer.profile { for (i = 0; i < 10; i++) { n++; printf("%d ${PAD}\\n", n) } } ` +
      'probe end { printf("exited\\n") }',
    bulk: true,
  },
];

/** How a step's result is turned into what the two sides compare. */
export type ViewName =
  | "plain" // exit code, stdout and stderr lines with numbers and paths normalised
  | "list" // exit code and [name, mode, state, module] of `--json list`
  | "status" // exit code and the fields of `--json status` a user compares
  | "ticks" // exit code, stderr, and the shape of tick lines (clean, increasing, new since earlier reads)
  | "numbered" // exit code, stderr, and the shape of numbered 107-byte lines (clean, unique, ring-bounded)
  | "snapshot" // exit code and what a `--json snapshot` manifest says (mode, trigger, wrapped, contiguous, data)
  | "loss" // a `--json dump NAME -o FILE`: its lines against its loss report (tests/kernel/loss_views.ts)
  | "watch"; // exit code and which decisions `stapfr watch` logged (started, signal and marker snapshots)

/** One step. */
export type Step =
  | {
    run: string[];
    view: ViewName;
    want?: Record<string, unknown>;
    capacity?: number;
    /** `loss` view: also compare which causes of loss the read met (before, during, unreserved). */
    shape?: boolean;
    /** View fields that depend on timing in this step: reported, not compared. */
    loose?: string[];
  }
  /**
   * The account of a recorder's reads (tests/kernel/loss_views.ts): what they passed on and reported missing
   * against the counter's last value (`total`, else the largest seen); `snapshots`: the snapshot chain's.
   */
  | { account: string; total?: number; snapshots?: boolean; want?: Record<string, unknown> }
  /** `stapfr attach NAME`, then `signal` to stapfr once `lines` lines arrived (or after `ms`). */
  | {
    attach: string;
    signal: "SIGINT" | "SIGTERM";
    lines: number;
    view: ViewName;
    want?: Record<string, unknown>;
  }
  /** Which of these modules are loaded (`/proc/modules`) and have a control directory (`/proc/systemtap`). */
  | { modules: string[]; want?: Record<string, unknown> }
  /** Lets the scripts record for a while (data accumulating, not synchronisation). */
  | { pause: number }
  /** SIGKILL the stapio daemon of a file recorder (its pid from `--json status`). */
  | { killDaemon: string }
  /** Loads `stap_fr_NAME.ko` with `staprun -L` behind stapfr's back. */
  | { loadOrphan: string }
  /**
   * `stapfr watch NAME ARGS…` in the background; `stapfr trigger NAME` fires its signal trigger; it runs until
   * the signal and the marker trigger have each taken a snapshot, then gets SIGTERM.
   */
  | { watch: string; args: string[]; want?: Record<string, unknown> }
  /** The recorders registered in the state directory (read directly: no stapfr start-up in the guest). */
  | { registered: string[]; want?: Record<string, unknown> };

/** A scenario: steps run in order on one side; views are compared step by step. */
export interface Scenario {
  id: string;
  title: string;
  steps: Step[];
  /** Simulator knobs for this scenario only (what the real kernel does by itself, the simulator is told). */
  simEnv?: Record<string, string>;
}

const TICK = "{modules}/stap_fr_tick.ko";

/** The scenarios, in the order they run (later ones reuse module names that earlier ones released). */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: "memory-start",
    title: "memory recorder start, list, status (recording, /proc/modules, /proc/systemtap)",
    steps: [
      { run: ["start", "tick", "--module", TICK, "--buffer", "1M"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "loaded+control" } },
      {
        run: ["--json", "list"],
        view: "list",
        want: { code: 0, recorders: [["tick", "memory", "recording", "stap_fr_tick"]] },
      },
      { run: ["--json", "status", "tick"], view: "status", want: { code: 0, state: "recording", cpus: 2 } },
    ],
  },
  {
    id: "dump-twice",
    title:
      "the slow script's first read after its first page filled: lines 247 on lost, each one reported; " +
      "the second read repeats nothing",
    steps: [
      // Past the first 4 KiB page: begin and ticks 1-246 fill 4088 bytes, tick 247 (24.7 s in) meets the
      // last 8, and SystemTap 4.8 drops it and stapio what follows (docs/loss-accounting.md item 4).
      { pause: 26000 },
      {
        run: ["--json", "dump", "tick", "-o", "{out}/tick1"],
        view: "loss",
        shape: true,
        want: { code: 0, clean: true, ordered: true, exact: true, during: true, unreserved: true },
      },
      { pause: 1000 },
      {
        run: ["--json", "dump", "tick", "-o", "{out}/tick2"],
        view: "loss",
        want: { code: 0, clean: true, ordered: true, repeats: 0, exact: true },
      },
    ],
  },
  {
    id: "attach-signals",
    title: "attach, then SIGINT and SIGTERM to stapfr: it detaches, the module stays",
    steps: [
      { attach: "tick", signal: "SIGINT", lines: 2, view: "ticks", want: { repeats: 0, clean: true } },
      { attach: "tick", signal: "SIGTERM", lines: 2, view: "ticks", want: { repeats: 0, clean: true } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "loaded+control" } },
    ],
  },
  {
    id: "snapshots",
    title: "snapshots of a memory recorder: a manifest that matches its data, contiguous with the one before",
    steps: [
      { pause: 1000 },
      {
        run: ["--json", "snapshot", "tick", "--reason", "lab"],
        view: "snapshot",
        want: { code: 0, mode: "memory", trigger: "user", reason: "lab", hasData: true, sums: true },
      },
      { pause: 1000 },
      {
        run: ["--json", "snapshot", "tick"],
        view: "snapshot",
        want: { code: 0, contiguous: true, wrapped: false, hasData: true },
      },
    ],
  },
  {
    id: "stop",
    title: "stop: buffered output and the end probe, module gone",
    steps: [
      { pause: 500 },
      { run: ["stop", "tick"], view: "ticks", want: { code: 0, last: "exited", repeats: 0, clean: true } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "absent" } },
    ],
  },
  {
    id: "stop-discard",
    title: "stop --discard: unloaded unread",
    steps: [
      { run: ["start", "tick", "--module", TICK, "--buffer", "1M"], view: "plain", want: { code: 0 } },
      { run: ["stop", "tick", "--discard"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "absent" } },
      { registered: [], want: { registered: [] } },
    ],
  },
  {
    id: "orphan",
    title: "an orphan stap_fr_ module (loaded behind stapfr's back) is listed as one",
    steps: [
      { loadOrphan: "tick" },
      {
        run: ["--json", "list"],
        view: "list",
        want: { code: 0, recorders: [["stap_fr_tick", "memory", "orphan", "stap_fr_tick"]] },
      },
    ],
  },
  {
    id: "start-fails",
    title: "a start that fails (its module is loaded already): nothing registered, the orphan left alone, " +
      "then gc --unload-orphans",
    steps: [
      { run: ["start", "tick", "--module", TICK, "--buffer", "1M"], view: "plain", want: { code: 1 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "loaded+control" } },
      { registered: [], want: { registered: [] } },
      { run: ["gc", "--unload-orphans", "--yes"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "absent" } },
    ],
  },
  {
    id: "dead-daemon",
    title: "a killed stapio daemon: dead, then gc",
    steps: [
      {
        run: ["start", "tick", "--module", TICK, "--output", "{out}/dead"],
        view: "plain",
        want: { code: 0 },
      },
      { killDaemon: "tick" },
      {
        run: ["--json", "list"],
        view: "list",
        want: { code: 0, recorders: [["tick", "file", "dead", "stap_fr_tick"]] },
      },
      { run: ["gc"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "absent" } },
      { registered: [], want: { registered: [] } },
    ],
  },
  {
    id: "watch",
    title: "a watcher with a signal and a marker trigger on a file recorder, then a file snapshot",
    steps: [
      {
        run: ["start", "tick", "--module", TICK, "--output", "{out}/watch"],
        view: "plain",
        want: { code: 0 },
      },
      {
        watch: "tick",
        args: ["--on", "signal", "--on", "marker", "^tick [0-9]*0$"],
        want: { code: 0, started: true, signal: true, marker: true, exited: true },
      },
      {
        run: ["--json", "snapshot", "tick"],
        view: "snapshot",
        want: { code: 0, mode: "file", trigger: "user", hasData: true, sums: true },
      },
      { run: ["stop", "tick", "--discard"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_tick"], want: { stap_fr_tick: "absent" } },
    ],
  },
  {
    id: "file-rotate",
    title: "a file recorder rotating per CPU (bulk on 2 CPUs): status, dump, tail, stop",
    steps: [
      {
        run: [
          "start",
          "rot",
          "--module",
          "{modules}/stap_fr_rot.ko",
          "--output",
          "{out}/rot",
          "--rotate",
          "1M,2",
        ],
        view: "plain",
        want: { code: 0 },
      },
      { pause: 6000 },
      {
        run: ["--json", "status", "rot"],
        view: "status",
        want: { code: 0, state: "recording", mode: "file" },
      },
      { run: ["dump", "rot"], view: "numbered", want: { code: 0, clean: true, unique: true } },
      { run: ["tail", "rot", "-n", "5"], view: "numbered", want: { code: 0, count: 5, clean: true } },
      // Whether records were still in the rings at the stop (before the end probe's line) is timing.
      { run: ["stop", "rot"], view: "numbered", want: { code: 0, last: "exited" }, loose: ["first"] },
      { modules: ["stap_fr_rot"], want: { stap_fr_rot: "absent" } },
    ],
  },
  {
    id: "ring-wraps",
    title: "a ring that wraps: the newest kept, within capacity, clean lines",
    steps: [
      { run: ["start", "flood", "--module", "{modules}/stap_fr_flood.ko", "--buffer", "1M"], view: "plain" },
      { pause: 6000 },
      {
        run: ["dump", "flood"],
        view: "numbered",
        want: { code: 0, clean: true, unique: true, wrapped: true, withinCapacity: true },
        capacity: 2 * 1024 * 1024,
      },
    ],
  },
  {
    id: "reader-behind",
    title: "a high-rate attach where the reader falls behind: clean output, the loss reported",
    steps: [
      {
        attach: "flood",
        signal: "SIGINT",
        lines: 20000,
        view: "numbered",
        // Bulk reads pass whole records or none: nothing cut short reaches the output.
        want: { unique: true, clean: true },
      },
      { modules: ["stap_fr_flood"], want: { stap_fr_flood: "loaded+control" } },
    ],
  },
  {
    id: "lost-sigquit",
    title:
      "a dump and a stop at a high rate: the dump detaches (stapfr resends a SIGQUIT 4.8 loses) and the " +
      "recorder keeps recording; the stop unloads, with the end probe and the module's transport failures",
    // With bulk output, the guest's stapio took every SIGQUIT and SIGTERM in the lab's runs (its readers wait
    // in ppoll most of the time); stapfr's resends and its last resort are tested on the simulator
    // (tests/recording/sigquit_kill_test.ts, tests/loss/real_ring_test.ts).
    steps: [
      { run: ["dump", "flood"], view: "numbered", want: { code: 0 } },
      { modules: ["stap_fr_flood"], want: { stap_fr_flood: "loaded+control" } },
      { run: ["stop", "flood"], view: "numbered", want: { code: 0, last: "exited" } },
      { modules: ["stap_fr_flood"], want: { stap_fr_flood: "absent" } },
    ],
  },
  {
    id: "fast-wrapped",
    title: "the fast script (1,000 records a second) read while it writes: in order, clean, the loss counted",
    steps: [
      { run: ["start", "fast", "--module", "{modules}/stap_fr_fast.ko", "--buffer", "1M"], view: "plain" },
      { pause: 8000 },
      {
        run: ["--json", "dump", "fast", "-o", "{out}/fast1"],
        view: "loss",
        want: { code: 0, clean: true, ordered: true, counted: true },
      },
    ],
  },
  {
    id: "fast-account",
    title: "the fast script once quiet: the last reads are exact, and every one of its 40,000 records was " +
      "read or reported missing",
    steps: [
      // Until the script has written its 40,000 (40 s from its start, at 1,000 a second).
      { pause: 40000 },
      {
        run: ["--json", "dump", "fast", "-o", "{out}/fast2"],
        view: "loss",
        want: { code: 0, clean: true, ordered: true, repeats: 0, counted: true },
        // Whether this read passes anything (4.8's drops run to the writer, which is quiet, unless one ends on a
        // header: docs/loss-accounting.md item 2) and whether a failure counted as it ended is its own or the
        // next read's ("Which read a record without a number belongs to") is timing; the account below checks
        // the reads together, exactly, on both sides.
        loose: ["exact"],
      },
      // What the last read's drop took at the writer shows only in the next read: it reads nothing and says so.
      {
        run: ["--json", "dump", "fast", "-o", "{out}/fast3"],
        view: "loss",
        want: { code: 0, counted: true },
      },
      { account: "fast", total: FAST_TOTAL, want: { exact: true } },
      { run: ["stop", "fast", "--discard"], view: "plain", want: { code: 0 } },
    ],
  },
  {
    id: "snapshots-five",
    title: "five consecutive snapshots of a counter printed from both CPUs: each report and the union exact",
    steps: [
      { run: ["start", "pair", "--module", "{modules}/stap_fr_pair.ko", "--buffer", "1M"], view: "plain" },
      { pause: 2000 },
      {
        run: ["--json", "snapshot", "pair"],
        view: "snapshot",
        want: { code: 0, exact: true },
      },
      { pause: 1000 },
      {
        run: ["--json", "snapshot", "pair"],
        view: "snapshot",
        want: { code: 0, exact: true },
      },
      { pause: 3000 },
      {
        run: ["--json", "snapshot", "pair"],
        view: "snapshot",
        want: { code: 0, exact: true },
      },
      { pause: 1000 },
      {
        run: ["--json", "snapshot", "pair"],
        view: "snapshot",
        want: { code: 0, exact: true },
      },
      { pause: 1000 },
      {
        run: ["--json", "snapshot", "pair"],
        view: "snapshot",
        want: { code: 0, exact: true },
      },
      { account: "pair", snapshots: true, want: { exact: true } },
    ],
  },
  {
    id: "global-order",
    title: "a dump of a script printing from both CPUs: in the global order of its counter, exact",
    steps: [
      { pause: 1000 },
      {
        run: ["--json", "dump", "pair", "-o", "{out}/pair1"],
        view: "loss",
        want: { code: 0, clean: true, ordered: true, repeats: 0, exact: true, cpus: 2 },
      },
      { run: ["stop", "pair", "--discard"], view: "plain", want: { code: 0 } },
      { modules: ["stap_fr_pair"], want: { stap_fr_pair: "absent" } },
    ],
  },
];
