/**
 * How stapfr runs this very program again: for the simulator's background stapio daemon (`staprun -D`), its
 * module hosts, the `stap`/`staprun`/`lsmod` shims, and the command lines of a systemd unit. That depends on
 * what stapfr was started as ({@linkcode selfKind}): its source tree (`deno run … cli.ts`), the bundle
 * (`deno run … stapfr.js`, one JavaScript file) or the compiled binary (the runtime and stapfr in one file).
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

/** What the running stapfr is: its source tree, the bundle, or the compiled binary. */
export type SelfKind = "source" | "bundle" | "compiled";

/**
 * What the running stapfr is. A compiled binary says so itself (`Deno.build.standalone`). Otherwise this very
 * module tells: from source it is `lib/self.ts`, and in a bundle every module's `import.meta.url` is the
 * bundle's own, whatever the file is called.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(selfKind(), "source");
 * ```
 */
export function selfKind(): SelfKind {
  if (Deno.build.standalone) return "compiled";
  return import.meta.url.endsWith("/lib/self.ts") ? "source" : "bundle";
}

/**
 * The file of this stapfr's program: `cli.ts` from source, the bundle itself, or the compiled binary.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * assert(selfProgram().endsWith("/cli.ts"));
 * ```
 */
export function selfProgram(): string {
  const kind = selfKind();
  if (kind === "compiled") return Deno.execPath();
  return urlPath(kind === "source" ? new URL("../cli.ts", import.meta.url) : new URL(import.meta.url));
}

/**
 * The command that runs stapfr; append stapfr's own arguments (`sim stap …`). `permissions` are the flags a
 * `deno run` of the source or the bundle gets (a compiled binary has its own compiled in).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const self = selfCommand();
 * assertEquals(self.command, Deno.execPath());
 * assertEquals(self.args.at(-1), selfProgram());
 * ```
 */
export function selfCommand(permissions: readonly string[] = SIM_PERMISSIONS): SelfCommand {
  const kind = selfKind();
  const exec = Deno.execPath();
  if (kind === "compiled") return { command: exec, args: [] };
  return { command: exec, args: [...denoRunFlags(kind), ...permissions, selfProgram()] };
}

/**
 * The `deno run` flags before the permissions: from source, stapfr's own deno.json (its import map resolves
 * the `@std/…` names, wherever the caller's directory is); for the bundle, no configuration at all, so that a
 * `deno.json` that happens to be in a directory above the bundle cannot change how it runs (Deno looks for one
 * from the main module's directory up), and lazy dynamic imports, as deno.json asks for the source: otherwise
 * every start resolves the S3 SDK's npm tree, which only the fleet's commands import (about 15 ms of a 40 ms
 * start here).
 */
export function denoRunFlags(kind: Exclude<SelfKind, "compiled">): string[] {
  if (kind === "source") {
    return ["run", "--quiet", `--config=${urlPath(new URL("../deno.json", import.meta.url))}`, "--no-lock"];
  }
  return ["run", "--quiet", "--no-config", "--unstable-lazy-dynamic-imports"];
}

function urlPath(url: URL): string {
  return url.protocol === "file:" ? filePath(url) : url.href;
}

/**
 * The path of a `file:` URL. Not `node:url`'s fileURLToPath: loading Deno's Node compatibility layer costs
 * start-up time in every command (lib/path.ts), and in the bundle a `node:` import loads at start-up wherever
 * it is used.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(filePath(new URL("file:///opt/my%20stapfr/stapfr.js")), "/opt/my stapfr/stapfr.js");
 * ```
 */
export function filePath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Quotes a word for a POSIX shell: single quotes, with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
