/**
 * How stapfr runs this very program again: for the simulator's background stapio daemon (`staprun -D`), its
 * module hosts, the `stap`/`staprun`/`lsmod` shims, and the command lines of a systemd unit. That depends on
 * what stapfr was started as ({@linkcode selfKind}): its source tree (`deno run … cli.ts`), the bundle
 * (`deno run … stapfr.js`, one JavaScript file) or the compiled binary (the runtime and stapfr in one file).
 * @module
 */

/**
 * The permissions stapfr runs with, from source, as the bundle (its first line) and as the compiled binary:
 * all of them. It needs `--allow-run` (stap, staprun, itself) and `--allow-ffi` (libc: SIGUSR1 blocked,
 * lib/inspector_guard.ts), and Deno's documentation says of each that it is in practice the same as
 * `--allow-all`; scoped flags beside them would promise a sandbox that is not there. With `--allow-all` Deno
 * also reads the real `/proc` itself, which it refuses otherwise (README "Permissions").
 */
export const PERMISSIONS: readonly string[] = ["--allow-all"];

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
  if (kind === "bundle") return import.meta.filename ?? urlPath(new URL(import.meta.url));
  return fromSourceRoot("cli.ts");
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
export function selfCommand(permissions: readonly string[] = PERMISSIONS): SelfCommand {
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
    return ["run", "--quiet", `--config=${fromSourceRoot("deno.json")}`, "--no-lock"];
  }
  return ["run", "--quiet", "--no-config", "--unstable-lazy-dynamic-imports"];
}

/**
 * A file of stapfr's source tree, this module being `lib/self.ts` in it. By its path where Deno gives one
 * (a local file): Deno's URL parser costs start-up time the first time a process uses it (docs/architecture.md
 * "Start-up").
 */
function fromSourceRoot(file: string): string {
  const lib = import.meta.dirname;
  return lib === undefined
    ? urlPath(new URL(`../${file}`, import.meta.url))
    : `${lib.slice(0, lib.lastIndexOf("/"))}/${file}`;
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
