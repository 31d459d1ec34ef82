/**
 * Whether a place may hold snapshots. Snapshots are traced data, often taken as root, so the store is held to
 * what OpenSSH asks of a key's directory: every directory on the way to it belongs to the user or to root, and
 * none that others can write lacks the sticky bit (else they could rename stapfr's directory away and put a
 * link in its place). stapfr never changes the mode of a directory it did not create: `--store /tmp` or
 * `--store ~` keep their modes, and the data goes into `STORE/NAME/`, which stapfr creates 0700 (an existing
 * one must already be private and the user's own). Links are never followed inside the store.
 * See docs/snapshots.md "The store".
 * @module
 */
import { StapfrError } from "../errors.ts";
import { dirname, resolve } from "../path.ts";
import { storeError } from "./store_errors.ts";

/** What the checks need of a directory's `lstat`/`stat`. */
export type DirFacts = Pick<Deno.FileInfo, "isDirectory" | "isSymlink" | "uid" | "gid" | "mode">;

/** Who stapfr runs as: its uid and primary gid, each null where the platform has none. */
export interface Runner {
  uid: number | null;
  gid: number | null;
}

/** Who stapfr runs as. Without permission to ask (`--allow-sys`), the checks fail closed: an error says so. */
function runner(): Runner {
  return { uid: Deno.uid(), gid: Deno.gid() };
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/**
 * Why a directory on the way to the store (or the store itself) lets others replace what stapfr writes there,
 * or undefined when it does not: it must belong to the user or root, and one that others may write must be
 * sticky (like /tmp: nobody may rename what is not theirs). One that its group may write must be sticky too,
 * unless the group is the user's own primary group: under user private groups (Debian's and Ubuntu's
 * default umask 002) that group has the user alone, and directories of the user's are group-writable.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const me = { uid: 1000, gid: 1000 };
 * const dir = { isDirectory: true, isSymlink: false, uid: 0, gid: 0, mode: 0o41777 };
 * assertEquals(whyUnsafeAncestor("/tmp", dir, me), undefined);
 * assertEquals(whyUnsafeAncestor("/srv/x", { ...dir, uid: 1000, mode: 0o40777 }, me),
 *   '"/srv/x" is writable by others (mode 0777)');
 * assertEquals(whyUnsafeAncestor("/srv/y", { ...dir, uid: 1000, gid: 50, mode: 0o40775 }, me),
 *   '"/srv/y" is writable by its group (gid 50, mode 0775)');
 * assertEquals(whyUnsafeAncestor("/home/me", { ...dir, uid: 1000, gid: 1000, mode: 0o40775 }, me), undefined);
 * assertEquals(whyUnsafeAncestor("/home/bob", { ...dir, uid: 1001, mode: 0o40755 }, me),
 *   '"/home/bob" is owned by uid 1001');
 * ```
 */
export function whyUnsafeAncestor(path: string, facts: DirFacts, me: Runner): string | undefined {
  if (me.uid !== null && facts.uid !== null && facts.uid !== me.uid && facts.uid !== 0) {
    return `"${path}" is owned by uid ${facts.uid}`;
  }
  const mode = facts.mode;
  if (mode === null || facts.isSymlink || (mode & 0o1000) !== 0) return undefined;
  if ((mode & 0o002) !== 0) return `"${path}" is writable by others (mode ${octal(mode)})`;
  if ((mode & 0o020) !== 0 && !(facts.gid !== null && facts.gid === me.gid)) {
    return `"${path}" is writable by its group (gid ${facts.gid}, mode ${octal(mode)})`;
  }
  return undefined;
}

/**
 * Why an existing recorder directory (`STORE/NAME`) may not hold snapshots, or undefined when it may: a real
 * directory (never a link), the user's own, and private, since stapfr does not re-mode what it did not make.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const own = { isDirectory: true, isSymlink: false, uid: 1000, gid: 1000, mode: 0o40700 };
 * assertEquals(whyNotPrivate(own, 1000), undefined);
 * assertEquals(whyNotPrivate({ ...own, mode: 0o40755 }, 1000),
 *   "it has mode 0755: others could read the snapshots, and stapfr does not change the mode of a directory it did not create");
 * assertEquals(whyNotPrivate({ ...own, isDirectory: false, isSymlink: true }, 1000),
 *   "it is a symbolic link, and stapfr follows no link in its store");
 * ```
 */
export function whyNotPrivate(facts: DirFacts, uid: number | null): string | undefined {
  if (facts.isSymlink) return "it is a symbolic link, and stapfr follows no link in its store";
  if (!facts.isDirectory) return "it is not a directory";
  if (uid !== null && facts.uid !== null && facts.uid !== uid) {
    return `it is owned by uid ${facts.uid}, not by you (uid ${uid})`;
  }
  if (facts.mode !== null && (facts.mode & 0o077) !== 0) {
    return `it has mode ${
      octal(facts.mode)
    }: others could read the snapshots, and stapfr does not change the ` +
      "mode of a directory it did not create";
  }
  return undefined;
}

/** The hint for a recorder directory refused by {@linkcode whyNotPrivate}. */
export function notPrivateHint(path: string, why: string): string {
  if (why.includes("mode")) {
    return `If it is yours and holds only snapshots, "chmod 700 ${path}"; else choose another store ` +
      "with --store or STAPFR_STORE";
  }
  if (why.includes("symbolic link")) {
    return "Remove the link, or point --store or STAPFR_STORE at the directory it leads to";
  }
  return "Choose another store with --store or STAPFR_STORE";
}

/** A store stapfr refuses to use: the reason names the directory at fault. */
export function unsafeStore(dir: string, why: string): StapfrError {
  return new StapfrError(`Cannot use snapshot store "${dir}": ${why}`, {
    code: "unsafe_path",
    hint:
      "Others could replace or read what stapfr writes there: choose a directory that only you (or root) " +
      "can write, with --store or STAPFR_STORE",
  });
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Every prefix of an absolute path, from "/" to the path itself. */
function prefixes(path: string): string[] {
  const out: string[] = [];
  for (let p = path;; p = dirname(p)) {
    out.unshift(p);
    if (p === "/") return out;
  }
}

/**
 * Checks the store directory and every directory on the way to it ({@linkcode whyUnsafeAncestor}); a link on
 * the way must belong to the user or root too. With `create`, makes the missing directories, 0700 each
 * (these are stapfr's). Returns whether the store exists (without `create` a missing store is simply empty).
 * Throws a {@linkcode StapfrError} saying which directory is at fault and why.
 */
export async function checkStoreDir(dir: string, create: boolean): Promise<boolean> {
  const me = runner();
  const uid = me.uid;
  const path = resolve(dir);
  try {
    let missing: string | undefined;
    for (const p of prefixes(path)) {
      const st = await lstatOrUndefined(p);
      if (!st) {
        missing = p;
        break;
      }
      if (st.isSymlink && uid !== null && st.uid !== null && st.uid !== uid && st.uid !== 0) {
        throw unsafeStore(dir, `"${p}" is a symbolic link owned by uid ${st.uid}`);
      }
    }
    // The directories that exist, as they really are (links resolved).
    const real = await Deno.realPath(missing ? dirname(missing) : path);
    for (const p of prefixes(real)) {
      const why = whyUnsafeAncestor(p, await Deno.stat(p), me);
      if (why) throw unsafeStore(dir, why);
    }
    if (missing === undefined) {
      if (!(await Deno.stat(path)).isDirectory) {
        throw new StapfrError(`Cannot use snapshot store "${dir}": "${path}" is not a directory`, {
          code: "io",
          hint: "Point --store or STAPFR_STORE at a directory",
        });
      }
      return true;
    }
    if (!create) return false;
    for (const p of prefixes(path).filter((p) => p.length >= missing.length)) {
      await makePrivateDir(p, () => unsafeStore(dir, `"${p}" appeared meanwhile and is not stapfr's`));
    }
    return true;
  } catch (err) {
    if (err instanceof StapfrError) throw err;
    throw storeError("use snapshot store", dir, err);
  }
}

/**
 * Creates `path` as a directory of stapfr's own, 0700 whatever the umask; returns false when it already
 * existed (and then leaves it exactly as it is). `raced` makes the error for a directory that another
 * process created between the check and the `mkdir`.
 */
export async function makePrivateDir(path: string, raced?: () => Error): Promise<boolean> {
  try {
    await Deno.mkdir(path, { mode: 0o700 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    if (raced) {
      const st = await Deno.lstat(path);
      if (whyNotPrivate(st, runner().uid)) throw raced();
    }
    return false;
  }
  // Made just now, so it is stapfr's: a umask such as 0277 must not leave it unusable or open.
  await Deno.chmod(path, 0o700);
  return true;
}

/**
 * Checks (and with `create`, makes) a recorder's directory in the store. Returns the reason it may not hold
 * snapshots ({@linkcode whyNotPrivate}), or undefined when it may; `missing` when it does not exist and
 * `create` is false.
 */
export async function checkRecorderDir(
  path: string,
  create: boolean,
): Promise<string | "missing" | undefined> {
  let st = await lstatOrUndefined(path);
  if (!st) {
    if (!create) return "missing";
    if (await makePrivateDir(path)) return undefined;
    st = await Deno.lstat(path);
  }
  return whyNotPrivate(st, runner().uid);
}

/**
 * Opens a file of the store for reading without following a link: a link (or anything but a regular file) is
 * refused, also one swapped in between the check and the open (the opened file must be the one checked).
 * Throws a {@linkcode NotFollowed} for those, the OS error otherwise.
 */
export async function openNoFollow(path: string): Promise<Deno.FsFile> {
  const before = await Deno.lstat(path);
  if (before.isSymlink) throw new NotFollowed(path, "is a symbolic link, not followed");
  if (!before.isFile) throw new NotFollowed(path, "is not a regular file");
  const file = await Deno.open(path, { read: true });
  try {
    const after = await file.stat();
    if (after.dev !== before.dev || after.ino !== before.ino) {
      throw new NotFollowed(path, "was replaced while it was opened");
    }
    return file;
  } catch (err) {
    file.close();
    throw err;
  }
}

/** Reads a (small) file of the store as text without following a link ({@linkcode openNoFollow}). */
export async function readTextNoFollow(path: string): Promise<string> {
  using file = await openNoFollow(path);
  const decoder = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  for (let n; (n = await file.read(buf)) !== null;) {
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

/** A file of the store that stapfr would not open: a link, or not a regular file. */
export class NotFollowed extends Error {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "NotFollowed";
  /** The file. */
  readonly path: string;
  /** What is wrong with it, as a predicate ("is a symbolic link, not followed"). */
  readonly why: string;
  /** A file refused for `why`. */
  constructor(path: string, why: string) {
    super(`"${path}" ${why}`);
    this.path = path;
    this.why = why;
  }
}
