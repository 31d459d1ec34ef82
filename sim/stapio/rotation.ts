/**
 * The rotation policy of stapio 4.8 for one output stream (one CPU's reader): file numbers, the size check
 * before each write, and which old file to delete at a switch (docs/systemtap-4.8.md 4.2–4.4, 4.7). Pure: it decides,
 * the writer does.
 * @module
 */

/** `-S size[,N]` as stapio holds it. */
export interface RotationSpec {
  /** Bytes per file (`size` MiB shifted left by 20); 0: no size-based switching. */
  sizeLimit: number;
  /** Files kept per stream; 0: unlimited. */
  fileCount: number;
}

/** Bytes of a bulk record header (uint32 sequence, uint32 length). */
const HEADER = 8;

/** `-S 0,N` and then a switch: stapio 4.8 writes to an unallocated array and segfaults (docs/systemtap-4.8.md 4.7). */
export class RotationCrash extends Error {
  override name = "RotationCrash";
}

/**
 * Parses stapio's `-S size[,N]`: strtoul, trailing garbage rejected, size in MiB, N cast to a 32-bit int
 * (`4294967297` wraps to 1, docs/systemtap-4.8.md 4.2). Returns undefined for invalid text (the caller prints
 * `Invalid file size option`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseFileSizeOption("1,2"), { sizeLimit: 1048576, fileCount: 2 });
 * assertEquals(parseFileSizeOption("1,4294967297"), { sizeLimit: 1048576, fileCount: 1 });
 * assertEquals(parseFileSizeOption("1x"), undefined);
 * ```
 */
export function parseFileSizeOption(text: string): RotationSpec | undefined {
  // Simulator extension: `NK` is KiB (stapfr's engine passes sizes below 1 MiB that way to the simulator).
  const m = /^\s*(\d+)(K?)(?:,\s*(\d+))?$/i.exec(text);
  if (!m) return undefined;
  const size = Number(m[1]) * (m[2] ? 1024 : 1024 * 1024);
  const count = m[3] === undefined ? 0 : Number(BigInt.asIntN(32, BigInt(m[3])));
  return { sizeLimit: size, fileCount: Math.max(count, 0) };
}

/** The numbering and size state of one stream. */
export class RotationState {
  /** Current file number (0 for the first file, suffixed or not). */
  fnum = 0;
  /** Whether names carry the number yet: from the start with `-S size`, else after the first switch. */
  suffixed: boolean;
  /** Bytes counted towards the size limit in the current file. */
  written = 0;
  /** When each kept file number was opened (stapio's time backlog), for strftime names at deletion. */
  readonly #opened = new Map<number, Date>();
  readonly #spec: RotationSpec;

  constructor(spec: RotationSpec) {
    this.#spec = spec;
    this.suffixed = spec.sizeLimit > 0;
  }

  /** Notes the time the current file was opened. */
  opened(time: Date): void {
    if (this.#spec.fileCount > 0) this.#opened.set(this.fnum, time);
  }

  /**
   * Whether a message of `payloadLength` bytes must go to a new file first (4.3: `written + len > limit`;
   * bulk counts only the payload here, so a bulk file can pass the limit by its headers).
   */
  needsSwitch(payloadLength: number): boolean {
    return this.#spec.sizeLimit > 0 && this.written > 0 &&
      this.written + payloadLength > this.#spec.sizeLimit;
  }

  /** Counts a written message: the payload, or in bulk mode `8 | len` (4.8's bitwise-or quirk). */
  count(payloadLength: number, bulk: boolean): void {
    this.written += bulk ? (HEADER | payloadLength) : payloadLength;
  }

  /**
   * Moves to the next number. Returns the number and open time of the file to delete (k−N), if any.
   * Throws {@linkcode RotationCrash} for `-S 0,N`.
   */
  advance(): { fnum: number; time: Date } | undefined {
    if (this.#spec.fileCount > 0 && this.#spec.sizeLimit === 0) {
      throw new RotationCrash("Segmentation fault");
    }
    this.fnum += 1;
    this.suffixed = true;
    this.written = 0;
    const n = this.#spec.fileCount;
    if (n === 0 || this.fnum < n) return undefined;
    const old = this.fnum - n;
    const time = this.#opened.get(old);
    this.#opened.delete(old);
    return time ? { fnum: old, time } : undefined;
  }
}
