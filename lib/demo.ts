/**
 * The seed scenario on the simulator, end to end, narrated: a memory recorder of vfs events that is dumped
 * twice while it keeps recording, then stopped; a bulk file recorder rotating `1M,2` that is listed with its
 * files and stopped, its last line `exited` (bulk, because 4.8's text files can lose the end line when stapio
 * falls behind at this rate: docs/loss-accounting.md "Where records are lost"). Everything runs through the
 * same engine as on a real server, in a simulator root and state directory of its own that are removed at the
 * end; nothing is left running.
 * @module
 */
import { join } from "./path.ts";
import { sleep } from "./driver/run.ts";
import { simHost } from "./host.ts";
import { type RecorderDetail, Recorders } from "./api/recorders.ts";
import { humanBytes } from "./commands/common.ts";

/** The seed document's script. */
export const SEED_SCRIPT =
  'probe vfs.* { printdln("**", pn(), cmdline_str(), pid()) } probe end { printf("exited\\n") }';

/** The memory recorder's script: the seed's, plus a begin line that shows what a second dump does not repeat. */
const MEMORY_SCRIPT = `probe begin { printf("recording started\\n") } ${SEED_SCRIPT}`;

/** How the demo talks and how long it lets things run. */
export interface DemoOptions {
  /** Receives the narration, one line per call. */
  say(line: string): Promise<void>;
  /** Aborting it ends the demo early; what it started is still stopped. */
  signal?: AbortSignal;
  /** Seconds the memory recorder runs before each dump (default 2). */
  seconds?: number;
}

/** What the demo showed, for tests and `--json`. */
export interface DemoResult {
  /** The simulator root the demo used (removed at the end). */
  root: string;
  memory: { dump1_lines: number; dump2_lines: number; begin_in_dump2: boolean; stop_last_line: string };
  file: { files_seen: string[]; max_files_per_cpu: number; switches: number; stop_last_line: string };
}

/** What in `result` differs from what SystemTap does in the seed scenario, one phrase each (none: as it should). */
export function demoSurprises(result: DemoResult): string[] {
  const { memory, file } = result;
  return [
    memory.begin_in_dump2 && "the second dump repeated the begin line",
    memory.stop_last_line !== "exited" &&
    `the memory recorder's last line was ${JSON.stringify(memory.stop_last_line)}`,
    file.stop_last_line !== "exited" &&
    `the file recorder's last line was ${JSON.stringify(file.stop_last_line)}`,
    file.max_files_per_cpu > 2 && `${file.max_files_per_cpu} files of one CPU were kept at once`,
    file.switches < 3 && `the files switched ${file.switches} times, not 3, in a minute`,
  ].filter((s): s is string => s !== false);
}

const decoder = new TextDecoder();

function collector(): { sink: (c: Uint8Array) => Promise<void>; lines: () => string[] } {
  const chunks: string[] = [];
  return {
    sink: (chunk) => Promise.resolve(void chunks.push(decoder.decode(chunk, { stream: true }))),
    lines: () => chunks.join("").split("\n").filter((l) => l !== ""),
  };
}

/** Waits, and ends the demo when it is interrupted. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal);
  signal?.throwIfAborted();
}

/** The highest rotation number per CPU stream among a run's files (`F_cpu0.3` → 3). */
function highestSwitch(files: readonly { name: string }[]): number {
  return Math.max(0, ...files.map((f) => Number(/\.(\d+)$/.exec(f.name)?.[1] ?? 0)));
}

function filesPerCpu(detail: RecorderDetail): number {
  const perCpu = new Map<number | null, number>();
  for (const f of detail.files) perCpu.set(f.cpu, (perCpu.get(f.cpu) ?? 0) + 1);
  return Math.max(0, ...perCpu.values());
}

