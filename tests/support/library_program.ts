/**
 * Library programs as a user writes them: a file that imports `mod.ts`, run by `deno run` as a process of its
 * own with explicit permissions (the README's, unless a test gives others), in a simulated world. A program
 * reports to the test as JSON lines on stdout (`report(value)`), so that the test checks what the program saw
 * from the outside; everything the program started is stopped by the world's clean-up.
 * @module
 */
import { fileURLToPath } from "node:url";
import type { SimWorld } from "./sim_world.ts";

/** The library's entry, as a program imports it. */
export const MOD_URL: string = new URL("../../mod.ts", import.meta.url).href;
const CONFIG: string = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** The permissions README "Library" says a program needs (without `--allow-ffi`, which only the guard needs). */
export const LIBRARY_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-sys",
  "--allow-net",
];

/**
 * What every program starts with: the library as `stapfr`, a `report` that prints one JSON line, and
 * `codeOf` (an error's code, class and message, for reports).
 */
const PRELUDE = `
import * as stapfr from "${MOD_URL}";
const report = (value: unknown) => console.log(JSON.stringify(value));
const codeOf = (err: unknown) => ({
  code: (err as { code?: string })?.code ?? null,
  name: (err as Error)?.name ?? typeof err,
  message: (err as Error)?.message ?? String(err),
});
void report; void codeOf;
`;

/** Writes `body` (after the prelude) to a program file in the world; returns its path. */
export async function writeProgram(world: SimWorld, name: string, body: string): Promise<string> {
  const path = `${world.work}/${name}.ts`;
  await Deno.writeTextFile(path, PRELUDE + body);
  return path;
}

/** Options of a program run. */
export interface ProgramOptions {
  /** Permission flags (default {@linkcode LIBRARY_PERMISSIONS}). */
  permissions?: readonly string[];
  /** More environment. */
  env?: Record<string, string>;
  /** Its own process group (so that a test can send what Ctrl-C sends). */
  detached?: boolean;
}

/** The command that runs a program file in the world. */
export function programCommand(world: SimWorld, path: string, options: ProgramOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-lock",
      `--config=${CONFIG}`,
      ...(options.permissions ?? LIBRARY_PERMISSIONS),
      path,
    ],
    cwd: world.work,
    env: { ...world.env, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: options.detached,
  });
}

/** What a finished program printed: its exit code, its reports (the JSON lines) and its stderr. */
export interface ProgramResult {
  code: number;
  signal: Deno.Signal | null;
  reports: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

function parseReports(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** Writes and runs a program to its end. */
export async function runProgram(
  world: SimWorld,
  name: string,
  body: string,
  options: ProgramOptions = {},
): Promise<ProgramResult> {
  const out = await programCommand(world, await writeProgram(world, name, body), options).output();
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  return {
    code: out.code,
    signal: out.signal,
    reports: parseReports(stdout),
    stdout,
    stderr: dec.decode(out.stderr),
  };
}

/** A program that runs while the test looks at it: its reports as they come. */
export class RunningProgram {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #done: Promise<void>;

  constructor(command: Deno.Command) {
    this.child = command.spawn();
    const dec = () => new TextDecoder();
    const pump = async (stream: ReadableStream<Uint8Array>, add: (t: string) => void) => {
      const d = dec();
      for await (const chunk of stream) add(d.decode(chunk, { stream: true }));
    };
    this.#done = Promise.all([
      pump(this.child.stdout, (t) => (this.stdout += t)),
      pump(this.child.stderr, (t) => (this.stderr += t)),
    ]).then(() => {});
  }

  /** Starts a program in the world. */
  static async start(
    world: SimWorld,
    name: string,
    body: string,
    options: ProgramOptions = {},
  ): Promise<RunningProgram> {
    return new RunningProgram(programCommand(world, await writeProgram(world, name, body), options));
  }

  /** The reports so far. */
  get reports(): Record<string, unknown>[] {
    return parseReports(this.stdout.slice(0, this.stdout.lastIndexOf("\n") + 1));
  }

  /** Waits for its end. */
  async done(): Promise<ProgramResult> {
    const status = await this.child.status;
    await this.#done;
    return {
      code: status.code,
      signal: status.signal,
      reports: this.reports,
      stdout: this.stdout,
      stderr: this.stderr,
    };
  }

  /** Kills it if it still runs, and waits: for `finally` blocks. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // It has ended.
    }
    await this.done();
  }
}
