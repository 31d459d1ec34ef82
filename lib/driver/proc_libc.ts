/**
 * Reading the real `/proc` through libc (`open`/`read`, `opendir`/`readdir`) by FFI. Deno 2.9 refuses every
 * read under `/proc` without `--allow-all`, and stapfr asks for scoped permissions; it does ask for
 * `--allow-ffi` (lib/inspector_guard.ts), and with it these reads cost a function call instead of a helper
 * process (`cat`, `ls`, `head`): about 0.1 ms instead of 2 to 6 ms each, plus the 4 to 10 ms Deno takes to load
 * its process API the first time anything touches `Deno.Command` or `Deno.kill` (docs/architecture.md "The
 * host seam"). Without `--allow-ffi` (a library program may run without it) every function here answers
 * `null`, and the caller goes on as before, through a helper process.
 *
 * The layouts used are glibc's on 64-bit Linux (x86_64 and aarch64 alike): `struct dirent` has `d_name` at
 * byte 19, and `errno` is reached through `__errno_location()`.
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** O_RDONLY | O_CLOEXEC | O_NOCTTY. */
const OPEN_FLAGS = 0o2000000 | 0o400;
/** The errno values that mean "there is no such file" (ENOENT, ENOTDIR, ESRCH for a process gone). */
const GONE = new Set([2, 20, 3]);
/** `d_name`'s offset in glibc's `struct dirent` on 64-bit Linux. */
const D_NAME = 19;

let allowed: boolean | undefined;

/**
 * Runs `use` with libc, when this process may use FFI (asked once, without a prompt); null otherwise. libc is
 * opened for the call and closed after it (libc is loaded already: opening it again only counts a reference), so
 * that no library stays open between reads, which Deno's resource sanitizer would report in every test.
 */
function withLibc<T>(use: (lib: Libc) => T): T | null {
  if (allowed === undefined) {
    try {
      allowed = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      allowed = false;
    }
  }
  if (!allowed) return null;
  let library: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    library = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    allowed = false;
    return null;
  }
  try {
    return use(library.symbols);
  } finally {
    library.close();
  }
}

function errno(lib: Libc): number {
  const at = lib.__errno_location();
  return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
}

/**
 * A whole file's text read through libc: undefined when it does not exist, null when FFI is not allowed (or
 * the read failed otherwise, which a helper process may still manage).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * const text = readProcFile(`/proc/${Deno.pid}/stat`);
 * assert(text === null || text?.startsWith(`${Deno.pid} (`));
 * ```
 */
export function readProcFile(path: string): string | undefined | null {
  return withLibc((lib) => {
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
  });
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
  return withLibc((lib) => {
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