/** Runs the seed scenario on the simulator and narrates it. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { say, signal } = options;
  const seconds = options.seconds ?? 2;
  const root = await Deno.makeTempDir({ prefix: "stapfr-demo-" });
  const host = simHost({ root });
  // A modest event rate for the memory ring; a busy one for the file recorder, so it rotates within seconds.
  // Not busier: on a loaded machine stapio falls behind, and a full relay buffer drops what does not fit, the
  // end probe's line included (a test run of the whole suite saw that at 40,000 events a second).
  const calm = new Recorders({
    host: { ...host, env: { ...host.env, STAPFR_SIM_RATE: "400" } },
    stateDir: join(root, "state"),
  });
  const busy = new Recorders({
    host: { ...host, env: { ...host.env, STAPFR_SIM_RATE: "20000" } },
    stateDir: join(root, "state"),
  });
  const started: string[] = [];
  try {
    await say(`stapfr demo: SystemTap's flight recorder on the simulator (root ${root})`);
    await say("");
    await say("1. Memory mode: the kernel keeps the newest output in a per-CPU ring; nobody is attached.");
    await say(`   $ stapfr --sim start vfs -e '${MEMORY_SCRIPT}'`);
    const vfs = await calm.start({ name: "vfs", script: { text: MEMORY_SCRIPT } });
    started.push("vfs");
    await say(
      `   recording: module ${vfs.module}, ${vfs.cpus ?? "?"} CPUs × ${humanBytes(vfs.buffer_per_cpu)} ring`,
    );
    await pause(seconds * 1000, signal);

    await say("   $ stapfr --sim dump vfs      # attach, read what is buffered, detach with SIGQUIT");
    const dump1 = collector();
    await calm.dump("vfs", dump1.sink, { signal });
    const lines1 = dump1.lines();
    await say(`   ${lines1.length} lines, beginning:`);
    for (const line of lines1.slice(0, 3)) await say(`     ${line}`);
    await pause(seconds * 1000, signal);

    await say("   $ stapfr --sim dump vfs      # again: only what was recorded since");
    const dump2 = collector();
    await calm.dump("vfs", dump2.sink, { signal });
    const lines2 = dump2.lines();
    const beginAgain = lines2.includes("recording started");
    await say(
      `   ${lines2.length} lines; the begin line ${beginAgain ? "came AGAIN (wrong)" : "did not come again"}`,
    );
    await say("   $ stapfr --sim stop vfs      # what is still buffered, then the end probe's output");
    const stopped = collector();
    await calm.stop("vfs", stopped.sink);
    started.splice(started.indexOf("vfs"), 1);
    const memoryLast = stopped.lines().at(-1) ?? "";
    await say(`   last line: ${memoryLast}`);
    await say("");

    await say("2. File mode: stapio writes files, switching at 1 MiB and keeping 2 per CPU.");
    await say(
      "   --bulk keeps each record whole, with its sequence number, in per-CPU files that stapfr merges;",
    );
    await say(
      "   4.8's text files lose records, and can lose the end line, when stapio falls a page behind.",
    );
    const out = join(root, "files");
    await say(`   $ stapfr --sim start vfslog -e '${SEED_SCRIPT}' --output ${out} --rotate 1M,2 --bulk`);
    let detail: RecorderDetail = await busy.start({
      name: "vfslog",
      script: { text: SEED_SCRIPT },
      output: out,
      rotate: { size: 1024 * 1024, count: 2 },
      bulk: true,
    });
    started.push("vfslog");
    await say(`   recording: stapio daemon pid ${detail.pid}, files in ${detail.run_dir}`);
    const seen = new Set<string>();
    let maxPerCpu = 0;
    for (let waited = 0; highestSwitch(detail.files) < 3 && waited < 60_000; waited += 250) {
      await pause(250, signal);
      detail = await busy.status("vfslog");
      for (const f of detail.files) seen.add(f.name);
      maxPerCpu = Math.max(maxPerCpu, filesPerCpu(detail));
    }
    const switches = highestSwitch(detail.files);
    await say(
      `   after ${switches} switches per CPU stream; files seen so far: ${[...seen].sort().join(" ")}`,
    );
    await say("   $ stapfr --sim list");
    const { recorders } = await busy.list();
    for (const r of recorders) {
      await say(`     ${r.name}  ${r.mode}  ${r.state}  ${r.module}  pid ${r.pid}  ${humanBytes(r.bytes)}`);
    }
    await say("   $ stapfr --sim status vfslog   # the files now");
    for (const f of detail.files) await say(`     ${f.name}  ${humanBytes(f.size)}`);
    await say("   $ stapfr --sim stop vfslog");
    const fileStop = collector();
    await busy.stop("vfslog", fileStop.sink);
    started.splice(started.indexOf("vfslog"), 1);
    // What the last reads and the end probe appended to the files; the files themselves stay.
    const tail = fileStop.lines().at(-1) ?? "";
    await say(`   ${fileStop.lines().length} lines appended at the end, the last: ${tail}`);
    await say(`   the files stay in ${detail.run_dir}`);
    await say("");
    await say("Nothing is left running; the simulator root is removed.");
    return {
      root,
      memory: {
        dump1_lines: lines1.length,
        dump2_lines: lines2.length,
        begin_in_dump2: beginAgain,
        stop_last_line: memoryLast,
      },
      file: { files_seen: [...seen].sort(), max_files_per_cpu: maxPerCpu, switches, stop_last_line: tail },
    };
  } finally {
    for (const name of started) {
      await calm.stop(name, () => Promise.resolve(), { discard: true }).catch(() => {});
    }
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
