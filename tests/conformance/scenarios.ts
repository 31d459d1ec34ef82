/**
 * The conformance scenarios: each runs the same steps on both sides (Debian's stapio, the simulator's) and
 * records what a user sees. The module scripts are deterministic: what they print depends on counters, not on
 * time, and every wait is for a known amount of output, so both sides must record the same bytes.
 *
 * Timing the real stapio cannot control (the 1–2 s sequence wait after an attach and at gaps, docs/systemtap-4.8.md 2.3,
 * 5.4) changes when output appears, never what appears once a scenario waited for it; that is why the steps
 * wait for content and not for time. The -A signal loss of 4.8 (2.5) is met by resending the signal after 5 s
 * on both sides; resends are not recorded.
 * @module
 */
import { sleep, waitFor } from "./proc.ts";
import { lineCount, type Recording } from "./recording.ts";
import { listModules } from "../../sim/module_host/host.ts";

/** One scenario. */
export interface Scenario {
  name: string;
  run(r: Recording): Promise<void>;
}

/** begin on CPU 0, five timer.profile lines on each of two CPUs (11 lines), an end line. */
const BURST = `
global hits
probe begin { printf("begin\\n") }
probe timer.profile {
  if (hits[cpu()] < 5) { hits[cpu()]++; printf("cpu%d tick %d\\n", cpu(), hits[cpu()]) }
}
probe end { printf("end\\n") }
`;
const BURST_LINES = 11;

/** On CPU 0 only: begin and five timer lines, then nothing until end. */
const QUIET_CPU1 = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(5) { if (n < 5) { n++; printf("line %d\\n", n) } }
probe end { printf("end n=%d\\n", n) }
`;
const QUIET_CPU1_LINES = 6;

/**
 * More than 3 MiB on CPU 0 (900 records of 4,007 bytes), then exit(): the module asks stapio to stop, end
 * probes run, stapio unloads. A 1 MiB file holds 261 such records, so `-S 1` switches three times.
 *
 * The scripts that exit do so well after their last line: 4.8 stops its readers as soon as EXIT comes back,
 * without draining the relay (docs/systemtap-4.8.md 2.5), so output printed just before exit() may be lost by the real
 * stapio when the machine is busy. That loss is timing, not behaviour to compare.
 */
const BIG = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(1) { if (n < 900) { n++; printf("%05d %4000s\\n", n, "x") } }
probe timer.ms(1500) { exit() }
probe end { printf("end n=%d\\n", n) }
`;

/** A few lines, then exit() (a foreground run that ends by itself). */
const SHORT_EXIT = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(5) { if (n < 4) { n++; printf("line %d\\n", n) } }
probe timer.ms(1500) { exit() }
probe end { printf("end n=%d\\n", n) }
`;

/** error() in a probe: stapio prints the ERROR line and exits 1 (docs/systemtap-4.8.md 2.7). */
const ERROR_EXIT = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(5) { if (n < 2) { n++; printf("line %d\\n", n) } }
probe timer.ms(1500) { error("boom") }
probe end { printf("end\\n") }
`;

/** The same warning twice, then exit(): shown once (docs/systemtap-4.8.md 2.7). */
const WARN_TWICE = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(5) { if (n == 0) { n++; warn("careful"); warn("careful"); printf("warned\\n") } }
probe timer.ms(1500) { exit() }
probe end { printf("end\\n") }
`;

/**
 * stapio 4.8 prints an internal error with several writes (the text, then `: strerror\n`) and its reader
 * threads do not serialise them, so two readers failing at once interleave their pieces on stderr
 * (`…resyncstapio:…resync: No data available\n: No data available\n`). Which thread writes first is timing:
 * what is compared is how many of each piece there are and what else was printed.
 */
function bufhdrPieces(text: string): Record<string, number | string> {
  const head = "stapio:reader_thread:204: ERROR: bufhdr read error, attempting resync";
  const tail = ": No data available\n";
  return {
    [head]: text.split(head).length - 1,
    [tail]: text.split(tail).length - 1,
    rest: text.replaceAll(head, "").replaceAll(tail, ""),
  };
}

/** A warning while nobody is attached: queued, and printed by the next reader (docs/systemtap-4.8.md 2.3). */
const WARN_DETACHED = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(200) { if (n == 0) { n++; warn("while detached"); printf("after warning\\n") } }
probe end { printf("end\\n") }
`;

