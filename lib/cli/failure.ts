/**
 * How the command line reports an error: one `stapfr: <reason>` line on stderr (then SystemTap's own lines as
 * detail, then the hint or the usage), and with `--json` also a JSON error object on stdout, so a program
 * reading stdout learns what went wrong: `{"error": {"code", "message", "hint", "exit_code"}}` (plus `detail`,
 * the lines of SystemTap, when there are some). The exit code is the error code's (lib/errors.ts ERROR_CODES),
 * the same code a library caller sees.
 * @module
 */
import {
  type ErrorCode,
  errorCode,
  ExitCode,
  exitCodeOf,
  type ExitCodeValue,
  StapfrError,
} from "../errors.ts";
import { operationError } from "../os_errors.ts";
import { terminalLines, terminalText } from "../terminal_text.ts";

/** What went wrong, ready to print. */
export interface Failure {
  /** The stable code (lib/errors.ts). */
  code: ErrorCode;
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
export function failureOf(
  err: unknown,
  context: { aborted: boolean; usage: string; operation?: string },
): Failure {
  if (err instanceof Deno.errors.BrokenPipe) {
    return {
      code: "output_failed",
      message: "Broken pipe",
      hint: null,
      detail: [],
      exitCode: 1,
      silent: true,
    };
  }
  // Only an interrupt is reported as one: an error after Ctrl-C (a detach that failed) keeps its own message
  // and hint, which the user needs exactly then.
  const name = err instanceof Error || err instanceof DOMException ? err.name : "";
  if (name === "Interrupted" || (context.aborted && name === "AbortError")) {
    return {
      code: "interrupted",
      message: "Interrupted",
      hint: null,
      detail: [],
      exitCode: ExitCode.interrupted,
    };
  }
  // An OS error nothing wrapped on the way: said with what stapfr was doing, where, and a hint.
  err = operationError(context.operation ?? "go on", err);
  const code = errorCode(err) ?? "failed";
  const message = err instanceof Error ? err.message : String(err);
  const exitCode = exitCodeOf(code);
  if (code === "invalid_environment") {
    // An environment variable, not the command line: the usage would not help.
    return { code, message, hint: null, detail: [], exitCode };
  }
  if (exitCode === ExitCode.usage) {
    return { code, message, hint: `Usage: ${context.usage}`, detail: [], exitCode };
  }
  if (err instanceof StapfrError) {
    return { code, message, hint: err.hint ?? null, detail: err.detail ?? [], exitCode };
  }
  return { code, message, hint: null, detail: [], exitCode };
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
 * const f = { code: "interrupted" as const, message: "Interrupted", hint: null, detail: [], exitCode: 130 as const };
 * assertEquals(jsonError(f), { error: { code: "interrupted", message: "Interrupted", hint: null, exit_code: 130 } });
 * ```
 */
export function jsonError(f: Failure): { error: Record<string, unknown> } {
  return {
    error: {
      code: f.code,
      message: f.message,
      hint: f.hint,
      exit_code: f.exitCode,
      ...(f.detail.length > 0 ? { detail: f.detail } : {}),
    },
  };
}
