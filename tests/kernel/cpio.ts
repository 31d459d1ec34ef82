/**
 * A cpio archive in the "newc" format (what the Linux kernel unpacks as an initramfs), gzip-compressed, written
 * here so the kernel lab needs no `cpio` program: a header of ASCII hex fields per entry, the name, the data,
 * each padded to 4 bytes, and a `TRAILER!!!` entry at the end.
 * @module
 */

/** One entry of the archive. */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "symlink"; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const encoder = new TextEncoder();

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, nameSize: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameSize, 0];
  return "070701" + fields.map(hex8).join("");
}

/**
 * The uncompressed newc archive of the entries, in order (a directory must come before what it holds).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const bytes = cpioNewc([{ kind: "dir", path: "bin" }]);
 * assertEquals(new TextDecoder().decode(bytes.slice(0, 6)), "070701");
 * assertEquals(bytes.length % 4, 0);
 * ```
 */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (p: Uint8Array) => {
    parts.push(p);
    offset += p.length;
  };
  const pad = () => {
    const n = pad4(offset);
    if (n) push(new Uint8Array(n));
  };
  const add = (ino: number, mode: number, name: string, data: Uint8Array) => {
    const nameBytes = encoder.encode(name + "\0");
    push(encoder.encode(header(ino, mode, data.length, nameBytes.length)));
    push(nameBytes);
    pad();
    push(data);
    pad();
  };
  entries.forEach((e, i) => {
    const name = e.path.replace(/^\/+/, "");
    if (e.kind === "dir") add(i + 1, S_IFDIR | (e.mode ?? 0o755), name, new Uint8Array());
    else if (e.kind === "file") add(i + 1, S_IFREG | (e.mode ?? 0o644), name, e.data);
    else add(i + 1, S_IFLNK | 0o777, name, encoder.encode(e.target));
  });
  add(0, 0, "TRAILER!!!", new Uint8Array());
  const out = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Gzips bytes with the web platform's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
