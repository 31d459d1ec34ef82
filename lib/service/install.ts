/**
 * Writing a unit file: 0644 whatever the umask, atomically (a temporary file renamed into place), never over
 * a different unit unless asked.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { writeAtomic } from "../atomic_write.ts";

/** What {@linkcode installUnit} did. */
export type InstallResult = "written" | "replaced" | "unchanged";

/** Writes `text` to `path`; an existing file with other contents is replaced only with `force`. */
export async function installUnit(path: string, text: string, force: boolean): Promise<InstallResult> {
  let existing: string | undefined;
  try {
    existing = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new StapfrError(`Cannot read "${path}": ${(err as Error).message}`, { cause: err });
    }
  }
  if (existing === text) {
    await Deno.chmod(path, 0o644);
    return "unchanged";
  }
  if (existing !== undefined && !force) {
    throw new StapfrError(`Unit "${path}" already exists and differs`, {
      hint: 'Give "--force" to replace it (compare first with "systemctl cat")',
    });
  }
  try {
    await writeAtomic(path, text, { mode: 0o644 });
  } catch (err) {
    throw new StapfrError(`Cannot write "${path}": ${(err as Error).message}`, { cause: err });
  }
  return existing === undefined ? "written" : "replaced";
}
