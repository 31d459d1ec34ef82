/**
 * End-to-end test support: runs `stapfr --sim …` as a child process in a simulator root and state directory of
 * its own, and stops everything it started (recorders, module hosts, stapio daemons) when the test ends.
 * @module
 */
import { killAndWait } from "./processes.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { SIM_PERMISSIONS } from "../../lib/self.ts";

const CLI = fromFileUrl(new URL("../../cli.ts", import.meta.url));

/** What a finished stapfr run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One simulated world: a root, a state directory, and the stapfr that drives them. */
export class SimWorld {
  readonly root: string;
  readonly stateDir: string;
  readonly env: Record<string, string>;

  private constructor(root: string, env: Record<string, string>) {
    this.root = root;
    this.stateDir = `${root}/state`;
    this.env = {
      STAPFR_SIM_ROOT: root,
      STAPFR_STATE_DIR: `${root}/state`,
      STAPFR_SIM_CPUS: "2",
      STAPFR_SIM_SEED: "7",
      // No 4.8 sequence stall in tests, so a dump is over soon after the ring is drained.
      STAPFR_SIM_SEQ_WAIT_MS: "0",
      STAPFR_IDLE_MS: "800",
      STAPFR_SIGNAL_WAIT_MS: "1500",
      NO_COLOR: "1",
      ...env,
    };
  }

  /** Creates a world in a new temporary directory. */
  static async create(env: Record<string, string> = {}): Promise<SimWorld> {
    return new SimWorld(await Deno.makeTempDir({ prefix: "stapfr-e2e-" }), env);
  }

  /** The argv that runs stapfr with `--sim` and these arguments. */
  argv(args: string[]): string[] {
    return [Deno.execPath(), "run", "--quiet", ...SIM_PERMISSIONS, CLI, "--sim", ...args];
  }

  /** Runs stapfr to its end. */
  async run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
    const argv = this.argv(args);
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      env: { ...this.env, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
  }

  /** Runs stapfr and expects exit code 0; returns stdout. */
  async ok(args: string[], env: Record<string, string> = {}): Promise<string> {
    const r = await this.run(args, env);
    if (r.code !== 0) {
      throw new Error(`stapfr ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r.stdout;
  }

  /** Runs stapfr with `--json` and parses its document. */
  async json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok(["--json", ...args])) as T;
  }

  /** Starts stapfr in a process group of its own (so a test can send it what a terminal's Ctrl-C sends). */
  spawn(args: string[]): Deno.ChildProcess {
    const argv = this.argv(args);
    return new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: this.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  }

  /** The simulated `/proc/modules` as name → refcount. */
  async modules(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    try {
      for (const line of (await Deno.readTextFile(`${this.root}/proc/modules`)).split("\n")) {
        const f = line.split(" ");
        if (f.length > 2) out[f[0]] = Number(f[2]);
      }
    } catch {
      // No module was ever loaded.
    }
    return out;
  }

  /** The pid of a module's host process (the simulated kernel module). */
  async hostPid(module: string): Promise<number> {
    return Number((await Deno.readTextFile(`${this.root}/proc/systemtap/${module}/host.pid`)).trim());
  }

  /** Stops everything this world started and removes it. */
  async cleanup(): Promise<void> {
    // Collected first: unloading removes the control directories that name the hosts.
    const pids = await this.leftoverPids();
    try {
      const list = JSON.parse((await this.run(["--json", "list"])).stdout || "{}");
      for (const r of list.recorders ?? []) {
        if (r.state !== "orphan") await this.run(["stop", "--discard", r.name]);
      }
      await this.run(["gc", "--unload-orphans", "--yes"]);
    } finally {
      // Whatever is still alive (a test that failed half-way, or a host the simulator let go).
      await killAndWait(pids);
      await Deno.remove(this.root, { recursive: true }).catch(() => {});
    }
  }

  /** The module hosts of this world's simulated kernel and the stapio daemons of its recorders. */
  async leftoverPids(): Promise<number[]> {
    const pids: number[] = [];
    try {
      for await (const e of Deno.readDir(`${this.root}/proc/systemtap`)) {
        const pid = await this.hostPid(e.name).catch(() => 0);
        if (pid > 0) pids.push(pid);
      }
    } catch {
      // No module was ever loaded.
    }
    try {
      for await (const e of Deno.readDir(this.stateDir)) {
        if (!e.name.endsWith(".json")) continue;
        const pid = JSON.parse(await Deno.readTextFile(`${this.stateDir}/${e.name}`)).pid;
        if (typeof pid === "number" && pid > 0) pids.push(pid);
      }
    } catch {
      // No state.
    }
    return pids;
  }
}

/** Reads from a stream until `done(text)` says enough; returns the text read and the reader, still open. */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += decoder.decode(value, { stream: true });
  }
  return { text, reader };
}

/** Reads a stream to its end as text. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}
