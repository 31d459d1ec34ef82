/**
 * The errors stapfr throws, each with a stable `code` that a program can switch on instead of parsing messages
 * (the table is {@linkcode ERROR_CODES}; README "Errors by code"). The command line derives its exit code and
 * the `code` of its `--json` error from the same table: a bad option or setting is 2, an interrupt 130, every
 * other failure 1.
 *
 * - {@linkcode StapfrError}: a failure of the work itself, or of the input (its subclasses below).
 * - {@linkcode UsageError}: bad input on the command line or to a library call (`invalid_option`).
 * - {@linkcode OptionTypeError} and {@linkcode OptionRangeError}: a library option of the wrong type or out of
 *   range, as the `TypeError` and `RangeError` JavaScript uses for those, carrying `code: "invalid_option"` and
 *   the option's name.
 * - {@linkcode Interrupted}: the reason the command line aborts with on Ctrl-C (`interrupted`).
 *
 * Messages follow the std style: sentence case, values quoted, no trailing period.
 *
 * @example Tell errors apart by code
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new StapfrError('No recorder named "io"', { code: "not_found" });
 * assertEquals([err.code, exitCodeOf(err.code)], ["not_found", 1]);
 * assertEquals(exitCodeOf(new UsageError("Missing recorder name").code), 2);
 * ```
 * @module
 */

/**
 * Every error code, what it means and the command line's exit code for it. A code is part of the API: it is
 * never renamed or reused for something else.
 */
export const ERROR_CODES = {
  /** An option or argument is wrong: of the wrong type, out of range, or in a combination that cannot be. */
  invalid_option: { exit: 2, meaning: "an option or argument is wrong" },
  /** A `STAPFR_*` environment variable holds a value it does not accept. */
  invalid_environment: { exit: 2, meaning: "a STAPFR_* environment variable is wrong" },
  /** No such recorder, snapshot, script file or module file. */
  not_found: { exit: 1, meaning: "no such recorder, snapshot or file" },
  /** A recorder of that name exists already, or its module is loaded already. */
  exists: { exit: 1, meaning: "it exists already" },
  /** Someone else holds it: another reader is attached, another stapfr is changing it, a watcher runs. */
  busy: { exit: 1, meaning: "someone else holds it" },
  /** The recorder is not recording (its module is not loaded, or it ended). */
  not_running: { exit: 1, meaning: "the recorder is not recording" },
  /** The recorder was started on the simulator and this is the real host, or the other way round. */
  wrong_host: { exit: 1, meaning: "the recorder belongs to the other host (simulator or real)" },
  /** The script does not compile (SystemTap's passes 1 to 4, or the simulator's parser). */
  compile_failed: { exit: 1, meaning: "the script does not compile" },
  /** The simulator cannot run this script (it compiles for SystemTap). */
  unsupported: { exit: 1, meaning: "the simulator cannot run this script" },
  /** SystemTap (stap, staprun or stapio) rejected an option: a size, an argument after `--`. */
  rejected_option: { exit: 1, meaning: "SystemTap rejected an option" },
  /** The kernel or stapfr refused the module: not a module, built for another kernel, refused to load. */
  rejected_module: { exit: 1, meaning: "the module was refused" },
  /** Not allowed: file permissions, the privileges staprun needs, or a permission Deno was not given. */
  permission: { exit: 1, meaning: "not allowed" },
  /** The file system is full, or a quota is used up. */
  no_space: { exit: 1, meaning: "no space left" },
  /** A directory others could write or own, or a link where stapfr follows none. */
  unsafe_path: { exit: 1, meaning: "a path stapfr will not trust" },
  /** Data does not match its manifest, or a manifest or registry file cannot be read as one. */
  damaged: { exit: 1, meaning: "damaged data" },
  /** `gc` would unload modules that look like other stapfr recorders, and was not told `yes`. */
  confirmation_needed: { exit: 1, meaning: "confirmation needed" },
  /** The consumer of a read failed (a write error other than a closed pipe). */
  output_failed: { exit: 1, meaning: "the output could not be written" },
  /** Something did not answer in time (a watcher, a daemon that ignores its signals). */
  timeout: { exit: 1, meaning: "no answer in time" },
  /** A program stapfr needs (stap, staprun, mkfifo) is not installed. */
  missing_program: { exit: 1, meaning: "a program stapfr needs is missing" },
  /** Another operating-system error (said with what stapfr was doing and where). */
  io: { exit: 1, meaning: "an operating-system error" },
  /** Any other failure (SystemTap's own lines are in `detail`). */
  failed: { exit: 1, meaning: "the work failed" },
  /** Interrupted (Ctrl-C, SIGTERM, SIGHUP on the command line). */
  interrupted: { exit: 130, meaning: "interrupted" },
} as const;

