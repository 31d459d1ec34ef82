/**
 * Writing a file so that a reader sees the old content or the new, never a part: a temporary file beside it (same
 * directory, so the rename stays on one file system), then rename(2) over the name.
 * @module
 */

/**
 * Writes `data` to `path` atomically, with `mode` whatever the umask (files that may hold traced data are 0600).
 * The temporary file is removed when anything fails, and the error is thrown.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const dir = await Deno.makeTempDir();
 * await writeAtomic(`${dir}/state.json`, "{}\n");
 * assertEquals([await Deno.readTextFile(`${dir}/state.json`), (await Deno.stat(`${dir}/state.json`)).mode! & 0o777], ["{}\n", 0o600]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const slash = path.lastIndexOf("/");
  const temp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    const file = { createNew: true, mode };
    if (typeof data === "string") await Deno.writeTextFile(temp, data, file);
    else await Deno.writeFile(temp, data, file);
    // The mode given at creation is filtered by the umask: set it.
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}
