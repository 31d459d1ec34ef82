/**
 * Running `main` in this process with in-memory stdout and stderr: for the command line's unit tests (what a
 * user sees is tested through {@linkcode "./stapfr.ts"}).
 * @module
 */
import { main } from "../../cli.ts";
import type { RunResult } from "./stapfr.ts";

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
