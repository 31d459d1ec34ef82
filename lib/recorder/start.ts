/**
 * `start`: validates, takes the name's lock, runs `stap -F` in a directory of stapfr's own, waits for the
 * recording to run, and only then registers it. A start that fails leaves nothing registered or loaded: it
 * unloads the module it inserted, and only that one.
 * @module
 */
import { ensureOutputDirectory } from "../path_errors.ts";
import { checkRingFits, thisMachine } from "../driver/preflight.ts";
import { join, resolve } from "../path.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { osError } from "../os_errors.ts";
import {
  type ScriptSource,
  stapMajorVersion,
  type StartCommon,
  startFile,
  startMemory,
} from "../driver/launch.ts";
import { listModules, moduleState, processAlive, relayChannels } from "../driver/kernel.ts";
import { sleep } from "../driver/run.ts";
import { unloadModule } from "../driver/unload.ts";
import type { Host } from "../host.ts";
import type { FileOutput, RecorderRecord } from "../registry.ts";
import { formatSize, moduleName, type RotateSpec, validateName } from "../units.ts";
import { detailOf, type Engine, type RecorderDetail, stateOf } from "./engine.ts";
import { checkPrebuilt, type PrebuiltModule } from "./prebuilt.ts";
import { writeCountersTapset } from "../driver/counters_tapset.ts";
import { releaseOf } from "../kernel_release.ts";
import { hasBounds, type RetentionBounds } from "../units.ts";

/** What to start. */
export interface StartOptions {
  /** The recorder's name: `[a-z][a-z0-9_]*`, at most 40 characters. */
  name: string;
  /** The script: `{ file }` or `{ text }` (as `stap -e`). Give this or `module`. */
  script?: ScriptSource;
  /** A prebuilt module (`stapfr build`), `stap_fr_NAME.ko`, started with staprun. Give this or `script`. */
  module?: string;
  /** Memory mode: ring bytes per CPU (stap -s). */
  buffer?: number;
  /** File mode: the directory the runs go to (each run gets a directory of its own inside it). */
  output?: string;
  /** File mode: switch files at `size`, keep `count`. */
  rotate?: RotateSpec;
  /** File mode: one file per CPU (stap -b), merged by sequence number when read. */
  bulk?: boolean;
  /** More arguments for stap (placed before the script). */
  stapArgs?: string[];
  /** Aborting it stops a start in progress (stap unloads what it loaded). */
  signal?: AbortSignal;
  /** A recorder of this name that is already recording on this host is adopted (returned as it is, with
   * `adopted: true`) instead of refused: a service restarted without its recorder (docs/service.md
   * "Adoption"). */
  adopt?: boolean;
  /** Retention bounds for this recorder's snapshots, applied after each new one. */
  snapshotRetention?: RetentionBounds;
}

/** What {@linkcode startRecorder} returns: the recorder, and whether it was adopted instead of started. */
export type StartedRecorder = RecorderDetail & { adopted?: true };

