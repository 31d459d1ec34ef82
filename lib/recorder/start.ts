/**
 * `start`: validates, takes the name's lock, runs `stap -F` in a directory of stapfr's own, waits for the
 * recording to run, and only then registers it. A script that fails leaves nothing registered or loaded.
 * @module
 */
import { checkRingFits, thisMachine } from "../driver/preflight.ts";
import { join, resolve } from "../path.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { type ScriptSource, stapMajorVersion, startFile, startMemory } from "../driver/start.ts";
import { moduleState, relayChannels } from "../driver/kernel.ts";
import { sleep } from "../driver/run.ts";
import { unloadModule } from "../driver/unload.ts";
import type { FileOutput, RecorderRecord } from "../registry.ts";
import { formatSize, moduleName, type RotateSpec, validateName } from "../units.ts";
import { detailOf, type Engine, type RecorderDetail, stateOf } from "./engine.ts";
import { listModules } from "../driver/kernel.ts";
import { hasBounds, type RetentionBounds } from "../snapshots/retention.ts";

/** What to start. */
export interface StartOptions {
  /** The recorder's name: `[a-z][a-z0-9_]*`, at most 40 characters. */
  name: string;
  /** The script: `{ file }` or `{ text }` (as `stap -e`). */
  script: ScriptSource;
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
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
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
    throw new StapfrError(`Cannot read script "${script.file}": ${(err as Error).message}`, { cause: err });
  }
}

/** Starts a recorder and returns it in detail. */
export async function startRecorder(engine: Engine, options: StartOptions): Promise<StartedRecorder> {
  const name = validateName(options.name);
  const fileMode = options.output !== undefined;
  if (!fileMode && (options.rotate || options.bulk)) {
    throw new UsageError(`"--rotate" and "--bulk" need "--output"`);
  }
  const script = await readScript(options.script);
  // stap runs in a directory of stapfr's own: hand it the script by its absolute path.
  const source: ScriptSource = script.file !== null ? { file: script.file } : options.script;
  const { host, registry } = engine;
  const release = await registry.lock(name);
  let workDir: string | undefined;
  let runDir: string | undefined;
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
    // What both modes hand to stap.
    const stapRun = {
      host,
      recorder: name,
      module,
      script: source,
      workDir,
      stapArgs: options.stapArgs,
      signal: options.signal,
    };
    const notes: string[] = [];
    let output: FileOutput | null = null;
    let pid: number | null = null;
    let pidStart: number | null = null;
    if (fileMode) {
      let bulk = options.bulk ?? false;
      if (options.rotate && !bulk && ((await stapMajorVersion(host)) ?? 4) < 5) {
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
      const started = await startFile({
        ...stapRun,
        runDir,
        base: output.base,
        rotate: options.rotate,
        bulk,
      });
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
      snapshotRetention: hasBounds(options.snapshotRetention) ? options.snapshotRetention : null,
    };
    try {
      await registry.put(record);
    } catch (err) {
      // Not registered means nobody would ever stop it: take it down again.
      if (pid !== null) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* gone */ }
      } else await unloadModule(host, module, name).catch(() => {});
      throw err;
    }
    runDir = undefined;
    return await detailOf(engine, record);
  } finally {
    if (workDir) await Deno.remove(workDir, { recursive: true }).catch(() => {});
    // A failed file-mode start leaves no empty run directory behind.
    if (runDir) await Deno.remove(runDir).catch(() => {});
    await release();
  }
}
