/**
 * Reader records and strays (docs/strays.md). Every `staprun -A` that stapfr starts is written down in the
 * state directory, next to the recorder's registry record: `NAME.PID.reader` (PID: the stapfr's own), 0600,
 * holding the stapfr's pid and the reader's pid, each with its start time so that a reused pid is never
 * taken for them. The record is removed when the reader exits. A recorded reader that is still alive while
 * its stapfr is gone is a *stray*: it holds the module's only reader slot with overwrite off, so the ring
 * stops keeping the newest data. `list` and `status` show it (state `stray`); `dump`, `stop` and `gc` end it
 * with SIGQUIT, the one signal that detaches stapio without unloading (docs/systemtap-4.8.md 2.5). A reader
 * that no record names (someone's `staprun -A`) is reported with its pid and never ended unasked.
 * @module
 */
import { join } from "../path.ts";
import { StapfrError } from "../errors.ts";
import type { Host } from "../host.ts";
import { listModules, processAlive, processStartTime, readProcText } from "../driver/kernel.ts";
import { sleep } from "../driver/run.ts";
import { signalUntilGone } from "../driver/signal_until_gone.ts";
import type { RecorderRecord } from "../registry.ts";
import type { Engine } from "./engine.ts";

/** What a reader record holds (the file `NAME.PID.reader`). */
export interface ReaderRecord {
  /** The recorder read. */
  recorder: string;
  /** Its module. */
  module: string;
  /** The stapfr command that started the reader (`dump`, `attach`, `tail`, `stop`). */
  command: string;
  /** When the reader was started (ISO 8601). */
  started_at: string;
  /** The stapfr that started it: pid and start time (clock ticks since boot; null when unreadable). */
  stapfr: { pid: number; start: number | null };
  /** The `staprun -A` process (stapio after its exec): pid and start time. */
  reader: { pid: number; start: number | null };
}

/** The reader of a memory recorder, as `list` and `status` show it. */
export interface ReaderInfo {
  /** The reader's pid (staprun, which becomes stapio); null when it cannot be found. */
  pid: number | null;
  /** The stapfr that started it; null when no stapfr did (a `staprun -A` by hand). */
  stapfr_pid: number | null;
  /** Started by a stapfr that is gone: `stapfr gc` (or the next dump or stop) detaches it. */
  stray: boolean;
  /** Whether a stapfr started it (it has a reader record). */
  by_stapfr: boolean;
}

/** A reader found for a recorder, with what it takes to end it. */
interface FoundReader extends ReaderInfo {
  /** The reader's start time, when recorded. */
  start?: number;
  /** Its record file, when it has one. */
  path?: string;
}

const SUFFIX = ".reader";

/**
 * The start time of a process (field 22 of `/proc/PID/stat`), read synchronously: a reader is recorded in the
 * same turn of the event loop that started it, so no signal handler or failure can come in between.
 */
export function startTimeSync(pid: number): number | null {
  const path = `/proc/${pid}/stat`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) return null;
    // Deno refuses /proc without --allow-all (a library program's choice): one short `cat`, as elsewhere.
    try {
      const out = new Deno.Command("cat", { args: [path], stdin: "null", stderr: "null" }).outputSync();
      text = new TextDecoder().decode(out.stdout);
    } catch {
      return null;
    }
  }
  const start = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
  return Number.isFinite(start) && start > 0 ? start : null;
}

let ownStart: number | null | undefined;

/** Reads this process's start time ahead, asynchronously, so that recording a reader costs one read, not two. */
export async function primeReaderRecords(): Promise<void> {
  ownStart ??= (await processStartTime(Deno.pid)) ?? null;
}

/**
 * Records a reader this stapfr has just started and returns the function that removes the record. Synchronous
 * on purpose (see {@linkcode startTimeSync}). A state directory that cannot be written records nothing: the
 * reader is then reported as one that stapfr did not start, which is never ended unasked.
 */