/** The run directory name: `NAME-YYYYMMDDTHHMMSSZ`, unique within `dir`. */
async function makeRunDir(dir: string, name: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  // PATH may be created, its parent not: a mistyped parent is refused with the reason.
  await ensureOutputDirectory(dir);
  for (let n = 1;; n++) {
    const path = join(dir, n === 1 ? `${name}-${stamp}` : `${name}-${stamp}-${n}`);
    try {
      // Traced data: only the owner may look (mkdir's mode is filtered by umask, but 0700 survives it).
      await Deno.mkdir(path, { mode: 0o700 });
      return path;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
}

async function readScript(script: ScriptSource): Promise<{ file: string | null; text: string }> {
  if ("text" in script) return { file: null, text: script.text };
  const file = resolve(script.file);
  try {
    return { file, text: await Deno.readTextFile(file) };
  } catch (err) {
    throw osError("read script", script.file, err);
  }
}

/**
 * A start failed after stap ran: unloads the module if this start inserted it, so a failed start leaves nothing
 * loaded: a staprun or stapio that fails after the insert (its daemon does not start, it dies) leaves the
 * module loaded (docs/systemtap-4.8.md 4.7). The module was absent when the start checked under the name's lock, so
 * a loaded one is this start's, unless stap says its insert was refused: then someone else loaded it meanwhile,
 * and it is not ours to unload. A stapio still attached (a daemon that was sent SIGTERM unloads by itself) is
 * given a bounded time to finish first.
 */
async function undoInsert(engine: Engine, module: string, name: string, cause: unknown): Promise<void> {
  // SystemTap's own lines are in the message or, where the error keeps them apart, in its detail.
  const said = cause instanceof Error
    ? `${cause.message}\n${(cause as { detail?: unknown }).detail ?? ""}`
    : "";
  if (/Couldn't insert module/.test(said)) return;
  const { host } = engine;
  for (let i = 0; i < 200 && (await moduleState(host.procRoot, module)) === "attached"; i++) await sleep(25);
  const listed = await listModules(host.procRoot, { includeGone: true });
  if (!listed.some((m) => m.name === module)) return;
  // Best effort: the start's own error is the one to report; a module that stays is an orphan gc lists.
  await unloadModule(host, module, name).catch(() => {});
}

/**
 * How long a new file recorder is watched for ending at once: its begin probes have run when its files exist,
 * and a script that calls exit() there ends within a few hundred milliseconds (its stapio runs the end probes,
 * unloads the module and exits). Watching that long lets start say "ended" as list would, instead of
 * "recording"; a recorder that goes on costs this wait once.
 */
const SETTLE_MS = 500;

/**
 * Waits up to {@linkcode SETTLE_MS} for a file recorder's daemon to exit; returns as soon as it does and its
 * module is gone too (the daemon unloads it on the way out, and /proc/modules may show that a moment later).
 */
async function settle(host: Host, module: string, pid: number, pidStart: number | null): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while (Date.now() < deadline) {
    if (!(await processAlive(pid, pidStart ?? undefined))) {
      if ((await moduleState(host.procRoot, module)) === "absent") return;
    }
    await sleep(25);
  }
}

/** The options that need no look at the host, checked; the prebuilt module, checked against this host. */
async function checkStart(
  engine: Engine,
  options: StartOptions,
): Promise<{ name: string; fileMode: boolean; prebuilt?: PrebuiltModule }> {
  const name = validateName(options.name);
  const fileMode = options.output !== undefined;
  if (options.output === "") throw new UsageError(`Invalid output directory "": expected a directory`);
  if (!fileMode && (options.rotate || options.bulk)) {
    throw new UsageError(`"--rotate" and "--bulk" need "--output"`);
  }
  if ((options.script === undefined) === (options.module === undefined)) {
    throw new UsageError(
      options.module === undefined
        ? "Missing script: give a script or a prebuilt module"
        : "Give a script or a prebuilt module, not both",
    );
  }
  if (options.module === undefined) return { name, fileMode };
  if (options.stapArgs?.length) {
    throw new UsageError('A prebuilt module takes no stap arguments: give them to "stapfr build"');
  }
  if (options.bulk) {
    throw new UsageError('"--bulk" is compiled into a prebuilt module: give it to "stapfr build"');
  }
  const { host } = engine;
  const prebuilt = await checkPrebuilt(options.module, {
    name,
    release: releaseOf(host.kind, engine.knobs),
    fileMode,
    rotate: options.rotate !== undefined,
    cpus: host.kind === "sim" ? engine.knobs.simCpus : navigator.hardwareConcurrency,
    self: host.kind === "sim" ? "stapfr --sim" : "stapfr",
  });
  return { name, fileMode, prebuilt };
}

/**
 * Under the name's lock: a recorder of this name is adopted (with `adopt`, when it records) or refused, and so
 * is a module of its name that something else loaded; a leftover line of a gone simulated host is cleared.
 */
async function claimName(engine: Engine, name: string, adopt: boolean): Promise<StartedRecorder | undefined> {
  const { host, registry } = engine;
  const existing = await registry.get(name);
  if (existing) {
    const state = existing.host === host.kind
      ? await stateOf(existing, await listModules(host.procRoot))
      : "?";
    // Attached is recording too (someone is dumping it); dead, exited and another host's are refused.
    if (adopt && (state === "recording" || state === "attached")) {
      return { ...(await detailOf(engine, existing)), adopted: true };
    }
    throw new StapfrError(`Recorder "${name}" already exists (${state})`, {
      code: "exists",
      hint: state === "dead"
        ? '"stapfr gc" removes it'
        : `Stop it first ("stapfr${host.kind === "sim" ? " --sim" : ""} stop ${name}")`,
    });
  }
  const module = moduleName(name);
  if ((await moduleState(host.procRoot, module)) !== "absent") {
    throw new StapfrError(
      `Module "${module}" is already loaded, but no recorder "${name}" is registered here`,
      {
        code: "exists",
        hint: 'It may belong to another state directory; "stapfr gc --unload-orphans" unloads it',
      },
    );
  }
  if ((await listModules(host.procRoot, { includeGone: true })).some((m) => m.name === module)) {
    // Listed but its (simulated) host is gone: clear the leftover line first.
    await unloadModule(host, module, name).catch(() => {});
  }
  return undefined;
}

/** What both modes hand to stap. */
type StapRun = StartCommon;

/** What a file recorder's start made: its output and its stapio daemon. */
interface FileStarted {
  output: FileOutput;
  pid: number;
  pidStart: number | null;
  notes: string[];
  /** The run directory, to remove if the start fails after this. */
  runDir: string;
}

/** Starts a file recorder: its run directory, then `stap -F -o` (or staprun) and its daemon. */
async function startFileRecorder(
  stapRun: StapRun,
  options: StartOptions,
  prebuilt: PrebuiltModule | undefined,
  name: string,
  onRunDir: (dir: string) => void,
): Promise<FileStarted> {
  const notes: string[] = [];
  let bulk = prebuilt ? prebuilt.bulk === true : options.bulk ?? false;
  if (!prebuilt && options.rotate && !bulk && ((await stapMajorVersion(stapRun.host)) ?? 4) < 5) {
    // 4.x non-bulk -S lets the CPUs overwrite each other's file (docs/systemtap-4.8.md 4.5).
    bulk = true;
    notes.push(
      `SystemTap 4.x: rotating output uses bulk mode (one file per CPU, merged when read); ` +
        `--rotate ${formatSize(options.rotate.size)}${
          options.rotate.count ? `,${options.rotate.count}` : ""
        } applies per CPU`,
    );
  }
  const dir = resolve(options.output!);
  const runDir = await makeRunDir(dir, name);
  onRunDir(runDir);
  const output: FileOutput = { dir, runDir, base: `${name}.out`, rotate: options.rotate, bulk };
  const started = await startFile({
    ...stapRun,
    runDir,
    base: output.base,
    rotate: options.rotate,
    bulk,
    buffer: prebuilt ? options.buffer : undefined,
    privateFiles: true,
  });
  return { output, pid: started.pid, pidStart: started.pidStart, notes, runDir };
}

/** Starts a memory recorder: `stap -F` (or `staprun -L`) loads the module, and stapio detaches. */
async function startMemoryRecorder(stapRun: StapRun, buffer: number | undefined): Promise<void> {
  await startMemory({ ...stapRun, buffer });
  // stapio has detached when stap returns; the reader count in /proc/modules may follow a moment later.
  for (let i = 0; i < 80 && (await moduleState(stapRun.host.procRoot, stapRun.module)) === "attached"; i++) {
    await sleep(25);
  }
}

/** The registry's record of a recorder that runs. */
async function recordOf(
  engine: Engine,
  name: string,
  options: StartOptions,
  script: { file: string | null; text: string },
  prebuilt: PrebuiltModule | undefined,
  file: FileStarted | undefined,
): Promise<RecorderRecord> {
  const module = moduleName(name);
  return {
    format: 1,
    name,
    mode: file ? "file" : "memory",
    host: engine.host.kind,
    module,
    pid: file?.pid ?? null,
    pidStart: file?.pidStart ?? null,
    startedAt: new Date().toISOString(),
    scriptFile: script.file,
    script: script.text,
    buffer: options.buffer ?? null,
    output: file?.output ?? null,
    stapArgs: options.stapArgs ?? [],
    cpus: (await relayChannels(engine.host.procRoot, module)) ?? null,
    notes: file?.notes ?? [],
    endedAt: null,
    // Memory mode reads by sequence number where the module has bulk transport (every compiled one does).
    bulk: file ? file.output.bulk : prebuilt ? prebuilt.bulk === true : true,
    counters: prebuilt ? prebuilt.counters : true,
    ...(prebuilt
      ? {
        prebuilt: {
          path: prebuilt.path,
          sha256: prebuilt.sha256,
          release: prebuilt.release,
          bulk: prebuilt.bulk,
        },
      }
      : {}),
    snapshotRetention: hasBounds(options.snapshotRetention) ? options.snapshotRetention : null,
  };
}

/**
 * Starts a recorder and returns it in detail: checks, claims the name under its lock, runs stap, waits for the
 * recording to run, and registers it last. A failure after stap ran unloads what this start inserted.
 */
export async function startRecorder(engine: Engine, options: StartOptions): Promise<StartedRecorder> {
  const { name, fileMode, prebuilt } = await checkStart(engine, options);
  const { host, registry } = engine;
  const script = options.script ? await readScript(options.script) : { file: null, text: "" };
  // stap runs in a directory of stapfr's own: hand it the script by its absolute path.
  const source: ScriptSource | undefined = script.file !== null ? { file: script.file } : options.script;
  const release = await registry.lock(name);
  let workDir: string | undefined;
  let runDir: string | undefined;
  let stapMayHaveInserted = false;
  try {
    const adopted = await claimName(engine, name, options.adopt ?? false);
    if (adopted) return adopted;
    if (!fileMode && options.buffer !== undefined && host.kind === "real") {
      const { cpus, mem } = thisMachine();
      checkRingFits(options.buffer, cpus, mem);
    }
    workDir = await registry.subdir("build", name);
    // Every module stapfr compiles carries its counters (docs/loss-accounting.md "Records without a number").
    const extraArgs = prebuilt ? [] : await writeCountersTapset(workDir);
    // From here on stap may insert the module; it was absent when checked above, under the name's lock.
    stapMayHaveInserted = true;
    const stapRun: StapRun = {
      host,
      recorder: name,
      module: moduleName(name),
      script: source,
      prebuilt: prebuilt?.path,
      workDir,
      stapArgs: options.stapArgs,
      extraArgs,
      signal: options.signal,
    };
    const file = fileMode
      ? await startFileRecorder(stapRun, options, prebuilt, name, (dir) => (runDir = dir))
      : (await startMemoryRecorder(stapRun, options.buffer), undefined);
    const record = await recordOf(engine, name, options, script, prebuilt, file);
    try {
      await registry.put(record);
    } catch (err) {
      // Not registered means nobody would ever stop it: take it down again (undoInsert unloads the module
      // once the daemon, told to end, has let go of it).
      if (file) {
        try {
          Deno.kill(file.pid, "SIGTERM");
        } catch { /* gone */ }
      }
      throw err;
    }
    runDir = undefined;
    stapMayHaveInserted = false;
    if (file) await settle(host, record.module, file.pid, file.pidStart);
    return await detailOf(engine, record);
  } catch (err) {
    if (stapMayHaveInserted) await undoInsert(engine, moduleName(name), name, err);
    throw err;
  } finally {
    if (workDir) await Deno.remove(workDir, { recursive: true }).catch(() => {});
    // A failed file-mode start leaves no empty run directory behind.
    if (runDir) await Deno.remove(runDir).catch(() => {});
    await release();
  }
}
