/**
 * Deno 2.9.2 and later open V8's inspector, a debugger port on 127.0.0.1:9229 that runs any code it is sent,
 * when a process that has run for 500 ms receives SIGUSR1 (as Node.js does). A flight recorder runs as root, and
 * any local user can connect to that port: no stapfr process may ever open it (docs/strays.md "SIGUSR1 and the
 * debugger port").
 *
 * Deno has no switch to turn this off, and its handler runs whatever disposition or listener the program sets.
 * What it cannot get past is a *blocked* signal: a blocked SIGUSR1 stays pending and is never delivered, to Deno's
 * handler or anyone's. A signal mask can only be set for a whole process at exec time (Deno's threads are already
 * running when a program starts), so {@linkcode blockInspectorSignal} blocks SIGUSR1 in the calling thread and
 * executes the same program again in place (same pid, arguments, environment and open files), through libc by
 * FFI. Every thread of the new image, and every process it starts, inherits the blocked signal. It costs one
 * more start of the runtime, so the command line does it only for the commands that may run longer than 500 ms
 * ({@linkcode guardedCommand}).
 *
 * Where FFI is not allowed (a library user's program run without `--allow-ffi`), {@linkcode refuseInspectorSignal}
 * is the fallback: it listens for SIGUSR1 and closes the inspector as soon as Deno has opened it, which leaves the
 * port open for a few milliseconds.
 * @module
 */
import { refuseInspectorSignal } from "./inspector_refuse.ts";
import { joinBytes } from "./bytes.ts";

export { refuseInspectorSignal };

const SIGUSR1 = 10; // The same on x86_64 and aarch64 Linux.
const SIG_BLOCK = 0;
const SIGSET_BYTES = 128; // glibc's sigset_t

const LIBC_SYMBOLS = {
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  sigismember: { parameters: ["buffer", "i32"], result: "i32" },
  pthread_sigmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

/** How the process stands against SIGUSR1. */
export type InspectorGuard =
  /** SIGUSR1 is blocked: it can never open the inspector. */
  | "blocked"
  /** No FFI here: SIGUSR1 opens the inspector, which is closed again at once. */
  | "closed-on-open";

const encoder = new TextEncoder();

function cString(text: string): Uint8Array {
  return encoder.encode(text + "\0");
}

/** Reads a whole file through libc (Deno allows `/proc/self/*` only with `--allow-all`). */
function readRaw(libc: Libc, path: string): Uint8Array {
  const fd = libc.open(cString(path), 0);
  if (fd < 0) throw new Error(`cannot open ${path}`);
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const chunk = new Uint8Array(65536);
      const n = Number(libc.read(fd, chunk, BigInt(chunk.length)));
      if (n < 0) throw new Error(`cannot read ${path}`);
      if (n === 0) break;
      parts.push(chunk.subarray(0, n));
    }
  } finally {
    libc.close(fd);
  }
  return joinBytes(parts);
}

/** A NUL-separated list (`/proc/self/cmdline`, `/proc/self/environ`) as a NULL-terminated `char *[]`. */
function pointerArray(list: Uint8Array, keep: Uint8Array[]): BigUint64Array {
  const words: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === 0) {
      words.push(list.slice(start, i + 1));
      start = i + 1;
    }
  }
  const pointers = new BigUint64Array(words.length + 1);
  words.forEach((w, i) => {
    keep.push(w);
    pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(w)));
  });
  return pointers;
}

/**
 * Makes sure SIGUSR1 can never open the inspector in this process: returns `"blocked"` when it already is
 * blocked, and otherwise executes this program again with SIGUSR1 blocked (this call then never returns). Where
 * that cannot be done (no FFI permission, not Linux) it falls back to {@linkcode refuseInspectorSignal} and
 * returns `"closed-on-open"`.
 *
 * @example
 * ```ts ignore
 * // First thing in a long-running entry point:
 * blockInspectorSignal();
 * ```
 */
export function blockInspectorSignal(): InspectorGuard {
  // Until the exec, a SIGUSR1 must not end the process (its default action) nor leave the port open.
  refuseInspectorSignal();
  let lib: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
  try {
    if (Deno.build.os !== "linux") return "closed-on-open";
    lib = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch {
    return "closed-on-open";
  }
  const libc = lib.symbols;
  const current = new Uint8Array(SIGSET_BYTES);
  libc.pthread_sigmask(SIG_BLOCK, new Uint8Array(SIGSET_BYTES), current); // an empty set: only reads the mask
  if (libc.sigismember(current, SIGUSR1) === 1) {
    lib.close();
    return "blocked";
  }
  const keep: Uint8Array[] = [];
  const argv = pointerArray(readRaw(libc, "/proc/self/cmdline"), keep);
  const envp = pointerArray(readRaw(libc, "/proc/self/environ"), keep);
  const usr1 = new Uint8Array(SIGSET_BYTES);
  libc.sigemptyset(usr1);
  libc.sigaddset(usr1, SIGUSR1);
  libc.pthread_sigmask(SIG_BLOCK, usr1, new Uint8Array(SIGSET_BYTES));
  libc.execve(cString("/proc/self/exe"), new Uint8Array(argv.buffer), new Uint8Array(envp.buffer));
  // Still here: the exec failed. Unblock, so that this thread is not the only one that ignores the signal.
  libc.pthread_sigmask(1, /* SIG_UNBLOCK */ usr1, new Uint8Array(SIGSET_BYTES));
  lib.close();
  return "closed-on-open";
}
