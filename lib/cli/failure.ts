/**
 * How the command line reports an error: one `stapfr: <reason>` line on stderr (then SystemTap's own lines as
 * detail, then the hint or the usage), and with `--json` also a JSON error object on stdout, so a program
 * reading stdout learns what went wrong: `{"error": {"message", "hint", "exit_code"}}` (plus `detail`, the
 * lines of SystemTap, when there are some).
 * @module
 */
import { ExitCode, type ExitCodeValue, Interrupted, StapfrError, UsageError } from "../errors.ts";
import { KnobError } from "../knobs.ts";
import { terminalLines, terminalText } from "../terminal_text.ts";

/** What went wrong, ready to print. */
export interface Failure {
  message: string;
  /** What to do about it (the usage, for a usage error); null when there is nothing to add. */
  hint: string | null;
  /** What SystemTap printed about it, shown after the message. */
  detail: readonly string[];
  exitCode: ExitCodeValue;
  /** Print nothing (the reader of stdout went away: there is nobody to tell). */
  silent?: boolean;
}

/**
 * Turns what a command threw into a {@linkcode Failure}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { UsageError } from "../errors.ts";
 * const f = failureOf(new UsageError('Unknown command "x"'), { aborted: false, usage: "stapfr COMMAND" });
 * assertEquals([f.message, f.hint, f.exitCode], ['Unknown command "x"', "Usage: stapfr COMMAND", 2]);
 * ```
 */
export function failureOf(err: unknown, context: { aborted: boolean; usage: string }): Failure {
  if (err instanceof KnobError) {
    // An environment variable, not the command line: the usage would not help.
    return { message: err.message, hint: null, detail: [], exitCode: ExitCode.usage };
  }
  if (err instanceof UsageError) {
    return { message: err.message, hint: `Usage: ${context.usage}`, detail: [], exitCode: ExitCode.usage };
  }
  // Only an interrupt is reported as one: an error after Ctrl-C (a detach that failed) keeps its own message
  // and hint, which the user needs exactly then.
  const name = err instanceof Error || err instanceof DOMException ? err.name : "";
  if (err instanceof Interrupted || name === "Interrupted" || (context.aborted && name === "AbortError")) {
    return { message: "Interrupted", hint: null, detail: [], exitCode: ExitCode.interrupted };
  }
  if (err instanceof StapfrError) {
    return {
      message: err.message,
      hint: err.hint ?? null,
      detail: err.detail ?? [],
      exitCode: ExitCode.failure,
    };
  }
  if (err instanceof Deno.errors.BrokenPipe) {
    return { message: "Broken pipe", hint: null, detail: [], exitCode: ExitCode.failure, silent: true };
  }
  return {
    message: err instanceof Error ? err.message : String(err),
    hint: null,
    detail: [],
    exitCode: ExitCode.failure,
  };
}

/**
 * The human lines on stderr: `stapfr: <message>`, the detail lines marked `  | `, then the hint. Control
 * characters are escaped (a message quotes arguments, which may hold terminal escapes); the message and each
 * detail line stay one line each.
 */
export function humanLines(f: Failure): string[] {
  return [
    `stapfr: ${terminalText(f.message)}`,
    ...f.detail.map((l) => `  | ${terminalText(l)}`),
    ...(f.hint ? [terminalLines(f.hint)] : []),
  ];
}

/**
 * The JSON error object of a `--json` run.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const f = { message: "Interrupted", hint: null, detail: [], exitCode: 130 as const };
 * assertEquals(jsonError(f), { error: { message: "Interrupted", hint: null, exit_code: 130 } });
 * ```
 */
export function jsonError(f: Failure): { error: Record<string, unknown> } {
  return {
    error: {
      message: f.message,
      hint: f.hint,
      exit_code: f.exitCode,
      ...(f.detail.length > 0 ? { detail: f.detail } : {}),
    },
  };
}
