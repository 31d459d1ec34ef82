/**
 * Reading a kernel module file without `modinfo`: the ELF section headers, the `.modinfo` section (the
 * `key=value` strings the kernel checks on insert, `vermagic` among them) and any other section by name.
 * Servers that run prebuilt modules often have `staprun` but no kmod tools, and the simulator's module files
 * are ELF-shaped too, so one reader serves both hosts.
 * @module
 */

import { StapfrError } from "../errors.ts";

/**
 * Why a file is not a kernel module stapfr can read (`code: "rejected_module"`).
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * const err = assertThrows(() => moduleInfo(new TextEncoder().encode("not ELF")), NotAModuleError);
 * if ((err as NotAModuleError).code !== "rejected_module") throw new Error("a module error has its code");
 * ```
 */
export class NotAModuleError extends StapfrError {
  /** The error's name, for logs and `instanceof`-free checks. */
  override name = "NotAModuleError";
  /** Why it is not one (`not an ELF file`). */
  constructor(why: string) {
    super(why, { code: "rejected_module" });
  }
}

/** The sections of an ELF file, by name (a relocatable object such as a `.ko` has no program headers). */
export interface ElfFile {
  /** 32 or 64. */
  bits: 32 | 64;
  /** Byte order of the file. */
  littleEndian: boolean;
  /** `e_type`: 1 for a relocatable object (what kernel modules are). */
  type: number;
  /** `e_machine` (62 for x86-64, 183 for AArch64). */
  machine: number;
  /** The bytes of each named section (SHT_NOBITS sections are empty). */
  sections: Map<string, Uint8Array>;
}

const SHT_NOBITS = 8;
/** `e_type` of a relocatable object, which every loadable kernel module is. */
export const ET_REL = 1;

/** The ELF header's fields that locate the section table. */
interface ElfHeader {
  bits: 32 | 64;
  le: boolean;
  type: number;
  machine: number;
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

/** One section header: where its bytes are. */
interface SectionHeader {
  name: number;
  type: number;
  offset: number;
  size: number;
}

/** How many bytes the ELF header takes at most (64-bit). */
const HEADER_BYTES = 64;

/** Parses the ELF header from the file's first bytes (at least 52, 64 for a 64-bit file). */
function parseHeader(bytes: Uint8Array): ElfHeader {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new NotAModuleError("not an ELF file");
  }
  const cls = bytes[4];
  const data = bytes[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) {
    throw new NotAModuleError("not an ELF file (unknown class or byte order)");
  }
  const bits = cls === 2 ? 64 : 32;
  const le = data === 1;
  if (bits === 64 && bytes.length < 64) throw new NotAModuleError("truncated ELF header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, le);
  return {
    bits,
    le,
    type: u16(16),
    machine: u16(18),
    shoff: wordAt(view, bits === 64 ? 0x28 : 0x20, bits, le),
    shentsize: u16(bits === 64 ? 0x3a : 0x2e),
    shnum: u16(bits === 64 ? 0x3c : 0x30),
    shstrndx: u16(bits === 64 ? 0x3e : 0x32),
  };
}

function wordAt(view: DataView, at: number, bits: 32 | 64, le: boolean): number {
  if (bits === 32) return view.getUint32(at, le);
  const v = view.getBigUint64(at, le);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NotAModuleError("ELF offset out of range");
  return Number(v);
}

/** Where the section table is, checked against the file's size. */
function tableSpan(h: ElfHeader, fileSize: number): { offset: number; length: number } {
  const minEntry = h.bits === 64 ? 64 : 40;
  if (
    h.shnum === 0 || h.shentsize < minEntry || h.shoff + h.shnum * h.shentsize > fileSize ||
    h.shstrndx >= h.shnum
  ) {
    throw new NotAModuleError("ELF section table missing or truncated");
  }
  return { offset: h.shoff, length: h.shnum * h.shentsize };
}

/** Parses the section table's bytes; every section must lie inside the file. */
function parseSections(table: Uint8Array, h: ElfHeader, fileSize: number): SectionHeader[] {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const u32 = (at: number) => view.getUint32(at, h.le);
  return Array.from({ length: h.shnum }, (_, i) => {
    const at = i * h.shentsize;
    const sh = h.bits === 64
      ? {
        name: u32(at),
        type: u32(at + 4),
        offset: wordAt(view, at + 0x18, 64, h.le),
        size: wordAt(view, at + 0x20, 64, h.le),
      }
      : { name: u32(at), type: u32(at + 4), offset: u32(at + 0x10), size: u32(at + 0x14) };
    if (sh.type !== SHT_NOBITS && i !== 0 && sh.offset + sh.size > fileSize) {
      throw new NotAModuleError(`ELF section ${i} lies outside the file`);
    }
    return sh;
  });
}

/** The name at `off` of a section-name table. */
function nameIn(names: Uint8Array, off: number): string {
  if (off >= names.length) return "";
  const end = names.indexOf(0, off);
  return new TextDecoder().decode(names.subarray(off, end < 0 ? names.length : end));
}

/**
 * Parses the ELF header and the section table. Throws {@linkcode NotAModuleError} when the bytes are not an
 * ELF file or its tables point outside it.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * assertThrows(() => readElf(new TextEncoder().encode("hello")), NotAModuleError, "not an ELF file");
 * ```
 */
export function readElf(bytes: Uint8Array): ElfFile {
  const h = parseHeader(bytes);
  const span = tableSpan(h, bytes.length);
  const headers = parseSections(bytes.subarray(span.offset, span.offset + span.length), h, bytes.length);
  const strtab = headers[h.shstrndx];
  const names = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  const sections = new Map<string, Uint8Array>();
  headers.forEach((sh, i) => {
    if (i === 0) return;
    const name = nameIn(names, sh.name);
    if (name === "" || sections.has(name)) return;
    sections.set(
      name,
      sh.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(sh.offset, sh.offset + sh.size),
    );
  });
  return { bits: h.bits, littleEndian: h.le, type: h.type, machine: h.machine, sections };
}

/**
 * The `key=value` strings of a `.modinfo` section, in order (a key such as `license` or `parm` may repeat).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const section = new TextEncoder().encode("license=GPL\0name=stap_fr_io\0\0vermagic=6.1.0-57-amd64 SMP \0");
 * assertEquals(parseModinfo(section), [
 *   ["license", "GPL"], ["name", "stap_fr_io"], ["vermagic", "6.1.0-57-amd64 SMP "],
 * ]);
 * ```
 */
export function parseModinfo(section: Uint8Array): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of new TextDecoder().decode(section).split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) out.push([entry.slice(0, eq), entry.slice(eq + 1)]);
  }
  return out;
}