export function registerReader(
  dir: string,
  target: { recorder: string; module: string; command: string },
  pid: number,
): () => void {
  ownStart ??= startTimeSync(Deno.pid);
  const record: ReaderRecord = {
    ...target,
    started_at: new Date().toISOString(),
    stapfr: { pid: Deno.pid, start: ownStart },
    reader: { pid, start: startTimeSync(pid) },
  };
  const path = join(dir, `${target.recorder}.${Deno.pid}${SUFFIX}`);
  try {
    Deno.writeTextFileSync(path, JSON.stringify(record) + "\n", { mode: 0o600 });
  } catch {
    return () => {};
  }
  return () => {
    try {
      Deno.removeSync(path);
    } catch {
      // Already removed (gc, or a later reader of this stapfr).
    }
  };
}

/** The reader records in `dir`, for one recorder or all; unreadable ones are skipped (being written). */
async function recordsIn(dir: string, recorder?: string): Promise<{ path: string; record: ReaderRecord }[]> {
  const found: { path: string; record: ReaderRecord }[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return found;
  }
  for (const e of entries) {
    if (!e.isFile || !e.name.endsWith(SUFFIX)) continue;
    if (recorder !== undefined && !e.name.startsWith(`${recorder}.`)) continue;
    const path = join(dir, e.name);
    try {
      const record = JSON.parse(await Deno.readTextFile(path)) as ReaderRecord;
      if (Number.isInteger(record?.reader?.pid) && Number.isInteger(record?.stapfr?.pid)) {
        found.push({ path, record });
      }
    } catch {
      // Being written or removed.
    }
  }
  return found;
}

/**
 * Whether a command line (as `ps -o args=` shows it) is a reader of `module`: `staprun -A MODULE`, or the
 * `stapio -A MODULE -F<fd>` it execs into (docs/systemtap-4.8.md 2.3), or the simulator's `sim staprun -A`.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * assert(readsModule("staprun -A stap_fr_io", "stap_fr_io"));
 * assert(readsModule("staprun -A -o /var/lib/stapfr/io.42.pipes/cpu stap_fr_io", "stap_fr_io"));
 * assert(readsModule("/usr/lib/systemtap/stapio -A stap_fr_io -F3", "stap_fr_io"));
 * assert(readsModule("/usr/bin/deno run --allow-read /opt/stapfr/cli.ts sim staprun -A stap_fr_io", "stap_fr_io"));
 * assert(!readsModule("staprun -A stap_fr_io2", "stap_fr_io"));
 * assert(!readsModule("staprun -d stap_fr_io", "stap_fr_io"));
 * assert(!readsModule("vim staprun -A stap_fr_io.txt", "stap_fr_io"));
 * ```
 */
export function readsModule(args: string, module: string): boolean {
  const escaped = module.replace(/[^A-Za-z0-9_]/g, "\\$&");
  // `-A`, then options (`-o FILE`, as a bulk read gives, `-v`, `-C never`), then the module as the last word.
  return new RegExp(
    `(^|[\\s/])(staprun|stapio)\\s(.*\\s)?-A\\s+(-\\S*(\\s+[^-\\s]\\S*)?\\s+)*${escaped}(\\s+-F\\d+)?\\s*$`,
  )
    .test(args);
}

/**
 * The pid of a `staprun -A MODULE` (or the stapio it became) that no record names, from the process table;
 * null when none or several are found, or `ps` is missing. A simulated reader must belong to this simulator
 * root (other roots run modules of the same name).
 */
async function unrecordedReaderPid(host: Host, module: string): Promise<number | null> {
  let text: string;
  try {
    const out = await new Deno.Command("ps", {
      args: ["-e", "-o", "pid=,args="],
      stdin: "null",
      stderr: "null",
    }).output();
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return null;
  }
  const pids: number[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || !readsModule(m[2], module)) continue;
    if (host.kind === "sim") {
      const environ = await readProcText(`/proc/${m[1]}/environ`).catch(() => undefined);
      if (!environ?.split("\0").includes(`STAPFR_SIM_ROOT=${host.simRoot}`)) continue;
    }
    pids.push(Number(m[1]));
  }
  return pids.length === 1 ? pids[0] : null;
}

