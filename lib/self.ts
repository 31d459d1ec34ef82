/**
 * How the simulator's stand-ins run this very program again: for the background stapio daemon (`staprun -D`)
 * and for the `stap`/`staprun`/`lsmod` shims. From source that is `deno run` with the permissions stapfr needs
 * and the path of `cli.ts`; in a compiled stapfr it is the binary itself; a bundle is run by deno.
 * @module
 */

/** The permissions a simulated command needs (Unix sockets count as network access in Deno). */
export const SIM_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "--allow-net",
  // libc's pthread_sigmask and execve: SIGUSR1 must never open Deno's inspector (lib/inspector_guard.ts).
  "--allow-ffi",
];

/** A command line: the executable and its leading arguments, before the stapfr arguments. */
export interface SelfCommand {
  command: string;
  args: string[];
}

/**
 * The command that runs stapfr; append stapfr's own arguments (`sim stap …`).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * const self = selfCommand();
 * assert(self.command.length > 0);
 * ```
 */
export function selfCommand(): SelfCommand {
  const exec = Deno.execPath();
  const base = exec.split("/").pop() ?? "";
  const isDeno = /^deno(\.exe)?$/.test(base);
  const cli = new URL("../cli.ts", import.meta.url);
  if (isDeno && cli.protocol === "file:" && !cli.pathname.includes("/deno-compile-")) {
    return {
      command: exec,
      // stapfr's own deno.json: its import map resolves the `@std/…` names, wherever the caller's directory is.
      args: [
        "run",
        "--quiet",
        `--config=${new URL("../deno.json", import.meta.url).pathname}`,
        "--no-lock",
        ...SIM_PERMISSIONS,
        cli.pathname,
      ],
    };
  }
  if (isDeno) {
    // A bundle run by deno: the bundle is the main module.
    return { command: exec, args: ["run", "--quiet", "-A", new URL(Deno.mainModule).pathname] };
  }
  return { command: exec, args: [] };
}

/** Quotes a word for a POSIX shell: single quotes, with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