/** What stapfr needs to know about a module file before it loads it. */
export interface ModuleInfo {
  /** `name` from `.modinfo` (the name the kernel will give it), when present. */
  name?: string;
  /** `vermagic` as written, e.g. `6.1.0-57-amd64 SMP preempt mod_unload modversions `. */
  vermagic?: string;
  /** The kernel release the module was built for: the first word of `vermagic`. */
  release?: string;
  /** Every `.modinfo` entry, in order. */
  entries: [string, string][];
  /** The parsed ELF file (its other sections). */
  elf: ElfFile;
}

/**
 * Reads the module information of a `.ko`'s bytes. Throws {@linkcode NotAModuleError} when they are not an
 * ELF relocatable object with a `.modinfo` section, which every loadable kernel module has.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * assertThrows(() => moduleInfo(new Uint8Array(8)), NotAModuleError, "not an ELF file");
 * ```
 */
export function moduleInfo(bytes: Uint8Array): ModuleInfo {
  return infoOf(readElf(bytes));
}

/** The module information of a parsed ELF file. */
function infoOf(elf: ElfFile): ModuleInfo {
  if (elf.type !== ET_REL) {
    throw new NotAModuleError(`an ELF file of type ${elf.type}, not a relocatable object`);
  }
  const section = elf.sections.get(".modinfo");
  if (!section) throw new NotAModuleError("an ELF file without a .modinfo section");
  const entries = parseModinfo(section);
  const get = (key: string) => entries.find(([k]) => k === key)?.[1];
  const vermagic = get("vermagic");
  const release = vermagic?.trim().split(/\s+/)[0] || undefined;
  return { name: get("name"), vermagic, release, entries, elf };
}

/**
 * Reads a module file's information (see {@linkcode moduleInfo}); file errors are thrown as they are.
 *
 * @example A file that is not a module
 * ```ts
 * import { assertRejects } from "@std/assert";
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "not a module");
 * await assertRejects(() => readModuleInfo(file), NotAModuleError, "not an ELF file");
 * await Deno.remove(file);
 * ```
 */
export async function readModuleInfo(path: string): Promise<ModuleInfo> {
  const file = await Deno.open(path, { read: true });
  try {
    return await readModuleFile(file, (await file.stat()).size);
  } finally {
    file.close();
  }
}

/** The most a section-name table or a `.modinfo` section may take: a few KiB in any real module. */
const SECTION_MAX = 1 << 20;

