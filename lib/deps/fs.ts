/**
 * Stands in for the parts of `@std/fs` that stapfr uses (JSR is unreachable from our build machines), with the
 * standard library's names, signatures and behaviour: `exists` and `walk`. `deno.json` maps `@std/fs` here.
 * @module
 */

/** Options of {@linkcode exists}. */
export interface ExistsOptions {
  /** Also require that the path is readable by this process. */
  isReadable?: boolean;
  /** Also require a directory. */
  isDirectory?: boolean;
  /** Also require a file. */
  isFile?: boolean;
}

/**
 * Whether a path exists (following symbolic links, so a dangling link does not), as `@std/fs` `exists`.
 *
 * @example
 * ```ts
 * import { exists } from "@std/fs";
 * import { assert } from "@std/assert";
 * assert(await exists("/", { isDirectory: true }));
 * assert(!(await exists("/surely/not/here")));
 * ```
 */
export async function exists(path: string | URL, options: ExistsOptions = {}): Promise<boolean> {
  if (options.isDirectory && options.isFile) {
    throw new TypeError(
      "ExistsOptions.options.isDirectory and ExistsOptions.options.isFile must not be true together",
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    if (options.isReadable && err instanceof Deno.errors.PermissionDenied) return false;
    throw err;
  }
  if (options.isDirectory && !info.isDirectory) return false;
  if (options.isFile && !info.isFile) return false;
  if (!options.isReadable) return true;
  try {
    if (info.isDirectory) {
      for await (const _ of Deno.readDir(path)) break;
    } else {
      (await Deno.open(path, { read: true })).close();
    }
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied) return false;
    throw err;
  }
}

/** One entry {@linkcode walk} yields: a directory entry and its path. */
export interface WalkEntry extends Deno.DirEntry {
  /** The entry's path: the root joined with the names below it. */
  path: string;
}

/** Options of {@linkcode walk}. */
export interface WalkOptions {
  /** How deep to go below the root (the root is depth 0). */
  maxDepth?: number;
  /** Yield files (default true). */
  includeFiles?: boolean;
  /** Yield directories, the root included (default true). */
  includeDirs?: boolean;
  /** Yield symbolic links that are not followed (default true). */
  includeSymlinks?: boolean;
  /** Follow symbolic links (default false). */
  followSymlinks?: boolean;
  /** With `followSymlinks`, yield a followed link under its target's path (default true). */
  canonicalize?: boolean;
  /** Yield only paths ending in one of these extensions (`"ts"` or `".ts"`). */
  exts?: string[];
  /** Yield only paths matching one of these. */
  match?: RegExp[];
  /** Neither yield nor enter paths matching one of these. */
  skip?: RegExp[];
}

function included(path: string, options: Pick<WalkOptions, "exts" | "match" | "skip">): boolean {
  if (options.exts && !options.exts.some((ext) => path.endsWith(ext))) return false;
  if (options.match && !options.match.some((pattern) => pattern.test(path))) return false;
  if (options.skip?.some((pattern) => pattern.test(path))) return false;
  return true;
}

function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (part !== ".." || !absolute) parts.push(part);
  }
  return (absolute ? "/" : "") + parts.join("/") || (absolute ? "/" : ".");
}

/**
 * The entries of a directory tree, depth first, as `@std/fs` `walk`: the root first (when directories are
 * included), then each entry in the order the system lists them, descending into directories.
 *
 * @example
 * ```ts
 * import { walk } from "@std/fs";
 * import { assert } from "@std/assert";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/a`);
 * await Deno.writeTextFile(`${dir}/a/b.md`, "");
 * const found = await Array.fromAsync(walk(dir, { exts: ["md"] }), (e) => e.path);
 * assert(found.length === 1 && found[0] === `${dir}/a/b.md`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* walk(root: string | URL, options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
  const {
    maxDepth = Infinity,
    includeFiles = true,
    includeDirs = true,
    includeSymlinks = true,
    followSymlinks = false,
    canonicalize = true,
    match,
    skip,
  } = options;
  if (maxDepth < 0) return;
  const exts = options.exts?.map((ext) => ext.startsWith(".") ? ext : `.${ext}`);
  const top = normalize(root instanceof URL ? decodeURIComponent(root.pathname) : root);
  if (includeDirs && included(top, { exts, match, skip })) {
    const info = await Deno.stat(top);
    const name = top === "/" ? "" : top.split("/").pop()!;
    yield { path: top, name, isFile: info.isFile, isDirectory: info.isDirectory, isSymlink: info.isSymlink };
  }
  if (maxDepth < 1 || !included(top, { skip })) return;
  for await (const entry of Deno.readDir(top)) {
    let path = top === "/" ? `/${entry.name}` : `${top}/${entry.name}`;
    let { isSymlink, isDirectory } = entry;
    if (isSymlink) {
      if (!followSymlinks) {
        if (includeSymlinks && included(path, { exts, match, skip })) yield { path, ...entry };
        continue;
      }
      const target = await Deno.realPath(path);
      if (canonicalize) path = target;
      ({ isSymlink, isDirectory } = await Deno.lstat(target));
    }
    if (isSymlink || isDirectory) {
      yield* walk(path, { ...options, maxDepth: maxDepth - 1, exts });
    } else if (includeFiles && included(path, { exts, match, skip })) {
      yield { path, ...entry };
    }
  }
}
