/**
 * The two error families of stapfr: a usage error is the caller's input (exit code 2), a `StapfrError` is a
 * failure of the work itself (exit code 1). Messages follow the std style: sentence case, values quoted, no
 * trailing period.
 * @module
 */

/** Bad input on the command line or to a library call: exit code 2, plus the usage of the command. */
export class UsageError extends Error {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "UsageError";
}

/** A failure while doing the work: exit code 1. `hint` says what the user can do about it. */
export class StapfrError extends Error {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "StapfrError";
  /** What to do about it, shown on a line of its own. */
  readonly hint?: string;
  /** What a program stapfr ran printed about it (SystemTap's own lines), shown after the message. */
  readonly detail?: readonly string[];
  /** A failure with an optional hint for the user, the program's own lines, and the underlying cause. */
  constructor(message: string, options?: { hint?: string; detail?: readonly string[]; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.hint = options?.hint;
    if (options?.detail && options.detail.length > 0) this.detail = options.detail;
  }
}

/** The operation was interrupted (Ctrl-C, SIGTERM, SIGHUP): exit code 130. */
export class Interrupted extends Error {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "Interrupted";
  /** The interrupt of the running operation. */
  constructor() {
    super("Interrupted");
  }
}

/** Exit codes of the stapfr command line. */
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** One of {@linkcode ExitCode}'s values. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];