/**
 * In the 4.7 crash every reader thread that handles the SIGUSR2 switch faults; when two do so at once, 4.8's
 * fatal-signal handler prints its banner, and the signal's name after it, twice before the process dies. How
 * many threads get there first is timing: compared is that the banner comes at least once, then what else was
 * printed, a repeated "Segmentation fault" line once.
 */
function fatalBanner(text: string): Record<string, boolean | string> {
  const banner = "\nUNEXPECTED FATAL ERROR in staprun. Please file a bug report.\n\0";
  const rest = text.replaceAll(banner, "").replace(/(Segmentation fault\n)+/g, "$1");
  return { "fatal banner": text.includes(banner), rest };
}

/**
 * The lab's tick script as fast as the timer goes, stopping at 600: begin and ticks 1-246 fill 4088 bytes of
 * the first page, and tick 247 meets the last 8, which the 4.8 ring leaves as zeros (sim/kernel/relay.ts). Its
 * procfs file says how far it got, so a step waits for content, not time.
 */
const TAIL = `
global n
probe begin { printf("begin\\n") }
probe timer.ms(1) { if (n < 600) { n++; printf("tick %d\\n", n) } }
probe procfs("n").read { $value = sprintf("%d\\n", n) }
`;

/** Numbered 107-byte lines, 3000 of them, for a 256K ring that wraps once: pages begin inside records. */
const WRAP = `
global n
probe timer.ms(1) { for (i = 0; i < 10; i++) { if (n < 3000) { n++; printf("%05d %0100d\\n", n, 0) } } }
probe procfs("n").read { $value = sprintf("%d\\n", n) }
`;

/** Waits until the module's procfs file `n` says the script wrote `count`. */
async function wrote(r: Recording, name: string, count: number): Promise<void> {
  const path = `${r.side.setup.root}/proc/systemtap/${name}/n`;
  await waitFor(`${name} to write ${count} (${r.side.kind})`, async () => {
    return (await Deno.readTextFile(path).catch(() => "")) === `${count}\n`;
  });
}

/** Waits until a stapio is attached to a module (refcount 1), so that its signal handlers are in place. */
async function attached(r: Recording, name: string): Promise<void> {
  await waitFor(`${name} attached (${r.side.kind})`, async () => {
    return (await listModules(r.side.setup.root)).some((m) => m.name === name && m.refcount === 1);
  });
}

/** Waits until a file holds `count` lines. */
async function fileLines(r: Recording, name: string, count: number): Promise<void> {
  await waitFor(`${count} lines in ${name} (${r.side.kind})`, async () => {
    try {
      return lineCount(await Deno.readTextFile(`${r.work}/${name}`)) >= count;
    } catch {
      return false;
    }
  });
}

/** Records what stapio ran to unload the module (real side) and that no module is left. */
async function unloaded(r: Recording, label: string): Promise<void> {
  await r.noModules();
  r.note(label, "unloaded");
  r.realOnly(`${label}: unload command`, await r.side.unloadCommands());
}

