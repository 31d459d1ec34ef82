/**
 * The one way tests run stapfr as a user would: the artifact `STAPFR_BIN` names, run as a command (the compiled
 * binary in the GitHub workflow; the bundle, an executable script whose first line runs `deno`, in .ci/run),
 * else `deno run` of cli.ts with the permissions the artifacts have. Every CLI test goes through
 * {@linkcode stapfrArgv}, so those runs test the artifact throughout.
 * @module
 */
import { fileURLToPath } from "node:url";
import { PERMISSIONS } from "../../lib/self.ts";

/** The path of cli.ts. */
export const CLI: string = fileURLToPath(new URL("../../cli.ts", import.meta.url));

/** What a finished stapfr run printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The argv prefix that runs stapfr, given where `deno` is and the value of `STAPFR_BIN`. An artifact is run as
 * it is, as a server runs it: the compiled binary has its permissions compiled in, the bundle's first line
 * names them (and finds `deno` on PATH), and either runs its simulator stand-ins as itself again
 * (lib/self.ts), so the prefix is the file alone. A relative `STAPFR_BIN` is taken from the current directory,
 * so that a test running stapfr elsewhere (`cwd`) still finds it.
 */
export function stapfrArgvFor(bin: string | undefined, deno: string, cwd: string): string[] {
  if (bin) return [bin.startsWith("/") ? bin : `${cwd}/${bin}`];
  return [deno, "run", "--quiet", ...PERMISSIONS, CLI];
}

/**
 * The argv prefix that runs stapfr in these tests (see {@linkcode stapfrArgvFor}). A `STAPFR_BIN` that names
 * no file fails every CLI test at once, rather than letting them test nothing.
 */
export function stapfrArgv(): string[] {
  const argv = stapfrArgvFor(Deno.env.get("STAPFR_BIN"), Deno.execPath(), Deno.cwd());
  if (testingArtifact() && !isFile(argv[0])) {
    throw new Error(`STAPFR_BIN "${argv[0]}" is no file`);
  }
  return argv;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether the tests run an artifact, the bundle or the compiled binary (`STAPFR_BIN`). */
export function testingArtifact(): boolean {
  return !!Deno.env.get("STAPFR_BIN");
}

/** Options of a stapfr child process. */
export interface StapfrOptions {
  /** The whole environment is inherited; these are added (NO_COLOR=1 is always set). */
  env?: Record<string, string>;
  cwd?: string;
  /** Piped to stdin when given; stdin is /dev/null otherwise. */
  stdin?: string;
}

/** A `Deno.Command` for `stapfr ARGS…`, output piped. */
export function stapfrCommand(
  args: string[],
  options: Omit<StapfrOptions, "stdin"> & { stdin?: "null" | "piped"; detached?: boolean } = {},
): Deno.Command {
  const [cmd, ...pre] = stapfrArgv();
  return new Deno.Command(cmd, {
    args: [...pre, ...args],
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    detached: options.detached,
  });
}

/** Runs `stapfr ARGS…` to its end and collects its output. */
export async function runCli(args: string[], options: StapfrOptions = {}): Promise<RunResult> {
  const child = stapfrCommand(args, { ...options, stdin: options.stdin === undefined ? "null" : "piped" })
    .spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
