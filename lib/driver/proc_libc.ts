/**
 * Reading the real `/proc` through libc (`open`/`read`, `opendir`/`readdir`) by FFI. Deno 2.9 refuses every
 * read under `/proc` without `--allow-all`, which the command line has but a library program may not; with
 * `--allow-ffi` (lib/inspector_guard.ts) these reads cost a function call instead of a helper
 * process (`cat`, `ls`, `head`): about 0.1 ms instead of 2 to 6 ms each, plus the 4 to 10 ms Deno takes to load
 * its process API the first time anything touches `Deno.Command` or `Deno.kill` (docs/architecture.md "The
 * host seam"). Without `--allow-ffi` (a library program may run without it) every function here answers
 * `null`, and the caller goes on as before, through a helper process.
 *
 * The layouts used are glibc's on 64-bit Linux (x86_64 and aarch64 alike): `struct dirent` has `d_name` at
 * byte 19, and `errno` is reached through `__errno_location()`.
 * @module
 */

/** `errno`'s address, which each use that reads `errno` opens with its own symbols. */
export const ERRNO = { __errno_location: { parameters: [], result: "pointer" } } as const;

/** What reading files takes: each symbol costs about 0.2 ms at every `dlopen`, so each use opens only its own. */
const FILE_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  ...ERRNO,
} as const;

const DIR_SYMBOLS = {
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  ...ERRNO,
} as const;

/** The functions of an open library. */
export type Symbols<S extends Deno.ForeignLibraryInterface> = Deno.DynamicLibrary<S>["symbols"];

/** O_RDONLY | O_CLOEXEC | O_NOCTTY. */
const OPEN_FLAGS = 0o2000000 | 0o400;
/** The errno values that mean "there is no such file" (ENOENT, ENOTDIR, ESRCH for a process gone). */
const GONE = new Set([2, 20, 3]);
/** `d_name`'s offset in glibc's `struct dirent` on 64-bit Linux. */
const D_NAME = 19;

let allowed: boolean | undefined;

/**
 * libc with `symbols`, when this process may use FFI (asked once, without a prompt); null otherwise. The caller
 * closes it once done, so that no library stays open between uses, which Deno's resource sanitizer would report
 * in every test (libc is loaded already: opening it again only counts a reference).
 */
export function openLibc<S extends Deno.ForeignLibraryInterface>(symbols: S): Deno.DynamicLibrary<S> | null {
  if (allowed === undefined) {
    try {
      allowed = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      allowed = false;
    }
  }
  if (!allowed) return null;
  try {
    return Deno.dlopen("libc.so.6", symbols);
  } catch {
    allowed = false;
    return null;
  }
}

/**
 * Runs `use` with libc's `symbols` ({@linkcode openLibc}), null without FFI; libc is opened for the call and
 * closed after it, and a caller with several files to read reads them in one call.
 */
function withLibc<S extends Deno.ForeignLibraryInterface, T>(
  symbols: S,
  use: (lib: Symbols<S>) => T,
): T | null {
  const library = openLibc(symbols);
  if (library === null) return null;
  try {
    return use(library.symbols);
  } finally {
    library.close();
  }
}

/** The calling thread's `errno`, right after the libc call that set it. */
export function errno(lib: Symbols<typeof ERRNO>): number {
  const at = lib.__errno_location();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}

const encoder = new TextEncoder();

/** `text` as a NUL-terminated C string. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
}

/**
 * Whole files' texts read through libc, in one `dlopen`: for each, undefined when it does not exist and null
 * when the read failed otherwise (a helper process may still manage); null as a whole when FFI is not allowed.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * const texts = readProcFiles([`/proc/${Deno.pid}/stat`, "/proc/0/stat"]);
 * assert(texts === null || (texts[0]?.startsWith(`${Deno.pid} (`) && texts[1] === undefined));
 * ```
 */
export function readProcFiles(paths: readonly string[]): (string | undefined | null)[] | null {
  if (paths.length === 0) return [];
  return withLibc(FILE_SYMBOLS, (lib) => paths.map((path) => readWhole(lib, path)));
}

/** {@linkcode readProcFiles} of one file. */
export function readProcFile(path: string): string | undefined | null {
  const texts = readProcFiles([path]);
  return texts === null ? null : texts[0];
}

function readWhole(lib: Symbols<typeof FILE_SYMBOLS>, path: string): string | undefined | null {
  const fd = lib.open(cString(path), OPEN_FLAGS);
  if (fd < 0) return GONE.has(errno(lib)) ? undefined : null;
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const chunk = new Uint8Array(16384);
      const n = Number(lib.read(fd, chunk, BigInt(chunk.length)));
      if (n < 0) return GONE.has(errno(lib)) ? undefined : null;
      if (n === 0) break;
      parts.push(chunk.subarray(0, n));
    }
  } finally {
    lib.close(fd);
  }
  const decoder = new TextDecoder();
  return parts.map((p, i) => decoder.decode(p, { stream: i < parts.length - 1 })).join("");
}

/**
 * The names in a directory read through libc (without `.` and `..`): undefined when it does not exist, null
 * when FFI is not allowed.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * const names = readProcDirectory(`/proc/${Deno.pid}`);
 * assert(names === null || names?.includes("stat"));
 * ```
 */
export function readProcDirectory(path: string): string[] | undefined | null {
  return withLibc(DIR_SYMBOLS, (lib) => {
    const dir = lib.opendir(cString(path));
    if (dir === null) return GONE.has(errno(lib)) ? undefined : null;
    const names: string[] = [];
    try {
      for (let entry = lib.readdir(dir); entry !== null; entry = lib.readdir(dir)) {
        const name = Deno.UnsafePointerView.getCString(entry, D_NAME);
        if (name !== "." && name !== "..") names.push(name);
      }
    } finally {
      lib.closedir(dir);
    }
    return names;
  });
}
