/**
 * Operating-system errors of the snapshot store in words: what stapfr was doing, the path, the reason without
 * its errno decoration, and what to do about it (`Cannot write snapshot data "…/r1.out": no space left on
 * device`, then a hint), instead of `No space left on device (os error 28)`.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { isOsError, osCode, osError, osHint } from "../os_errors.ts";

export { isOsError } from "../os_errors.ts";

/**
 * A failure of the store's file system, said with what was being done and where; `code` is the OS error's
 * (`no_space`, `permission`, `not_found`, `io`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const err = new StoreError('Cannot write snapshot data "/s/r1/r1.out": no space left on device', { code: "no_space" });
 * assertEquals([err.name, err.code], ["StoreError", "no_space"]);
 * ```
 */
export class StoreError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "StoreError";
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
  if (err instanceof Deno.errors.NotCapable) return osHint(err);
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
  // The general wording (lib/os_errors.ts), with the store's own hint and class.
  const general = osError(doing, path, err, { ownHint: storeHint(err), hint }) as StapfrError;
  return new StoreError(general.message, { code: osCode(err), hint: general.hint, cause: err });
}

/** Runs `fn`, turning an OS error into {@linkcode storeError}'s. */
export async function inStore<T>(doing: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(doing, path, err);
  }
}
