/**
 * `dump -o FILE`: a new file (0600) written under a temporary name in the same directory and renamed into
 * place only when complete, so a reader never sees half a dump and an existing file is never clobbered.
 * @module
 */
import { basename, dirname, join } from "../path.ts";
import { StapfrError } from "../errors.ts";
import type { ByteSink } from "../readers/concat.ts";

/** An output file being written. */
export interface PendingFile {
  sink: ByteSink;
  /** Renames the finished file into place. */
  commit(): Promise<void>;
  /** Removes the unfinished file. */
  abandon(): Promise<void>;
}

/** Opens `path` for a dump: fails if it exists; writes to a temporary name first. */
export async function openOutputFile(path: string): Promise<PendingFile> {
  try {
    await Deno.lstat(path);
    throw new StapfrError(`Output file "${path}" already exists`, {
      hint: "Remove it or choose another name",
    });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const temp = join(dirname(path), `.${basename(path)}.stapfr-${Deno.pid}.tmp`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    throw new StapfrError(`Cannot create "${path}": ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  const close = (): void => {
    if (!closed) file.close();
    closed = true;
  };
  return {
    sink: async (chunk) => {
      let done = 0;
      while (done < chunk.length) done += await file.write(chunk.subarray(done));
    },
    commit: async () => {
      close();
      try {
        // link() fails if the name appeared meanwhile: never replace a file someone else made.
        await Deno.link(temp, path);
      } finally {
        await Deno.remove(temp).catch(() => {});
      }
    },
    abandon: async () => {
      close();
      await Deno.remove(temp).catch(() => {});
    },
  };
}
