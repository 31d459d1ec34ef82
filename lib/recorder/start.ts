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
import { type ScriptSource, stapMajorVersion, startFile, startMemory } from "../driver/launch.ts";
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

/** Starts a recorder and returns it in detail. */
export async function startRecorder(engine: Engine, options: StartOptions): Promise<StartedRecorder> {
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
  const { host, registry } = engine;
  let prebuilt: PrebuiltModule | undefined;
  if (options.module !== undefined) {
    if (options.stapArgs?.length) {
      throw new UsageError('A prebuilt module takes no stap arguments: give them to "stapfr build"');
    }
    if (options.bulk) {
      throw new UsageError('"--bulk" is compiled into a prebuilt module: give it to "stapfr build"');
    }
    prebuilt = await checkPrebuilt(options.module, {
      name,
      release: releaseOf(host.kind, engine.knobs),
      fileMode,
      rotate: options.rotate !== undefined,
      cpus: host.kind === "sim" ? engine.knobs.simCpus : navigator.hardwareConcurrency,
      self: host.kind === "sim" ? "stapfr --sim" : "stapfr",
    });
  }
  const script = options.script ? await readScript(options.script) : { file: null, text: "" };
  // stap runs in a directory of stapfr's own: hand it the script by its absolute path.
  const source: ScriptSource | undefined = script.file !== null ? { file: script.file } : options.script;
  const release = await registry.lock(name);
  let workDir: string | undefined;
  let runDir: string | undefined;
  let stapMayHaveInserted = false;
  try {
    const existing = await registry.get(name);
    if (existing) {
      const state = existing.host === host.kind
        ? await stateOf(existing, await listModules(host.procRoot))
        : "?";
      // Attached is recording too (someone is dumping it); dead, exited and another host's are refused.
      if (options.adopt && (state === "recording" || state === "attached")) {
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
    if (!fileMode && options.buffer !== undefined && host.kind === "real") {
      const { cpus, mem } = thisMachine();
      checkRingFits(options.buffer, cpus, mem);
    }
    workDir = await registry.subdir("build", name);
    // Every module stapfr compiles carries its counters (docs/loss-accounting.md "Records without a number").
    const extraArgs = prebuilt ? [] : await writeCountersTapset(workDir);
    // From here on stap may insert the module; it was absent when checked above, under the name's lock.
    stapMayHaveInserted = true;
    // What both modes hand to stap.
    const stapRun = {
      host,
      recorder: name,
      module,
      script: source,
      prebuilt: prebuilt?.path,
      workDir,
      stapArgs: options.stapArgs,
      extraArgs,
      signal: options.signal,
    };
    const notes: string[] = [];
    let output: FileOutput | null = null;
    let pid: number | null = null;
    let pidStart: number | null = null;
    if (fileMode) {
      let bulk = prebuilt ? prebuilt.bulk === true : options.bulk ?? false;
      if (!prebuilt && options.rotate && !bulk && ((await stapMajorVersion(host)) ?? 4) < 5) {
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
      runDir = await makeRunDir(dir, name);
      output = { dir, runDir, base: `${name}.out`, rotate: options.rotate, bulk };
      const fileStart = {
        ...stapRun,
        runDir,
        base: output.base,
        rotate: options.rotate,
        bulk,
        buffer: prebuilt ? options.buffer : undefined,
      };
      const started = await startFile({ ...fileStart, privateFiles: true });
      pid = started.pid;
      pidStart = started.pidStart;
    } else {
      await startMemory({
        ...stapRun,
        buffer: options.buffer,
      });
      // stapio has detached when stap returns; the reader count in /proc/modules may follow a moment later.
      for (let i = 0; i < 80 && (await moduleState(host.procRoot, module)) === "attached"; i++) {
        await sleep(25);
      }
    }
    const record: RecorderRecord = {
      format: 1,
      name,
      mode: fileMode ? "file" : "memory",
      host: host.kind,
      module,
      pid,
      pidStart,
      startedAt: new Date().toISOString(),
      scriptFile: script.file,
      script: script.text,
      buffer: options.buffer ?? null,
      output,
      stapArgs: options.stapArgs ?? [],
      cpus: (await relayChannels(host.procRoot, module)) ?? null,
      notes,
      endedAt: null,
      // Memory mode reads by sequence number where the module has bulk transport (every compiled one does).
      bulk: fileMode ? output!.bulk : prebuilt ? prebuilt.bulk === true : true,
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
    try {
      await registry.put(record);
    } catch (err) {
      // Not registered means nobody would ever stop it: take it down again (undoInsert unloads the module
      // once the daemon, told to end, has let go of it).
      if (pid !== null) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* gone */ }
      }
      throw err;
    }
    runDir = undefined;
    stapMayHaveInserted = false;
    if (pid !== null) await settle(host, module, pid, pidStart);
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
