/**
 * What a command receives: the I/O it may touch, the global options, and the interrupt signal.
 * Commands write through `ctx` instead of `Deno.stdout` so tests can run them in memory.
 * @module
 */
import type { Knobs } from "../knobs.ts";
import { terminalLines } from "../terminal_text.ts";

/** The narrow writer a command needs; `Deno.stdout` and `Deno.stderr` satisfy it. */
export interface Writer {
  write(p: Uint8Array): Promise<number>;
}

/** The process-level I/O handed to {@linkcode main}. */
export interface Io {
  stdout: Writer;
  stderr: Writer;
  /** Environment lookup (so tests can pass their own). */
  env: (name: string) => string | undefined;
  /** Aborted when the user interrupts (SIGINT) or the process is asked to stop (SIGTERM). */
  signal?: AbortSignal;
  /** Whether stdout is a terminal (for colour and progress). */
  isTerminal?: boolean;
}

/** Options that come before the command name, and the environment knobs read at startup. */
export interface GlobalOptions {
  sim: boolean;
  stateDir?: string;
  json: boolean;
  /** Every `STAPFR_*` knob, read and checked once (`lib/knobs.ts`). */
  knobs: Knobs;
}

/** Everything a command's `run` gets. */
export interface Context extends GlobalOptions {
  io: Io;
  signal: AbortSignal;
  /** Writes text (no newline added) to stdout. */
  out(text: string): Promise<void>;
  /**
   * Writes one line to stderr, its control characters escaped (lib/terminal_text.ts): what goes there is for
   * people, and may quote arguments, log lines and stapio's diagnostics.
   */
  err(line: string): Promise<void>;
  /** Prints a value as the one JSON document of a `--json` run. */
  json_out(value: unknown): Promise<void>;
}

const encoder = new TextEncoder();

/** Writes all of `bytes` (a writer may take less than offered). */
export async function writeAll(w: Writer, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await w.write(bytes.subarray(done));
}

/** Builds a {@linkcode Context}. */
export function makeContext(io: Io, global: GlobalOptions, signal: AbortSignal): Context {
  return {
    ...global,
    io,
    signal,
    out: (text) => writeAll(io.stdout, encoder.encode(text)),
    err: (line) => writeAll(io.stderr, encoder.encode(terminalLines(line) + "\n")),
    json_out: (value) => writeAll(io.stdout, encoder.encode(JSON.stringify(value, null, 2) + "\n")),
  };
}
