/**
 * Helpers for the simulator's process-level tests: a private simulator root per test, the stand-ins run as
 * child processes, and a clean-up that stops every background process the test caused (module hosts and
 * stapio daemons are detached from the test, so they are found through the root and stopped by pid).
 * @module
 */
import { killAndWait } from "./support/processes.ts";
import { stapfrArgv } from "./helpers.ts";

/** A test's simulator: its root, environment and the background pids to stop. */
export interface SimWorld {
  root: string;
  /** A scratch directory for output files (the children's working directory). */
  work: string;
  env: Record<string, string>;
  /** Daemon pids the test learned (pid lines); stopped at clean-up. */
  daemons: number[];
}

/** Makes a world; `env` adds or overrides knobs. */
export async function makeWorld(env: Record<string, string> = {}): Promise<SimWorld> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-sim-test-" });
  const work = await Deno.makeTempDir({ prefix: "stapfr-sim-work-" });
  return {
    root,
    work,
    daemons: [],
    env: {
      NO_COLOR: "1",
      TZ: "UTC",
      STAPFR_SIM_ROOT: root,
      STAPFR_SIM_RATE: "2000",
      STAPFR_SIM_SEQ_WAIT_MS: "50",
      ...env,
    },
  };
}

/** Stops every module host under the root and every daemon, then removes the directories. */
export async function destroyWorld(world: SimWorld): Promise<void> {
  const pids = [...world.daemons];
  try {
    for await (const entry of Deno.readDir(`${world.root}/proc/systemtap`)) {
      try {
        pids.push(
          Number((await Deno.readTextFile(`${world.root}/proc/systemtap/${entry.name}/host.pid`)).trim()),
        );
      } catch {
        // no pid file: nothing runs there
      }
    }
  } catch {
    // no module was ever loaded
  }
  await killAndWait(pids.filter((p) => p > 0));
  await Deno.remove(world.root, { recursive: true }).catch(() => {});
  await Deno.remove(world.work, { recursive: true }).catch(() => {});
}

/** What a finished child printed. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** `stapfr sim ARGS…` in the world's work directory, output piped. */
function simCommand(world: SimWorld, args: string[], env: Record<string, string>): Deno.Command {
  const [cmd, ...pre] = stapfrArgv();
  return new Deno.Command(cmd, {
    args: [...pre, "sim", ...args],
    env: { ...world.env, ...env },
    cwd: world.work,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `stapfr sim ARGS…` to completion. */
export async function sim(
  world: SimWorld,
  args: string[],
  env: Record<string, string> = {},
): Promise<Output> {
  const out = await simCommand(world, args, env).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A running `stapfr sim …` whose output is collected as it comes. */
export class Running {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #readers: Promise<void>[];
  #stdoutReader?: ReadableStreamDefaultReader<Uint8Array>;

  constructor(world: SimWorld, args: string[], env: Record<string, string> = {}) {
    this.child = simCommand(world, args, env).spawn();
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
  async done(): Promise<Output> {
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

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 20 ms until it holds; throws after `timeoutMs` with `what`. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The module names in `ROOT/proc/modules`, with their refcounts. */
export async function modules(world: SimWorld): Promise<Map<string, number>> {
  try {
    const text = await Deno.readTextFile(`${world.root}/proc/modules`);
    return new Map(
      text.split("\n").filter(Boolean).map((l) => l.split(" ")).map((f) => [f[0], Number(f[2])]),
    );
  } catch {
    return new Map();
  }
}

/** The module name in a Disconnecting text. */
export function reconnectName(stderr: string): string {
  const m = /^To reconnect, type "staprun -A ([A-Za-z0-9_]+)"$/m.exec(stderr);
  if (!m) throw new Error(`No reconnect hint in ${JSON.stringify(stderr)}`);
  return m[1];
}
