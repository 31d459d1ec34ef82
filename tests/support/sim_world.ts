/**
 * One simulated world per test: a private simulator root with a state directory and a scratch directory,
 * stapfr run in it as a child process (`stapfr --sim …` through {@linkcode stapfrArgv}, so the binary when
 * `STAPFR_BIN` is set), the simulator's stand-ins (`stapfr sim stap …`), and a clean-up that stops every
 * background process the test caused: recorders, module hosts and stapio daemons (detached from the test,
 * so they are found through the root and the registry and stopped by pid).
 * @module
 */
import { UNTIL_TIMEOUT_MS } from "./poll.ts";
import { killAndWait } from "./processes.ts";
import { type RunResult, stapfrArgv } from "./stapfr.ts";

export type { RunResult } from "./stapfr.ts";

/** The knobs every world sets: two CPUs, a fixed seed, and short waits so that tests end soon. */
const DEFAULTS: Record<string, string> = {
  NO_COLOR: "1",
  TZ: "UTC",
  STAPFR_SIM_CPUS: "2",
  STAPFR_SIM_SEED: "7",
  // No 4.8 sequence stall, so a dump is over soon after the ring is drained.
  STAPFR_SIM_SEQ_WAIT_MS: "0",
  STAPFR_IDLE_MS: "800",
  STAPFR_SIGNAL_WAIT_MS: "1500",
};

/** The knobs of the stand-in tests (`stapfr sim stap …`): a busy workload and 4.8's sequence wait. */
export const STANDIN_KNOBS: Record<string, string> = {
  STAPFR_SIM_RATE: "2000",
  STAPFR_SIM_SEQ_WAIT_MS: "50",
};

/** A test's simulated world. */
export class SimWorld {
  /** The simulator root (`STAPFR_SIM_ROOT`): its `/proc`, module hosts and state. */
  readonly root: string;
  /** stapfr's registry (`STAPFR_STATE_DIR`), inside the root. */
  readonly stateDir: string;
  /** A scratch directory for output files, the stand-ins' working directory. */
  readonly work: string;
  readonly env: Record<string, string>;
  /** Daemon pids the test learned (pid lines of `staprun -D`); stopped at clean-up. */
  readonly daemons: number[] = [];

  private constructor(root: string, env: Record<string, string>) {
    this.root = root;
    this.stateDir = `${root}/state`;
    this.work = `${root}/work`;
    this.env = { ...DEFAULTS, STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: this.stateDir, ...env };
  }

  /** Creates a world in a new temporary directory; `env` adds or overrides knobs. */
  static async create(env: Record<string, string> = {}): Promise<SimWorld> {
    const world = new SimWorld(await Deno.makeTempDir({ prefix: "stapfr-sim-test-" }), env);
    await Deno.mkdir(world.work);
    return world;
  }

  /** Runs `fn` in a new world and cleans up after it, whatever happens. */
  static async with(fn: (world: SimWorld) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
    const world = await SimWorld.create(env);
    try {
      await fn(world);
    } finally {
      await world.cleanup();
    }
  }

