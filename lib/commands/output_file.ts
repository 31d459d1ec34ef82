/**
 * `dump -o FILE`: a new file (0600) written under a temporary name in the same directory and linked into
 * place only when complete, so a reader never sees half a dump and an existing file is never clobbered.
 * The target is checked before anything is read (reading a memory recorder drains it), and what was read is
 * never thrown away: if the file cannot take its name at the end, the data stays under a name that is reported.
 * @module
 */
import { basename, dirname, join } from "../path.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { directoryHint, osReason, whyNotDirectory } from "../path_errors.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { borrowing } from "../api/sink.ts";

/** An output file being written. */
export interface PendingFile {
  sink: ByteSink;
  /** Bytes written so far. */
  bytes(): number;
  /** Links the finished file into place; if that fails, keeps the data under a reported name and throws. */
  commit(): Promise<void>;
  /**
   * After a failure: removes the file if nothing was written, else keeps it under a name of its own and
   * returns that name.
   */
  abandon(): Promise<string | undefined>;
  /**
   * After an interrupt: keeps what was written as `PATH.partial` (or `PATH.partial.N`), a name that says it is
   * not the whole dump, and returns that name; never under `PATH` itself.
   */
  keepPartial(): Promise<string>;
}

/** The first free name `PATH.1`, `PATH.2`, … for data that could not take `path`; undefined if none would do. */
async function keep(temp: string, path: string): Promise<string | undefined> {
  for (let n = 1; n <= 100; n++) {
    const name = `${path}.${n}`;
    try {
      await Deno.link(temp, name);
      await Deno.remove(temp).catch(() => {});
      return name;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) return undefined;
    }
  }
  return undefined;
}

/** Refuses a target that cannot be written, before anything is read. */
async function checkTarget(path: string): Promise<void> {
  if (path === "") throw new UsageError(`Invalid output file "": expected a file name`);
  const fail = (reason: string, hint: string): StapfrError =>
    new StapfrError(`Cannot write "${path}": ${reason}`, { hint });
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
      throw fail(osReason(err).toLowerCase(), "Choose another path");
    }
  }
  if (info?.isDirectory) {
    throw fail("it is a directory", `Give a file name inside it, like "${join(path, "dump.out")}"`);
  }
  if (info) {
    throw fail("the file already exists", "Remove it or choose another name: dump never overwrites a file");
  }
  const why = await whyNotDirectory(dirname(path));
  if (why) throw fail(why, directoryHint(why));
}

/** Opens `path` for a dump: refuses an empty path, an existing file and a directory it cannot write. */
export async function openOutputFile(path: string): Promise<PendingFile> {
  await checkTarget(path);
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.stapfr-${Deno.pid}.tmp`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    const reason = err instanceof Deno.errors.PermissionDenied
      ? `permission denied in directory "${dir}"`
      : osReason(err).toLowerCase();
    throw new StapfrError(`Cannot write "${path}": ${reason}`, { hint: directoryHint(reason), cause: err });
  }
  let closed = false;
  let written = 0;
  const close = (): void => {
    if (!closed) file.close();
    closed = true;
  };
  const kept = async (): Promise<string> => (await keep(temp, path)) ?? temp;
  return {
    // Written at once: it borrows the engine's buffers (no copy).
    sink: borrowing(async (chunk) => {
      let done = 0;
      while (done < chunk.length) done += await file.write(chunk.subarray(done));
      written += chunk.length;
    }),
    bytes: () => written,
    commit: async () => {
      close();
      try {
        // link() fails if the name appeared meanwhile: never replace a file someone else made.
        await Deno.link(temp, path);
      } catch (err) {
        const where = await kept();
        const what = err instanceof Deno.errors.AlreadyExists
          ? `Output file "${path}" appeared while dumping`
          : `Cannot give the dump its name "${path}" (${osReason(err).toLowerCase()})`;
        throw new StapfrError(`${what}; the ${written} bytes read are in "${where}"`, {
          hint: "Nothing was overwritten; rename that file if you want it under the name you gave",
          cause: err,
        });
      }
      await Deno.remove(temp).catch(() => {});
    },
    abandon: async () => {
      close();
      if (written > 0) return await kept();
      await Deno.remove(temp).catch(() => {});
      return undefined;
    },
    keepPartial: async () => {
      close();
      const partial = `${path}.partial`;
      try {
        await Deno.link(temp, partial);
        await Deno.remove(temp).catch(() => {});
        return partial;
      } catch {
        return (await keep(temp, partial)) ?? temp;
      }
    },
  };
}
