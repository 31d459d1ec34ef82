/**
 * Test support for reader hygiene: which `staprun -A` processes of one simulated world are alive, what a
 * process listens on, and running stapfr with its stdout on a file such as `/dev/full`.
 * @module
 */
import type { SimWorld } from "./sim_world.ts";

/** Runs argv and returns its stdout (empty when it fails). */
export async function output(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null", stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

/** The `staprun -A MODULE` processes of this world (their environment names its simulator root). */
export async function readerPids(world: SimWorld, module: string): Promise<number[]> {
  const pids: number[] = [];
  // `sim staprun -A [-o DIR/cpu] MODULE`: stapfr's bulk reads name their per-CPU outputs.
  const pattern = new RegExp(`\\bsim staprun -A (-o \\S+ )?${module}$`);
  for (const line of (await output(["ps", "-e", "-o", "pid=,args="])).split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || !pattern.test(m[2].trim())) continue;
    const environ = await output(["cat", `/proc/${m[1]}/environ`]);
    if (environ.split("\0").includes(`STAPFR_SIM_ROOT=${world.root}`)) pids.push(Number(m[1]));
  }
  return pids;
}

/** Polls `check` every 25 ms until it holds; fails the test with `what` when `ms` pass first. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until nobody reads `module` (refcount 0, no staprun -A of this world alive). */
export async function noReaderLeft(world: SimWorld, module: string, ms = 10_000): Promise<void> {
  await until(
    `${module} to have no reader`,
    async () => (await world.modules())[module] === 0 && (await readerPids(world, module)).length === 0,
    ms,
  );
}

/** Whether a process exists and is not a zombie. */
export async function running(pid: number): Promise<boolean> {
  const stat = await output(["cat", `/proc/${pid}/stat`]);
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return stat !== "" && state !== "Z" && state !== "X";
}

/** The children of a process, with their command lines. */
export async function childrenOf(pid: number): Promise<{ pid: number; args: string }[]> {
  return (await output(["ps", "-o", "pid=,args=", "--ppid", String(pid)])).split("\n")
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2] }));
}

/**
 * Starts stapfr with its stdout on `path` (a fixed shell line; the arguments travel as argv, never as shell
 * text), in a process group of its own; stderr is piped.
 */
export function spawnWithStdout(world: SimWorld, args: string[], path: string): Deno.ChildProcess {
  const argv = world.argv(args);
  return new Deno.Command("sh", {
    args: ["-c", 'out=$1; shift; exec "$@" > "$out"', "sh", path, ...argv],
    env: world.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
}

/** Waits for a child's exit, SIGKILLing its group after `ms` (a hung stapfr fails the test, not the run). */
export async function exitWithin(
  child: Deno.ChildProcess,
  ms = 30_000,
): Promise<{ code: number; stderr: string }> {
  const timer = setTimeout(() => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // Gone.
    }
  }, ms);
  try {
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    return { code: status.signal ? 128 : status.code, stderr };
  } finally {
    clearTimeout(timer);
  }
}
