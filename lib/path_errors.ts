/**
 * Why a path stapfr is asked to write cannot be written, in words: "directory "x" does not exist", ""x" is not a
 * directory", "permission denied in directory "x"", instead of an OS error with its errno and syscall. The
 * parent of an output path must exist: a mistyped parent is refused, not created.
 * @module
 */
import { StapfrError } from "./errors.ts";
import { osReason } from "./os_errors.ts";
import { dirname } from "./path.ts";

export { osReason } from "./os_errors.ts";

/**
 * Why `path` is not a usable directory, or undefined when it is one. A missing directory is named as given,
 * unless one of its ancestors is a file (then that file is the reason).
 */
export async function whyNotDirectory(path: string): Promise<string | undefined> {
  return (await problem(path))?.text;
}

async function problem(path: string): Promise<{ text: string; file: boolean } | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      const parent = dirname(path);
      const above = parent === path ? undefined : await problem(parent);
      return above?.file ? above : { text: `directory "${path}" does not exist`, file: false };
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      return { text: `permission denied on "${path}"`, file: false };
    }
    throw err;
  }
  return info.isDirectory ? undefined : { text: `"${path}" is not a directory`, file: true };
}

/** The hint for a directory problem. */
export function directoryHint(reason: string): string {
  if (reason.includes("does not exist")) return "Create it first, or choose another path";
  if (reason.includes("permission denied")) {
    return "Choose a directory you can write, or run as a user who can";
  }
  return "Choose a path inside a directory";
}

/**
 * Makes sure `dir` is a directory stapfr can write into: it may be created, but its parent must exist.
 * Throws a {@linkcode StapfrError} that says why not, with a hint.
 */
export async function ensureOutputDirectory(dir: string): Promise<void> {
  const fail = (reason: string): StapfrError =>
    new StapfrError(`Cannot write into "${dir}": ${reason}`, {
      code: reason.includes("does not exist")
        ? "not_found"
        : reason.includes("permission denied")
        ? "permission"
        : "io",
      hint: directoryHint(reason),
    });
  const here = await whyNotDirectory(dir);
  if (here === undefined) return;
  if (here !== `directory "${dir}" does not exist`) throw fail(here);
  const parent = dirname(dir);
  const above = await whyNotDirectory(parent);
  if (above !== undefined) throw fail(above);
  try {
    // Traced data: only the owner may look (mkdir's mode is filtered by umask, but 0700 survives it).
    await Deno.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists && (await whyNotDirectory(dir)) === undefined) return;
    if (err instanceof Deno.errors.PermissionDenied) throw fail(`permission denied in directory "${parent}"`);
    throw fail(osReason(err).toLowerCase());
  }
}