/** Who reads a memory recorder whose module has `refcount` readers (undefined: nobody). */
async function findReader(
  engine: Engine,
  record: RecorderRecord,
  refcount: number,
): Promise<FoundReader | undefined> {
  if (refcount <= 0) return undefined;
  for (const { path, record: r } of await recordsIn(engine.registry.dir, record.name)) {
    if (r.module !== record.module) continue;
    if (!(await processAlive(r.reader.pid, r.reader.start ?? undefined))) continue;
    const ownerAlive = await processAlive(r.stapfr.pid, r.stapfr.start ?? undefined);
    return {
      pid: r.reader.pid,
      stapfr_pid: r.stapfr.pid,
      stray: !ownerAlive,
      by_stapfr: true,
      start: r.reader.start ?? undefined,
      path,
    };
  }
  return {
    pid: await unrecordedReaderPid(engine.host, record.module),
    stapfr_pid: null,
    stray: false,
    by_stapfr: false,
  };
}

/** The reader of a memory recorder (for `list` and `status`); null when nobody reads it. */
export async function readerInfo(
  engine: Engine,
  record: RecorderRecord,
  refcount: number,
): Promise<ReaderInfo | null> {
  if (record.mode !== "memory") return null;
  const found = await findReader(engine, record, refcount);
  if (!found) return null;
  const { pid, stapfr_pid, stray, by_stapfr } = found;
  return { pid, stapfr_pid, stray, by_stapfr };
}

/** One line about a reader, for `list` and messages. */
export function describeReader(name: string, reader: ReaderInfo, self = "stapfr"): string {
  if (reader.stray) {
    return `${name}: stray reader pid ${reader.pid}, its stapfr (pid ${reader.stapfr_pid}) is gone; ` +
      `"${self} gc" detaches it`;
  }
  if (reader.by_stapfr) return `${name}: read by stapfr pid ${reader.stapfr_pid} (reader pid ${reader.pid})`;
  return `${name}: attached by ${
    reader.pid === null ? "a reader" : `pid ${reader.pid}`
  }, not started by stapfr`;
}

/**
 * Ends a stray with SIGQUIT (never SIGINT, SIGTERM or SIGHUP, which unload the module), resending a signal
 * stapio 4.8 may lose, SIGKILL as the last resort (lib/driver/signal_until_gone.ts: a stray whose stapfr died
 * has lost the reader of its outputs and hangs deaf to SIGQUIT; the kernel lab saw nothing lost but what it had
 * read and not written), then waits (bounded) for the module's reader count to drop.
 */
async function endStray(engine: Engine, record: RecorderRecord, stray: FoundReader): Promise<void> {
  const pid = stray.pid!;
  const attempts = 3;
  const polling = new AbortController();
  const ended = (async () => {
    while (!polling.signal.aborted && (await processAlive(pid, stray.start))) await sleep(25, polling.signal);
  })();
  try {
    const ending = await signalUntilGone(
      {
        // Checked before each signal: the pid is this stapio's (its start time), not a process that reused it.
        send: async (signal) => {
          if (!(await processAlive(pid, stray.start))) return false;
          try {
            Deno.kill(pid, signal);
            return true;
          } catch {
            return false; // Gone.
          }
        },
        ended,
      },
      "SIGQUIT",
      { attempts, waitMs: engine.signalWaitMs, killWaitMs: Math.max(2000, engine.signalWaitMs) },
    );
    if (ending === "alive") {
      throw new StapfrError(
        `Stray reader pid ${pid} of recorder "${record.name}" did not end after ${attempts} SIGQUIT signals and a SIGKILL`,
        { code: "timeout", hint: `Check it with "ps -p ${pid}"` },
      );
    }
  } finally {
    polling.abort();
    await ended;
  }
  // The named pipes its stapfr made for it (lib/recorder/memory_read.ts).
  if (stray.stapfr_pid !== null) {
    await Deno.remove(join(engine.registry.dir, `${record.name}.${stray.stapfr_pid}.pipes`), {
      recursive: true,
    })
      .catch(() => {});
  }
  if (stray.path) await Deno.remove(stray.path).catch(() => {});
  const deadline = Date.now() + Math.max(2000, engine.signalWaitMs);
  while (Date.now() < deadline) {
    const m = (await listModules(engine.host.procRoot)).find((x) => x.name === record.module);
    if (!m || m.refcount === 0) return;
    await sleep(25);
  }
}

/**
 * Before a command attaches to a memory recorder: when a stray holds the module, ends it (and says so through
 * `note`); when a live reader holds it, explains who. Refuses to attach at all once `signal` has aborted.
 * Returns whether a stray was ended.
 */
