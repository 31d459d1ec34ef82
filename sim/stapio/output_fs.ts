/**
 * The file operations stapio's writer needs, behind one small interface so the writer can run on a real
 * directory (the process face) or in memory (unit tests, the in-process simulator).
 *
 * stapio opens every output file `O_CREAT|O_TRUNC|O_WRONLY` with mode 0666 minus the umask (docs/systemtap-4.8.md 4.1), and
 * each open gets its own file offset: that is what makes the 4.8 SMP clobbering of docs/systemtap-4.8.md 4.5 happen, and
 * both implementations here keep that property. The stapfr engine, not the simulator, makes its files 0600:
 * it starts stapio under umask 077, which the simulated stapio applies as the real one does.
 * @module
 */

/** One open output file (or stdout). Writes are whole; a failure throws. */
export interface OutputHandle {
  /** The descriptor number stapio would print in `Couldn't write to output <fd> …`. */
  readonly fd: number;
  /** Writes all of `bytes` at this handle's offset. */
  write(bytes: Uint8Array): void;
  /**
   * A handle whose writes are queued (a named pipe, where a write waits for its reader): resolves once at
   * most `limit` bytes wait, so that the reader thread writing to it waits, not the others.
   */
  whenBelow?(limit: number): Promise<void>;
  /** A handle whose writes are queued: resolves once every queued write is done (or failed). */
  drain?(): Promise<void>;
  /** Closes the handle. */
  close(): void;
}

/** Opens and removes output files. */
export interface OutputFs {
  /** Opens `path` as stapio does: create, truncate, write only, 0666 & ~umask. */
  open(path: string): OutputHandle;
  /** Removes `path`, ignoring every error (stapio: `remove(buf); /* don't care *\/`). */
  remove(path: string): void;
}

/** What a full disk says (ENOSPC's strerror). */
export const DISK_FULL = "No space left on device";

/**
 * Output files on the real file system, with synchronous writes (one writer, local files). `capacity` is a
 * simulated fault (`STAPFR_SIM_DISK_BYTES`): after that many bytes in all, writes fail as on a full disk, having
 * written what still fitted.
 */
export class RealOutputFs implements OutputFs {
  // Deno hides descriptor numbers; count them the way a fresh stapio would hand them out.
  #nextFd = 3;
  #room: number;

  constructor(options: { capacity?: number } = {}) {
    this.#room = options.capacity ?? Infinity;
  }

  open(path: string): OutputHandle {
    let fifo = false;
    try {
      fifo = Deno.statSync(path).isFifo === true;
    } catch {
      // not there yet: a file
    }
    const file = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o666 });
    // An arrow keeps `this`: every handle draws on the one disk.
    const take = (wanted: number): number => {
      const fits = Math.min(wanted, this.#room);
      this.#room -= fits;
      return fits;
    };
    if (fifo) return this.#pipe(file);
    return {
      fd: this.#nextFd++,
      write(bytes: Uint8Array): void {
        const fits = take(bytes.length);
        let done = 0;
        while (done < fits) done += file.writeSync(bytes.subarray(done, fits));
        if (fits < bytes.length) throw new Error(DISK_FULL);
      },
      close(): void {
        file.close();
      },
    };
  }

  /**
   * A named pipe: stapio's reader threads each write to their own, and one whose reader is slow waits in its
   * write while the others go on. Here writes are queued and written without blocking the process; the reader
   * feeding this pipe waits for it ({@linkcode OutputHandle.whenBelow}). A failed write is thrown by the
   * next one, as a later `write(2)` reports a closed pipe.
   */
  #pipe(file: Deno.FsFile): OutputHandle {
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    let failure: unknown;
    return {
      fd: this.#nextFd++,
      write(bytes: Uint8Array): void {
        if (failure !== undefined) throw failure;
        const copy = bytes.slice();
        pending += copy.length;
        chain = chain.then(async () => {
          try {
            if (failure !== undefined) return;
            for (let done = 0; done < copy.length;) done += await file.write(copy.subarray(done));
          } catch (err) {
            failure = err;
          } finally {
            pending -= copy.length;
          }
        });
      },
      async whenBelow(limit: number): Promise<void> {
        while (pending > limit && failure === undefined) await chain;
      },
      drain(): Promise<void> {
        return chain;
      },
      close(): void {
        void chain.finally(() => {
          try {
            file.close();
          } catch {
            // closed
          }
        });
      },
    };
  }

  remove(path: string): void {
    try {
      // A deliberate difference from 4.8: only regular files go. Under `-o /dev/null -S SIZE,COUNT` stapio 4.8
      // removes "file k-COUNT", which is /dev/null itself, and as root it would delete the machine's /dev/null.
      if (!Deno.lstatSync(path).isFile) return;
      Deno.removeSync(path);
    } catch {
      // stapio ignores errors here
    }
  }
}

/** An in-memory file: its bytes, grown with zeros when written past its end (a sparse hole). */
export class MemoryFile {
  /** The storage; bytes past `size` are spare room. */
  data: Uint8Array = new Uint8Array(0);
  /** The file's length. */
  size = 0;

  /** Writes `bytes` at `offset`, filling a gap past the end with zeros. */
  writeAt(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2, 256));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    if (offset > this.size) this.data.fill(0, this.size, offset);
    this.data.set(bytes, offset);
    this.size = Math.max(this.size, end);
  }

  /** A copy of the content. */
  bytes(): Uint8Array {
    return this.data.slice(0, this.size);
  }
}

/**
 * Output files in memory, with the semantics that matter: truncate on open, one offset per open, removal of
 * the name only (an open handle keeps writing to its unlinked file, as on Linux).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const fs = new MemoryOutputFs();
 * const a = fs.open("/f"), b = fs.open("/f");
 * a.write(new TextEncoder().encode("aaaa"));
 * b.write(new TextEncoder().encode("bb"));
 * assertEquals(fs.text("/f"), "bbaa");
 * ```
 */
export class MemoryOutputFs implements OutputFs {
  /** The files by path. */
  readonly files: Map<string, MemoryFile> = new Map();
  #nextFd = 3;

  open(path: string): OutputHandle {
    let file = this.files.get(path);
    if (!file) {
      file = new MemoryFile();
      this.files.set(path, file);
    }
    file.size = 0;
    const target = file;
    let offset = 0;
    let open = true;
    return {
      fd: this.#nextFd++,
      write(bytes: Uint8Array): void {
        if (!open) throw new Error("Bad file descriptor");
        target.writeAt(offset, bytes);
        offset += bytes.length;
      },
      close(): void {
        open = false;
      },
    };
  }

  remove(path: string): void {
    this.files.delete(path);
  }

  /** Names that exist, sorted. */
  names(): string[] {
    return [...this.files.keys()].sort();
  }

  /** A file's content as text ("" when it does not exist). */
  text(path: string): string {
    return new TextDecoder().decode(this.files.get(path)?.bytes() ?? new Uint8Array());
  }
}