/**
 * Reads a module's information from an open file of `size` bytes, reading only what the checks need: the ELF
 * header, the section table, the section names and `.modinfo` (a few KiB of a module of megabytes), each read
 * bounded by the file's size and by what such a table can hold. The returned {@linkcode ElfFile} holds the
 * `.modinfo` section only.
 */
export async function readModuleFile(
  file: Pick<Deno.FsFile, "read" | "seek">,
  size: number,
): Promise<ModuleInfo> {
  const readAt = async (offset: number, length: number, what: string): Promise<Uint8Array> => {
    if (length > SECTION_MAX) {
      throw new NotAModuleError(`its ${what} is ${length} bytes, more than a module has`);
    }
    await file.seek(offset, Deno.SeekMode.Start);
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = await file.read(out.subarray(done));
      if (n === null || n === 0) throw new NotAModuleError(`truncated ELF file (its ${what} is cut short)`);
      done += n;
    }
    return out;
  };
  const h = parseHeader(await readAt(0, Math.min(size, HEADER_BYTES), "header"));
  const span = tableSpan(h, size);
  const headers = parseSections(await readAt(span.offset, span.length, "section table"), h, size);
  const strtab = headers[h.shstrndx];
  const names = await readAt(strtab.offset, strtab.size, "section-name table");
  const modinfo = headers.find((sh, i) => i !== 0 && nameIn(names, sh.name) === ".modinfo");
  const sections = new Map<string, Uint8Array>();
  if (modinfo) {
    sections.set(
      ".modinfo",
      modinfo.type === SHT_NOBITS
        ? new Uint8Array(0)
        : await readAt(modinfo.offset, modinfo.size, ".modinfo"),
    );
  }
  return infoOf({ bits: h.bits, littleEndian: h.le, type: h.type, machine: h.machine, sections });
}

/** Options of {@linkcode writeElf}. */
export interface ElfSection {
  /** Section name, e.g. `.modinfo`. */
  name: string;
  /** Its bytes. */
  data: Uint8Array;
}

/**
 * Writes a minimal ELF64 little-endian relocatable object for x86-64 holding the given sections
 * (SHT_PROGBITS, flag ALLOC) and a section-name table: what the simulator's `.ko` files are, so that
 * {@linkcode moduleInfo} and the binutils (`readelf -p .modinfo`) read them as they read a real module.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const modinfo = new TextEncoder().encode("name=stap_fr_io\0vermagic=6.1.0-sim SMP \0");
 * const info = moduleInfo(writeElf([{ name: ".modinfo", data: modinfo }]));
 * assertEquals([info.name, info.release], ["stap_fr_io", "6.1.0-sim"]);
 * ```
 */
export function writeElf(sections: ElfSection[]): Uint8Array {
  const enc = new TextEncoder();
  const names = [...sections.map((s) => s.name), ".shstrtab"];
  const nameOffsets: number[] = [];
  const strParts: number[] = [0];
  for (const n of names) {
    nameOffsets.push(strParts.length);
    strParts.push(...enc.encode(n), 0);
  }
  const shstrtab = new Uint8Array(strParts);
  const bodies = [...sections.map((s) => s.data), shstrtab];
  const align8 = (n: number) => (n + 7) & ~7;
  let offset = 64;
  const offsets = bodies.map((b) => {
    const at = offset;
    offset = align8(offset + b.length);
    return at;
  });
  const shoff = offset;
  const shnum = bodies.length + 1;
  const out = new Uint8Array(shoff + shnum * 64);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  view.setUint16(16, ET_REL, true);
  view.setUint16(18, 62, true); // EM_X86_64
  view.setUint32(20, 1, true);
  view.setBigUint64(0x28, BigInt(shoff), true);
  view.setUint16(0x34, 64, true); // e_ehsize
  view.setUint16(0x3a, 64, true); // e_shentsize
  view.setUint16(0x3c, shnum, true);
  view.setUint16(0x3e, shnum - 1, true); // .shstrtab is last
  bodies.forEach((body, i) => {
    out.set(body, offsets[i]);
    const at = shoff + (i + 1) * 64;
    const last = i === bodies.length - 1;
    view.setUint32(at, nameOffsets[i], true);
    view.setUint32(at + 4, last ? 3 : 1, true); // SHT_STRTAB : SHT_PROGBITS
    view.setBigUint64(at + 8, last ? 0n : 2n, true); // SHF_ALLOC
    view.setBigUint64(at + 0x18, BigInt(offsets[i]), true);
    view.setBigUint64(at + 0x20, BigInt(body.length), true);
    view.setBigUint64(at + 0x30, 1n, true); // sh_addralign
  });
  return out;
}
