/**
 * Operating-system errors in words, the one wrapping for the command line and the library alike: what stapfr
 * was doing, the path, the reason without Deno's errno decoration, a hint, and a stable code (`permission`,
 * `no_space`, `not_found`, `io`), instead of `No space left on device (os error 28)`. A permission Deno was
 * not given (`NotCapable`) is said the same way, naming the flag the program needs. The snapshot store words
 * its own hints on top of this (lib/snapshots/store_errors.ts).
 * @module
 */
import { type ErrorCode, StapfrError } from "./errors.ts";

/** Whether `err` came from the operating system (a Deno error class, or an error carrying an errno code). */
export function isOsError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof StapfrError) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) ||
    Object.values(Deno.errors).some((kind) => err instanceof kind);
}

/** The OS's reason without Deno's decoration: "Permission denied" from "Permission denied (os error 13): open …". */
export function osReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/ \(os error \d+\).*$/s, "");
}

const NOT_CAPABLE = /^Requires (\w+) access to "?(.*?)"?, run again with the (--allow-[a-z]+) flag/;

/** The flag a `NotCapable` error asks for (`--allow-read`), and what it was refused. */
export function missingPermission(err: unknown): { flag: string; what: string; kind: string } | undefined {
  if (!(err instanceof Deno.errors.NotCapable)) return undefined;
  const m = NOT_CAPABLE.exec(err.message);
  return m ? { kind: m[1], what: m[2], flag: m[3] } : { kind: "", what: "", flag: "the permission it names" };
}

/**
 * The stable code of an OS error.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * assertEquals(osCode(full), "no_space");
 * assertEquals(osCode(new Deno.errors.PermissionDenied("Permission denied (os error 13)")), "permission");
 * ```
 */
export function osCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown })?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return "no_space";
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return "permission";
  }
  if (code === "EACCES" || code === "EPERM") return "permission";
  if (err instanceof Deno.errors.NotFound) return "not_found";
  return "io";
}

/** What to do about an OS error, for any path (the store says it in its own words). */
export function osHint(err: unknown): string {
  const denied = missingPermission(err);
  if (denied) {
    return `Run the program with ${denied.flag} (README "Permissions" says what stapfr needs and why)`;
  }
  switch ((err as { code?: unknown })?.code) {
    case "ENOSPC":
      return "The file system is full: free space on it, or use another one";
    case "EDQUOT":
      return "Your disk quota is used up: free space, or use another file system";
    case "EROFS":
      return "The file system is mounted read-only: remount it read-write, or use another one";
    case "EFBIG":
      return 'The file grew past what the file system or your file size limit ("ulimit -f") allows';
    case "EIO":
      return "The disk reported an I/O error: check it (dmesg)";
    case "EMFILE":
    case "ENFILE":
      return 'Too many open files: raise the limit ("ulimit -n") and try again';
  }
  if (err instanceof Deno.errors.PermissionDenied) return "Use a path you may use, or run as a user who may";
  if (err instanceof Deno.errors.NotFound) {
    return "It is gone, or was never there: check the path and try again";
  }
  return "Check the path and the file system that holds it";
}

/** The path and the call of a Deno OS error message (`…: open '/x'`), when it names them. */
export function osPath(err: unknown): { call: string; path: string } | undefined {
  const denied = missingPermission(err);
  if (denied) return denied.what ? { call: denied.kind, path: denied.what } : undefined;
  const m = /\): (\w+) '(.*?)'(?: -> '.*')?$/s.exec(err instanceof Error ? err.message : "");
  return m ? { call: m[1], path: m[2] } : undefined;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The reason in words: the OS's, or which permission Deno refused. */
function reasonOf(err: unknown): string {
  const denied = missingPermission(err);
  if (denied) return `the program was not given ${denied.flag}`;
  return lowerFirst(osReason(err));
}

/** What {@linkcode osError} wraps. */
export interface OsErrorOptions {
  /** Added after the hint (what else the reader should know, the store's words). */
  hint?: string;
  /** A hint of the caller's own, in place of {@linkcode osHint}'s. */
  ownHint?: string;
}

/**
 * The error for an OS error while `doing` (a verb phrase: `write snapshot data`) on `path`: `Cannot DOING
 * "PATH": REASON`, with a hint and a stable code. Any other error is returned as it is.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * const err = osError("write", "/srv/out/io.out", full) as import("./errors.ts").StapfrError;
 * assertEquals([err.message, err.code], ['Cannot write "/srv/out/io.out": no space left on device', "no_space"]);
 * ```
 */
export function osError(doing: string, path: string, err: unknown, options: OsErrorOptions = {}): Error {
  if (!isOsError(err)) return err instanceof Error ? err : new Error(String(err));
  const hint = options.ownHint ?? osHint(err);
  return new StapfrError(`Cannot ${doing} "${path}": ${reasonOf(err)}`, {
    code: osCode(err),
    hint: options.hint ? `${hint}. ${options.hint}` : hint,
    cause: err,
  });
}

/**
 * An OS error that reached the boundary of an operation without a wrapping of its own: said with the operation
 * (`dump "io"`), the path and call the OS error names, a hint and a code. Anything else is returned as it is.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new Deno.errors.NotFound("No such file or directory (os error 2): open '/x/io.json'");
 * const wrapped = operationError('status "io"', err) as import("./errors.ts").StapfrError;
 * assertEquals(wrapped.message, 'Cannot status "io": no such file or directory (open "/x/io.json")');
 * assertEquals(wrapped.code, "not_found");
 * ```
 */
export function operationError(operation: string, err: unknown): unknown {
  if (!isOsError(err)) return err;
  const where = osPath(err);
  return new StapfrError(
    `Cannot ${operation}: ${reasonOf(err)}${where ? ` (${where.call} "${where.path}")` : ""}`,
    { code: osCode(err), hint: osHint(err), cause: err },
  );
}