  /** `stapfr ARGS…` with this world's environment, output piped. */
  command(
    args: string[],
    options: { env?: Record<string, string>; cwd?: string; detached?: boolean } = {},
  ): Deno.Command {
    const [cmd, ...pre] = stapfrArgv();
    return new Deno.Command(cmd, {
      args: [...pre, ...args],
      cwd: options.cwd,
      env: { ...this.env, ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: options.detached,
    });
  }

  /** The argv that runs `stapfr --sim ARGS…` (for tests that spawn it their own way). */
  argv(args: string[]): string[] {
    return [...stapfrArgv(), "--sim", ...args];
  }

  /** Runs `stapfr --sim ARGS…` to its end. */
  async run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<RunResult> {
    return decode(await this.command(["--sim", ...args], { env, cwd }).output());
  }

  /** Runs `stapfr --sim ARGS…` and expects exit code 0; returns stdout. */
  async ok(args: string[], env: Record<string, string> = {}): Promise<string> {
    const r = await this.run(args, env);
    if (r.code !== 0) {
      throw new Error(`stapfr ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r.stdout;
  }

  /** Runs `stapfr --sim --json ARGS…` and parses its document. */
  async json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok(["--json", ...args])) as T;
  }

  /** Starts `stapfr --sim ARGS…` in a process group of its own (so a test can send what Ctrl-C sends). */
  spawn(args: string[]): Deno.ChildProcess {
    return this.command(["--sim", ...args], { detached: true }).spawn();
  }

  /** Runs the stand-in `stapfr sim ARGS…` (`stap …`, `staprun …`, `lsmod`) in the work directory. */
  async sim(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return decode(await this.command(["sim", ...args], { env, cwd: this.work }).output());
  }

  /** Starts the stand-in `stapfr sim ARGS…`, its output collected as it comes. */
  running(args: string[], env: Record<string, string> = {}): Running {
    return new Running(this.command(["sim", ...args], { env, cwd: this.work }));
  }

  /** The simulated `/proc/modules` as name → refcount ("Used by"). */
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
    const pids = [...this.daemons, ...await this.leftoverPids()];
    try {
      // Recorders end as stapfr ends them; only when a recorder was ever registered (it costs processes).
      if (await exists(this.stateDir)) {
        const list = JSON.parse((await this.run(["--json", "list"])).stdout || "{}");
        for (const r of list.recorders ?? []) {
          if (r.state !== "orphan") await this.run(["stop", "--discard", r.name]);
        }
        await this.run(["gc", "--unload-orphans", "--yes"]);
      }
    } finally {
      // Whatever is still alive (a test that failed half-way, or a host the simulator let go).
      await killAndWait(pids.filter((p) => p > 0));
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

/** A running child whose output is collected as it comes. */
export class Running {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #readers: Promise<void>[];
  #stdoutReader?: ReadableStreamDefaultReader<Uint8Array>;

  constructor(command: Deno.Command) {
    this.child = command.spawn();
    this.#readers = [
      collect(this.child.stdout, (t) => (this.stdout += t), (r) => (this.#stdoutReader = r)),
      collect(this.child.stderr, (t) => (this.stderr += t)),
    ];
  }

  /** Sends a signal (ignored if the process is gone). */
  kill(sig: Deno.Signal): void {
    try {
      this.child.kill(sig);
    } catch {
      // already exited
    }
  }

  /** Closes the read end of its stdout: its next writes fail with EPIPE. */
  async closeStdout(): Promise<void> {
    await this.#stdoutReader?.cancel();
  }

  /** Waits for the exit and the end of its output. */
  async done(): Promise<RunResult> {
    const status = await this.child.status;
    await Promise.all(this.#readers);
    return { code: status.code, stdout: this.stdout, stderr: this.stderr };
  }

  /** Kills it (SIGKILL) if still running and waits: for `finally` blocks. */
  async stop(): Promise<void> {
    this.kill("SIGKILL");
    await this.done();
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  add: (text: string) => void,
  keep?: (reader: ReadableStreamDefaultReader<Uint8Array>) => void,
): Promise<void> {
  const dec = new TextDecoder();
  const reader = stream.getReader();
  keep?.(reader);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      add(dec.decode(value, { stream: true }));
    }
  } catch {
    // cancelled
  }
}

function decode(out: Deno.CommandOutput): RunResult {
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * Reads from a stream until `done(text)` says enough; returns the text read and the reader, still open. Fails
 * when the stream ends first or `timeoutMs` passes (default {@linkcode UNTIL_TIMEOUT_MS}).
 */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
  timeoutMs = UNTIL_TIMEOUT_MS,
): Promise<{ text: string; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (!done(text)) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
    });
    const read = await Promise.race([reader.read(), late]);
    clearTimeout(timer);
    if (read === "late" || read.done) {
      await reader.cancel();
      const why = read === "late" ? `nothing more within ${timeoutMs} ms` : "the stream ended";
      throw new Error(`${why}; read so far: ${JSON.stringify(text.slice(-500))}`);
    }
    text += decoder.decode(read.value, { stream: true });
  }
  return { text, reader };
}

/** Reads a stream to its end as text. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** The module name in a "Disconnecting from systemtap module" text. */
export function reconnectName(stderr: string): string {
  const m = /^To reconnect, type "staprun -A ([A-Za-z0-9_]+)"$/m.exec(stderr);
  if (!m) throw new Error(`No reconnect hint in ${JSON.stringify(stderr)}`);
  return m[1];
}