/** The scenario list (B ≥ 12). */
export const scenarios: Scenario[] = [
  {
    name: "memory-mode load (-L): stderr, nothing on stdout, module stays loaded",
    async run(r) {
      const ko = await r.module({ name: "stap_load", script: BURST });
      await r.run("staprun -L", ["-L", ko]);
      await r.modules("loaded after -L");
    },
  },
  {
    name: "attach (-A) with buffered data of two CPUs, SIGQUIT detach, second attach sees nothing again",
    async run(r) {
      const ko = await r.module({ name: "stap_att", script: BURST });
      await r.run("staprun -L", ["-L", ko]);
      const first = await r.start(["-A", "stap_att"]);
      await attached(r, "stap_att");
      await r.lines(first, BURST_LINES);
      await r.finish("first -A, SIGQUIT", first, "SIGQUIT");
      await r.modules("after detach");
      const second = await r.start(["-A", "stap_att"]);
      await attached(r, "stap_att");
      // About time: longer than 4.8's sequence wait (1–2 s), so anything repeated would show by now.
      await sleep(2500);
      await r.finish("second -A, SIGQUIT", second, "SIGQUIT");
      await r.modules("after second detach");
    },
  },
  {
    name: "SIGTERM under -A: end-probe output, the unload command, module gone",
    async run(r) {
      const ko = await r.module({ name: "stap_term", script: BURST });
      await r.run("staprun -L", ["-L", ko]);
      const p = await r.start(["-A", "stap_term"]);
      await attached(r, "stap_term");
      await r.lines(p, BURST_LINES);
      await r.finish("-A, SIGTERM", p, "SIGTERM");
      await unloaded(r, "after SIGTERM");
    },
  },
  {
    name: "attach writing to a file (-A -o F), SIGQUIT",
    async run(r) {
      const ko = await r.module({ name: "stap_atto", script: BURST });
      await r.run("staprun -L", ["-L", ko]);
      const p = await r.start(["-A", "-o", "att.out", "stap_atto"]);
      await attached(r, "stap_atto");
      await fileLines(r, "att.out", BURST_LINES);
      await r.finish("-A -o, SIGQUIT", p, "SIGQUIT");
      await r.files("files");
    },
  },
  {
    name: "file mode (-D -o F): pid line, file content, SIGTERM writes the end probe and unloads",
    async run(r) {
      const ko = await r.module({ name: "stap_daemon", script: BURST });
      const pid = await r.daemon("staprun -D -o flight.out", ["-D", "-o", "flight.out", ko]);
      await fileLines(r, "flight.out", BURST_LINES);
      await r.gone(pid, "SIGTERM");
      await unloaded(r, "after SIGTERM");
      await r.files("files");
    },
  },
  {
    name: "-S 1,2 rotation with more than 3 MiB: F.k names, at most two files, none over 1 MiB",
    async run(r) {
      const ko = await r.module({ name: "stap_rot2", script: BIG });
      const pid = await r.daemon("staprun -D -o rot.out -S 1,2", ["-D", "-o", "rot.out", "-S", "1,2", ko]);
      await r.gone(pid);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "-S 1 rotation with more than 3 MiB: every file kept (three switches)",
    async run(r) {
      const ko = await r.module({ name: "stap_rot1", script: BIG });
      const pid = await r.daemon("staprun -D -o rot.out -S 1", ["-D", "-o", "rot.out", "-S", "1", ko]);
      await r.gone(pid);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "strftime output names (-o 'st-%Y%m%d.out' -S 1,2)",
    async run(r) {
      const ko = await r.module({ name: "stap_strf", script: BIG });
      const pid = await r.daemon("staprun -D -o st-%Y%m%d.out -S 1,2", [
        "-D",
        "-o",
        "st-%Y%m%d.out",
        "-S",
        "1,2",
        ko,
      ]);
      await r.gone(pid);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "bulk module (-b) in file mode: F_cpu files with raw records, SIGTERM",
    async run(r) {
      const ko = await r.module({ name: "stap_bulk", script: BURST, bulk: true });
      const pid = await r.daemon("staprun -D -o bulk.out", ["-D", "-o", "bulk.out", ko]);
      await r.fileHas("bulk.out_0", "cpu0 tick 5\n");
      await r.fileHas("bulk.out_1", "cpu1 tick 5\n");
      await r.gone(pid, "SIGTERM");
      await unloaded(r, "after SIGTERM");
      await r.files("files");
    },
  },
  {
    name: "SIGUSR2 switch in bulk file mode: F_N becomes F_cpuN.1, end probe lands there",
    async run(r) {
      const ko = await r.module({ name: "stap_usr2b", script: BURST, bulk: true });
      const pid = await r.daemon("staprun -D -o bulk.out", ["-D", "-o", "bulk.out", ko]);
      await r.fileHas("bulk.out_0", "cpu0 tick 5\n");
      await r.fileHas("bulk.out_1", "cpu1 tick 5\n");
      r.signal(pid, "SIGUSR2");
      await r.fileExists("bulk.out_cpu0.1");
      await r.fileExists("bulk.out_cpu1.1");
      await r.gone(pid, "SIGTERM");
      await unloaded(r, "after SIGTERM");
      await r.files("files");
    },
  },
  {
    name: "SIGUSR2 in a foreground run (-o F): F.1, the bufhdr messages on stderr, SIGTERM",
    async run(r) {
      const ko = await r.module({ name: "stap_usr2", script: QUIET_CPU1 });
      const p = await r.start(["-o", "fg.out", ko]);
      await attached(r, "stap_usr2");
      await fileLines(r, "fg.out", QUIET_CPU1_LINES);
      p.kill("SIGUSR2");
      await r.fileExists("fg.out.1");
      // The switch makes each of 4.8's reader threads print its bufhdr error (docs/systemtap-4.8.md 4.6): wait
      // for both (two CPUs, conformance_test.ts), or a SIGTERM between the two makes the count a race.
      await waitFor(
        "both reader threads' bufhdr errors",
        () => p.stderr.split("bufhdr read error").length > 2,
      );
      await r.finish("run -o, SIGUSR2, SIGTERM", p, "SIGTERM", { stderr: bufhdrPieces });
      await unloaded(r, "after SIGTERM");
      await r.files("files");
    },
  },
  {
    name: "closed stdout: Couldn't write to output, then a regular exit and unload",
    async run(r) {
      const ko = await r.module({ name: "stap_pipe", script: QUIET_CPU1 });
      const p = await r.start([ko], { closeStdout: true });
      await r.finish("run with stdout closed", p);
      await unloaded(r, "after exit");
    },
  },
  {
    name: "foreground run until the script's exit(): all output, end probe, unload",
    async run(r) {
      const ko = await r.module({ name: "stap_fg", script: SHORT_EXIT });
      await r.run("staprun (foreground)", [ko]);
      await unloaded(r, "after exit()");
    },
  },
  {
    name: "module ERROR: printed on stderr, exit status 1",
    async run(r) {
      const ko = await r.module({ name: "stap_err", script: ERROR_EXIT });
      await r.run("staprun (foreground)", [ko]);
      await unloaded(r, "after error()");
    },
  },
  {
    name: "duplicate warnings shown once",
    async run(r) {
      const ko = await r.module({ name: "stap_warn", script: WARN_TWICE });
      await r.run("staprun (foreground)", [ko]);
      await unloaded(r, "after exit()");
    },
  },
  {
    name: "-w drops the module's warnings",
    async run(r) {
      const ko = await r.module({ name: "stap_nowarn", script: WARN_TWICE });
      await r.run("staprun -w (foreground)", ["-w", ko]);
      await unloaded(r, "after exit()");
    },
  },
  {
    name: "exit() while detached: the next -A gets the rest and the end probe, then unloads",
    async run(r) {
      const ko = await r.module({ name: "stap_exitd", script: SHORT_EXIT });
      await r.run("staprun -L", ["-L", ko]);
      // About time: the script reaches exit() 1500 ms in, unseen while detached; its request waits for a
      // reader (docs/systemtap-4.8.md 2.3).
      await sleep(1900);
      // The exit request is the first thing the module says on attach, and 4.8 stops its readers when EXIT
      // comes back without draining the relay (docs/systemtap-4.8.md 2.5, open question 6): how much of the buffered
      // output the real stapio prints before it stops is timing. What must hold: it is a prefix of the whole.
      const whole = "begin\nline 1\nline 2\nline 3\nline 4\nend n=4\n";
      await r.runViewed("staprun -A", ["-A", "stap_exitd"], {
        stdout: (text) => whole.startsWith(text) ? "a prefix of the whole output" : text,
      });
      await unloaded(r, "after -A");
    },
  },
  {
    name: "SIGQUIT to the -D daemon detaches; a later -A and SIGTERM give only the end probe",
    async run(r) {
      const ko = await r.module({ name: "stap_dq", script: BURST });
      const pid = await r.daemon("staprun -D -o dq.out", ["-D", "-o", "dq.out", ko]);
      await fileLines(r, "dq.out", BURST_LINES);
      await r.gone(pid, "SIGQUIT");
      await r.modules("after SIGQUIT");
      const p = await r.start(["-A", "stap_dq"]);
      await attached(r, "stap_dq");
      // About time: longer than 4.8's sequence wait (1–2 s), so anything still buffered would show by now.
      await sleep(2500);
      await r.finish("-A, SIGTERM", p, "SIGTERM");
      await unloaded(r, "after SIGTERM");
      await r.files("files");
    },
  },
  {
    name: "bulk module with -S 1,2: F_cpuN.k per CPU, each file at most 8 bytes over 1 MiB",
    async run(r) {
      const ko = await r.module({ name: "stap_bulkrot", script: BIG, bulk: true });
      const pid = await r.daemon("staprun -D -o br.out -S 1,2", ["-D", "-o", "br.out", "-S", "1,2", ko]);
      await r.gone(pid);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "a warning queued while detached is printed by the next -A",
    async run(r) {
      const ko = await r.module({ name: "stap_wq", script: WARN_DETACHED });
      await r.run("staprun -L", ["-L", ko]);
      // About time: the warning comes 200 ms in, while nobody is attached, where nothing shows it.
      await sleep(1000);
      const p = await r.start(["-A", "stap_wq"]);
      await attached(r, "stap_wq");
      await r.lines(p, 2);
      await r.finish("-A, SIGTERM", p, "SIGTERM");
      await unloaded(r, "after SIGTERM");
    },
  },
  {
    name: "an output file that cannot be created (-o in a missing directory)",
    async run(r) {
      const ko = await r.module({ name: "stap_noout", script: QUIET_CPU1 });
      await r.run("staprun -o missing/out", ["-o", "missing/out", ko]);
      await r.modules("left loaded");
      await r.files("files");
    },
  },
  {
    name: "-S 0,2 and SIGUSR2: the 4.8 crash, module left loaded (docs/systemtap-4.8.md 4.7)",
    async run(r) {
      const ko = await r.module({ name: "stap_crash", script: QUIET_CPU1 });
      const p = await r.start(["-o", "cr.out", "-S", "0,2", ko]);
      await attached(r, "stap_crash");
      // Size 0 means no size limit: the first file has no suffix, as without -S.
      await fileLines(r, "cr.out", QUIET_CPU1_LINES);
      p.kill("SIGUSR2");
      await r.finish("run -S 0,2, SIGUSR2", p, undefined, { stderr: fatalBanner });
      await r.modules("left loaded");
      await r.files("files");
    },
  },
  {
    // COUNT 4 keeps every switch (BIG writes about 3.6 MiB: switches 1 to 3) short of a removal: at switch k
    // 4.8 removes file k-COUNT, which for /dev/null is /dev/null itself, and as root the real stapio would
    // delete the machine's /dev/null (it did, under -S 1,2).
    name: "-o /dev/null -S 1,4: never a suffix, no file anywhere",
    async run(r) {
      const ko = await r.module({ name: "stap_null", script: BIG });
      await r.run("staprun -o /dev/null -S 1,4 (foreground)", ["-o", "/dev/null", "-S", "1,4", ko]);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "bulk module without -o: stpd_cpuN in the working directory",
    async run(r) {
      const ko = await r.module({ name: "stap_stpd", script: SHORT_EXIT, bulk: true });
      await r.run("staprun (foreground, bulk)", [ko]);
      await unloaded(r, "after exit()");
      await r.files("files");
    },
  },
  {
    name: "SIGHUP to a foreground run: end probe and unload, like SIGTERM",
    async run(r) {
      const ko = await r.module({ name: "stap_hup", script: BURST });
      const p = await r.start([ko]);
      await attached(r, "stap_hup");
      await r.lines(p, BURST_LINES);
      await r.finish("run, SIGHUP", p, "SIGHUP");
      await unloaded(r, "after SIGHUP");
    },
  },
  {
    // docs/loss-accounting.md "Where records are lost", items 1 and 2: both stapios read the same 4.8 ring.
    name: "4.8 ring: a record at a page's last 8 bytes, then -A: stapio drops up to the writer (text)",
    async run(r) {
      const ko = await r.module({ name: "stap_tail", script: TAIL });
      await r.run("staprun -L", ["-L", ko]);
      await wrote(r, "stap_tail", 600);
      const p = await r.start(["-A", "stap_tail"]);
      await attached(r, "stap_tail");
      await r.lines(p, 247);
      // About time: longer than 4.8's sequence wait, so anything after tick 246 would show by now.
      await sleep(2500);
      await r.finish("-A, SIGQUIT", p, "SIGQUIT");
    },
  },
  {
    name: "4.8 ring: the same in bulk mode (-A -o F): the records up to the tail, byte for byte",
    async run(r) {
      const ko = await r.module({ name: "stap_tailb", script: TAIL, bulk: true });
      await r.run("staprun -L", ["-L", ko]);
      await wrote(r, "stap_tailb", 600);
      const p = await r.start(["-A", "-o", "tail.out", "stap_tailb"]);
      await attached(r, "stap_tailb");
      await r.fileHas("tail.out_0", "tick 246\n");
      await sleep(2500);
      await r.finish("-A -o, SIGQUIT", p, "SIGQUIT");
      await r.files("files");
    },
  },
  {
    // Item 3: the first read of a wrapped ring starts at the oldest page kept, inside a record; what the
    // 128 KiB drops leave (they may end on a header, or four bytes before one) is the same on both sides.
    name: "4.8 ring: the first read of a wrapped 256K ring starts inside a record (text)",
    async run(r) {
      const ko = await r.module({ name: "stap_wrap", script: WRAP, bufferBytes: 256 * 1024 });
      await r.run("staprun -L", ["-L", ko]);
      await wrote(r, "stap_wrap", 3000);
      const p = await r.start(["-A", "stap_wrap"]);
      await attached(r, "stap_wrap");
      await sleep(2500);
      await r.finish("-A, SIGQUIT", p, "SIGQUIT");
    },
  },
];
