/**
 * POSIX path helpers for the engine. `node:path` would do, but loading Deno's Node compatibility layer costs
 * a few milliseconds at start-up, and `stapfr list` should start about as fast as an empty Deno program.
 * @module
 */

/**
 * Joins path segments with "/" and normalises the result.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(join("/var/lib/", "stapfr", "../x", "./a.json"), "/var/lib/x/a.json");
 * ```
 */
export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== "").join("/"));
}

/** Removes `.` and `..` segments and doubled slashes. */
export function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else out.push(part);
  }
  const body = out.join("/");
  return absolute ? `/${body}` : body || ".";
}

/**
 * Makes a path absolute against the current directory.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(resolve("/srv", "out"), "/srv/out");
 * assertEquals(resolve("/srv", "/abs"), "/abs");
 * ```
 */
export function resolve(...parts: string[]): string {
  let path = "";
  for (const part of parts) path = part.startsWith("/") ? part : path === "" ? part : `${path}/${part}`;
  return normalize(path.startsWith("/") ? path : `${Deno.cwd()}/${path}`);
}

/** The directory part of a path. */
export function dirname(path: string): string {
  const i = normalize(path).lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : normalize(path).slice(0, i);
}

/** The last segment of a path. */
export function basename(path: string): string {
  const n = normalize(path);
  return n.slice(n.lastIndexOf("/") + 1);
}