/** One of the stable error codes of {@linkcode ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Exit codes of the stapfr command line. */
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** One of {@linkcode ExitCode}'s values. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/**
 * The command line's exit code for an error code.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals([exitCodeOf("busy"), exitCodeOf("invalid_option"), exitCodeOf("interrupted")], [1, 2, 130]);
 * ```
 */
export function exitCodeOf(code: ErrorCode): ExitCodeValue {
  return ERROR_CODES[code].exit;
}

/** What a {@linkcode StapfrError} may carry besides its message. */
export interface StapfrErrorOptions {
  /** The stable code (default `failed`). */
  code?: ErrorCode;
  /** What to do about it, for a person. */
  hint?: string;
  /** What a program stapfr ran printed about it (SystemTap's own lines). */
  detail?: readonly string[];
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A failure of the work, or of the input to it. `code` says which (a program switches on it); `hint` says what a
 * person can do about it; `detail` holds SystemTap's own lines.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new StapfrError('Recorder "io" is already attached by another reader', {
 *   code: "busy",
 *   hint: "Only one reader at a time",
 * });
 * assertEquals([err.name, err.code, err.hint], ["StapfrError", "busy", "Only one reader at a time"]);
 * ```
 */
export class StapfrError extends Error {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "StapfrError";
  /** The stable code: see {@linkcode ERROR_CODES}. */
  readonly code: ErrorCode;
  /** What to do about it, shown on a line of its own. */
  readonly hint?: string;
  /** What a program stapfr ran printed about it (SystemTap's own lines), shown after the message. */
  readonly detail?: readonly string[];
  /** A failure with its code, an optional hint, the program's own lines, and the underlying cause. */
  constructor(message: string, options?: StapfrErrorOptions) {
    super(message, { cause: options?.cause });
    this.code = options?.code ?? "failed";
    this.hint = options?.hint;
    if (options?.detail && options.detail.length > 0) this.detail = options.detail;
  }
}

/**
 * Bad input on the command line or to a library call (`code: "invalid_option"`): exit code 2, plus the usage of
 * the command. Nothing was changed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new UsageError('Invalid recorder name "Io"');
 * assertEquals([err instanceof StapfrError, err.code], [true, "invalid_option"]);
 * ```
 */
export class UsageError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "UsageError";
  /** The input at fault: `message` says what is wrong with it. */
  constructor(
    message: string,
    options?: { code?: "invalid_option" | "invalid_environment"; cause?: unknown },
  ) {
    super(message, { code: options?.code ?? "invalid_option", cause: options?.cause });
  }
}

/**
 * A library option of the wrong type, or options in a combination that cannot be (`code: "invalid_option"`):
 * a `TypeError`, as JavaScript throws for a value of the wrong type. `option` names it (`"buffer"`,
 * `"script"`). Nothing was changed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new OptionTypeError("script", 'Invalid option "script": expected { file } or { text }');
 * assertEquals([err instanceof TypeError, err.code, err.option], [true, "invalid_option", "script"]);
 * ```
 */
export class OptionTypeError extends TypeError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "OptionTypeError";
  /** Always `invalid_option`. */
  readonly code = "invalid_option" as const;
  /** The option at fault. */
  readonly option: string;
  /** Option `option` is wrong as `message` says. */
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/**
 * A library option out of its range (`code: "invalid_option"`): a `RangeError`, as JavaScript throws for a
 * number out of range. `option` names it; the message says the range and its unit. Nothing was changed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new OptionRangeError("buffer", 'Invalid option "buffer": expected 1 MiB to 4095 MiB in bytes, got -1');
 * assertEquals([err instanceof RangeError, err.code, err.option], [true, "invalid_option", "buffer"]);
 * ```
 */
export class OptionRangeError extends RangeError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "OptionRangeError";
  /** Always `invalid_option`. */
  readonly code = "invalid_option" as const;
  /** The option at fault. */
  readonly option: string;
  /** Option `option` is out of range as `message` says. */
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/**
 * The operation was interrupted (Ctrl-C, SIGTERM, SIGHUP): `code: "interrupted"`, exit code 130. The command
 * line aborts its operations with one as the signal's reason; a library program may do the same when it wires
 * Ctrl-C to an `AbortController` (README "Cancellation").
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const controller = new AbortController();
 * controller.abort(new Interrupted("SIGINT"));
 * assertEquals([controller.signal.reason.code, controller.signal.reason.signal], ["interrupted", "SIGINT"]);
 * ```
 */
export class Interrupted extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "Interrupted";
  /** The signal that interrupted, when one did. */
  readonly signal?: string;
  /** The interrupt of the running operation (by `signal`, when a signal did it). */
  constructor(signal?: string) {
    super("Interrupted", { code: "interrupted" });
    if (signal !== undefined) this.signal = signal;
  }
}

/**
 * The code of anything thrown: a stapfr error's own, `invalid_option` for an option error, `permission` for a
 * permission Deno refused; undefined for anything else.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(errorCode(new OptionRangeError("lines", "Invalid option")), "invalid_option");
 * assertEquals(errorCode(new Error("x")), undefined);
 * ```
 */
export function errorCode(err: unknown): ErrorCode | undefined {
  if (err instanceof StapfrError || err instanceof OptionTypeError || err instanceof OptionRangeError) {
    return err.code;
  }
  if (err instanceof Deno.errors.NotCapable) return "permission";
  return undefined;
}
