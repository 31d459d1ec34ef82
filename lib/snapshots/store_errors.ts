/**
 * Operating-system errors of the snapshot store in words: what stapfr was doing, the path, the reason without
 * its errno decoration, and what to do about it (`Cannot write snapshot data "…/r1.out": no space left on
 * device`, then a hint), instead of `No space left on device (os error 28)`.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { osReason } from "../path_errors.ts";

/** A failure of the store's file system, said with what was being done and where. */
export class StoreError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "StoreError";
}

/** Whether `err` came from the operating system (a Deno error class, or an error carrying an errno code). */
export function isOsError(err: unknown): err is Error {
  if (!(err instanceof Error) || err instanceof StapfrError) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) ||
    Object.values(Deno.errors).some((kind) => err instanceof kind);
}

/**
 * What to do about an OS error in the snapshot store.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * assertEquals(storeHint(full).startsWith("The file system holding the snapshot store is full"), true);
 * ```
 */
export function storeHint(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const elsewhere = "or point --store or STAPFR_STORE at another file system";
  switch (code) {
    case "ENOSPC":
      return 'The file system holding the snapshot store is full: free space, delete old snapshots ("stapfr ' +
        `snapshots prune"), ${elsewhere}`;
    case "EDQUOT":
      return 'Your disk quota is used up: delete old snapshots ("stapfr snapshots prune"), ' + elsewhere;
    case "EROFS":
      return `The file system holding the snapshot store is mounted read-only: remount it read-write, ${elsewhere}`;
    case "EFBIG":
      return 'The file grew past what the file system or your file size limit ("ulimit -f") allows: raise the ' +
        `limit, ${elsewhere}`;
    case "EIO":
      return "The disk reported an I/O error: check it (dmesg) before trusting the snapshots on it";
    case "EMFILE":
    case "ENFILE":
      return 'Too many open files: raise the limit ("ulimit -n") and try again';
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return "Point --store or STAPFR_STORE at a directory you can write, or run as a user who can";
  }
  if (err instanceof Deno.errors.NotFound) {
    return "Something else changed the store meanwhile (another stapfr, or a person): try again";
  }
  return "Check the snapshot store and the file system that holds it";
}

/**
 * The error for an OS error while `doing` (a verb phrase: `create snapshot directory`) on `path` in the
 * store; any other error is returned as it is. `hint` is added after the store's own.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const full = Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
 * const err = storeError("write snapshot data", "/s/r1/.partial-x/r1.out", full);
 * assertEquals(err.message, 'Cannot write snapshot data "/s/r1/.partial-x/r1.out": no space left on device');
 * ```
 */
export function storeError(doing: string, path: string, err: unknown, hint?: string): Error {
  if (!isOsError(err)) return err instanceof Error ? err : new Error(String(err));
  const reason = osReason(err);
  return new StoreError(`Cannot ${doing} "${path}": ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`, {
    hint: hint ? `${storeHint(err)}. ${hint}` : storeHint(err),
    cause: err,
  });
}

/** Runs `fn`, turning an OS error into {@linkcode storeError}'s. */
export async function inStore<T>(doing: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(doing, path, err);
  }
}
