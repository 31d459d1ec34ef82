/**
 * Shared helpers for the tests: running `main` in memory and the CLI as a child process.
 * @module
 */
import { main } from "../cli.ts";
import { SIM_PERMISSIONS } from "../lib/self.ts";

/** What a run of the command line produced. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writer that collects what is written. */
export function memoryWriter(): { write(p: Uint8Array): Promise<number>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    write(p) {
      chunks.push(p.slice());
      return Promise.resolve(p.length);
    },
    text: () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
  };
}

/** Runs `main` in this process with in-memory stdout/stderr and the given environment. */
export async function runMain(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const stdout = memoryWriter();
  const stderr = memoryWriter();
  const code = await main(args, { stdout, stderr, env: (name) => env[name] });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The path of cli.ts, for running it as a child process. */
export const CLI = new URL("../cli.ts", import.meta.url).pathname;

/**
 * The argv prefix that runs stapfr as a user would: the compiled binary when `STAPFR_BIN` names one (the GitHub
 * workflow runs the end-to-end tests that way), else `deno run` of cli.ts with the permissions it needs.
 */
export function stapfrArgv(): string[] {
  const bin = Deno.env.get("STAPFR_BIN");
  if (bin) return [bin];
  return [Deno.execPath(), "run", ...SIM_PERMISSIONS, CLI];
}

/** Runs the stapfr CLI as a child process and collects its output. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<RunResult> {
  const [cmd, ...pre] = stapfrArgv();
  const child = new Deno.Command(cmd, {
    args: [...pre, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
