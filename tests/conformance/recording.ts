/**
 * What a scenario observes on one side, in a form the two sides can be compared by: each step's stdout,
 * stderr and exit status, the files in the working directory (names and bytes), the modules left loaded. The
 * daemon's pid line is the one value that differs by nature; it is recorded as `<pid>`.
 * @module
 */
import { join } from "node:path";
import { writeModuleFile } from "../../sim/cmd/module_file.ts";
import { listModules } from "../../sim/module_host/host.ts";
import { alive, type Proc, waitFor } from "./proc.ts";
import { until } from "../support/poll.ts";
import type { RunOptions, Side } from "./sides.ts";

/** A file as compared: its size and digest, and its text when it is small (for a readable difference). */
export interface FileSeen {
  size: number;
  sha256: string;
  text?: string;
}

/**
 * Turns stdout or stderr into what is compared, where part of it is timing the real stapio cannot control
 * (each use says why).
 */
export interface OutputView {
  stdout?: (text: string) => unknown;
  stderr?: (text: string) => unknown;
}

/** One observation: a label and a value. */
export type Entry = [label: string, value: unknown];

/** A module compiled into a `.ko` of the simulator (the same file on both sides). */
export interface ModuleDef {
  name: string;
  script: string;
  bulk?: boolean;
  /** Relay bytes per CPU compiled in (`stap -s`). */
  bufferBytes?: number;
}

const decoder = new TextDecoder();

/** A scenario's run on one side: helpers that act and record. */
export class Recording {
  readonly side: Side;
  readonly entries: Entry[] = [];
  /** Facts only one side has (what the real stapio ran to unload): checked, not compared. */
  readonly onlyHere: Entry[] = [];

  constructor(side: Side) {
    this.side = side;
  }

  get work(): string {
    return this.side.setup.work;
  }

  /** Records a value. */
  note(label: string, value: unknown): void {
    this.entries.push([label, value]);
  }

  /** Records a fact of the real side only (ignored on the sim side). */
  realOnly(label: string, value: unknown): void {
    if (this.side.kind === "real") this.onlyHere.push([label, value]);
  }

  /** Writes `NAME.ko` in the working directory and returns its path. */
  async module(def: ModuleDef): Promise<string> {
    const path = join(this.work, `${def.name}.ko`);
    await writeModuleFile({
      name: def.name,
      path,
      scriptSource: def.script,
      bulk: def.bulk ?? false,
      guru: false,
      args: [],
      bufferBytes: def.bufferBytes,
    });
    return path;
  }

  /** Starts `staprun ARGS` on this side. */
  start(args: string[], options?: RunOptions): Promise<Proc> {
    return this.side.staprun(args, options);
  }

  /** Runs `staprun ARGS` to its end and records stdout, stderr and status under `label`. */
  async run(label: string, args: string[], options?: RunOptions): Promise<Proc> {
    const proc = await this.start(args, options);
    await this.finish(label, proc);
    return proc;
  }

  /**
   * Waits for the exit (sending `signal` first, if given) and records the outcome. `stderr` may turn the
   * text into what is compared (for output whose interleaving is timing).
   */
  async finish(label: string, proc: Proc, signal?: Deno.Signal, view: OutputView = {}): Promise<void> {
    const status = signal ? await proc.stop(signal) : await proc.exit();
    // The sides work in different directories: paths in messages are compared relative to it.
    const stdout = proc.stdout.replace(/^\d+\n$/, "<pid>\n").replaceAll(this.work, "<work>");
    const stderr = proc.stderr.replaceAll(this.work, "<work>");
    this.note(label, {
      code: status === "did not exit" ? status : status.code,
      signal: status === "did not exit" ? null : status.signal,
      stdout: view.stdout ? view.stdout(stdout) : stdout,
      stderr: view.stderr ? view.stderr(stderr) : stderr,
    });
  }

  /** Runs `staprun ARGS` to its end and records it through `view`. */
  async runViewed(label: string, args: string[], view: OutputView): Promise<void> {
    const proc = await this.start(args);
    await this.finish(label, proc, undefined, view);
  }

  /** Starts a `-D` daemon: records the parent's outcome and returns the daemon's pid. */
  async daemon(label: string, args: string[]): Promise<number> {
    const proc = await this.start(args);
    await this.finish(label, proc);
    const pid = Number(proc.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`No pid line from the daemon: "${proc.stdout}"`);
    this.side.adopt(pid);
    return pid;
  }

  /** Signals a pid that is not our child (the daemon). */
  signal(pid: number, signal: Deno.Signal): void {
    try {
      Deno.kill(pid, signal);
    } catch {
      // gone
    }
  }

  /** Waits until a pid that is not our child has exited, resending `signal` (if given) now and then. */
  async gone(pid: number, signal?: Deno.Signal): Promise<void> {
    if (signal) this.signal(pid, signal);
    let polls = 0;
    await until(`process ${pid} to exit`, async () => {
      if (signal && ++polls % 50 === 0) this.signal(pid, signal);
      return !(await alive(pid));
    }, { timeoutMs: 30_000, intervalMs: 100 });
  }

  /** Waits until `proc`'s stdout holds `count` lines. */
  async lines(proc: Proc, count: number): Promise<void> {
    await waitFor(
      `${count} lines on stdout of ${this.side.kind} staprun`,
      () => lineCount(proc.stdout) >= count,
    );
  }

  /** Waits until the file `name` in the working directory contains `text`. */
  async fileHas(name: string, text: string): Promise<void> {
    await waitFor(`"${text.trim()}" in ${name} (${this.side.kind})`, async () => {
      try {
        return (await Deno.readTextFile(join(this.work, name))).includes(text);
      } catch {
        return false;
      }
    });
  }

  /** Waits until the working directory holds a file named `name`. */
  async fileExists(name: string): Promise<void> {
    await waitFor(`${name} (${this.side.kind})`, async () => {
      try {
        await Deno.lstat(join(this.work, name));
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Waits until no module is loaded on this side (an unload in progress ends). */
  async noModules(): Promise<void> {
    await waitFor(`no loaded module (${this.side.kind})`, async () => {
      return (await listModules(this.side.setup.root)).length === 0;
    });
  }

  /**
   * Records the loaded modules (name, refcount, state). Called when no stapio runs: the host notices a closed
   * `.cmd` a moment after the reader exits, so this waits (briefly) for the refcounts to drop to 0.
   */
  async modules(label: string): Promise<void> {
    let list = await listModules(this.side.setup.root);
    await waitFor(`refcounts 0 (${this.side.kind})`, async () => {
      list = await listModules(this.side.setup.root);
      return !list.some((m) => m.refcount > 0);
    });
    this.note(label, list.map((m) => `${m.name} ${m.refcount} ${m.state}`));
  }

  /** Records every file of the working directory except the `.ko` files: names and content. */
  async files(label: string): Promise<void> {
    const seen: Record<string, FileSeen> = {};
    const names: string[] = [];
    for await (const e of Deno.readDir(this.work)) if (!e.name.endsWith(".ko")) names.push(e.name);
    for (const name of names.sort()) {
      const bytes = await Deno.readFile(join(this.work, name));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      const file: FileSeen = { size: bytes.length, sha256: [...digest].map(hex).join("") };
      if (bytes.length <= 4096) file.text = decoder.decode(bytes);
      seen[name] = file;
    }
    this.note(label, seen);
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** Lines (newline-terminated) in a text. */
export function lineCount(text: string): number {
  return text.split("\n").length - 1;
}
