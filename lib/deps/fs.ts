/**
 * File-system helpers that `@std/fs` would provide (JSR is unreachable here).
 * @module
 */
export { cp, glob, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";

/** Whether a path exists (any kind of entry, not following a dangling link to an error). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