export async function clearReaderSlot(
  engine: Engine,
  record: RecorderRecord,
  options: { signal?: AbortSignal; note?: (line: string) => void } = {},
): Promise<boolean> {
  // An AbortError: the command line reports it as the interrupt it is (exit 130).
  if (options.signal?.aborted) throw new DOMException("Interrupted before attaching", "AbortError");
  await primeReaderRecords();
  const loaded = (await listModules(engine.host.procRoot)).find((m) => m.name === record.module);
  const reader = loaded ? await findReader(engine, record, loaded.refcount) : undefined;
  if (!reader) return false;
  if (reader.stray) {
    await endStray(engine, record, reader);
    options.note?.(
      `stapfr: Detached stray reader pid ${reader.pid} of "${record.name}" (its stapfr, pid ${reader.stapfr_pid}, ` +
        "is gone)",
    );
    return true;
  }
  const who = reader.by_stapfr
    ? `stapfr pid ${reader.stapfr_pid}, reader pid ${reader.pid}`
    : `${reader.pid === null ? "a process" : `pid ${reader.pid}`}, not started by stapfr`;
  throw new StapfrError(
    `Recorder "${record.name}" is already attached by another reader (${who})`,
    {
      code: "busy",
      hint: reader.by_stapfr
        ? "Only one reader at a time: wait for the other dump, attach, tail or stop to finish"
        : `Only one reader at a time: ${
          reader.pid === null ? "" : `"kill -QUIT ${reader.pid}" detaches it; `
        }never SIGINT or SIGTERM, which unload the module`,
    },
  );
}

/** What `gc` did about the readers of one recorder. */
export interface ReaderGcAction {
  action: "detached" | "kept" | "failed";
  detail: string;
}

/**
 * `gc`'s part: ends the stray of a memory recorder (SIGQUIT), reports a reader stapfr did not start and
 * leaves it alone. Undefined when there is nothing to say.
 */
export async function collectStrayReader(
  engine: Engine,
  record: RecorderRecord,
  refcount: number,
): Promise<ReaderGcAction | undefined> {
  if (record.mode !== "memory") return undefined;
  const reader = await findReader(engine, record, refcount);
  if (!reader) return undefined;
  if (reader.stray) {
    const detail = `stray reader pid ${reader.pid} (its stapfr, pid ${reader.stapfr_pid}, is gone)`;
    try {
      await endStray(engine, record, reader);
      return { action: "detached", detail: `${detail}; detached it with SIGQUIT` };
    } catch (err) {
      return { action: "failed", detail: `${detail}: ${(err as Error).message}` };
    }
  }
  if (reader.by_stapfr) return undefined;
  const pid = reader.pid === null ? "a process" : `pid ${reader.pid}`;
  return {
    action: "kept",
    detail: `attached by ${pid}, not started by stapfr: left alone${
      reader.pid === null ? "" : ` ("kill -QUIT ${reader.pid}" detaches it)`
    }`,
  };
}

/** Removes the records of readers that are gone (their stapfr died before it could remove them). */
export async function removeStaleReaderRecords(dir: string): Promise<void> {
  for (const { path, record } of await recordsIn(dir)) {
    if (await processAlive(record.reader.pid, record.reader.start ?? undefined)) continue;
    if (await processAlive(record.stapfr.pid, record.stapfr.start ?? undefined)) continue;
    await Deno.remove(path).catch(() => {});
  }
}

/**
 * The error for output that could not be written (a full disk, `/dev/full`, a terminal gone): reported after
 * the reader detached, so that the recorder keeps recording. `stop` detaches instead of ending the recording:
 * what it would print last could not be kept anywhere.
 */
export function writeFailure(command: string, recorder: string, err: Error): StapfrError {
  return new StapfrError(`Cannot write the output of ${command}: ${err.message}`, {
    code: "output_failed",
    hint: command === "stop"
      ? `Recorder "${recorder}" was detached and keeps recording; stop it again with somewhere to write, ` +
        'or "stop --discard"'
      : `Recorder "${recorder}" was detached and keeps recording; what was read and not written is lost`,
    cause: err,
  });
}
