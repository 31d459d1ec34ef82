/**
 * Writing a unit file: 0644 whatever the umask, atomically (a temporary file renamed into place), never over
 * a different unit unless asked.
 * @module
 */
import { StapfrError } from "../errors.ts";
import { dirname } from "../path.ts";

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
  const temp = `${dirname(path)}/.${path.slice(dirname(path).length + 1)}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temp, text, { createNew: true, mode: 0o644 });
    // The mode given at creation is filtered by the umask: set it.
    await Deno.chmod(temp, 0o644);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw new StapfrError(`Cannot write "${path}": ${(err as Error).message}`, { cause: err });
  }
  return existing === undefined ? "written" : "replaced";
}
