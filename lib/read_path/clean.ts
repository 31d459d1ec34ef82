/**
 * The line cleaner: what stapfr prints from a recorder is whole, clean lines; what the real SystemTap 4.8 ring
 * damaged is cut out and counted (docs/real-ring.md "What stapfr cuts"). Pure and streaming: bytes in, clean
 * bytes out, any chunking, memory bounded by the longest line kept back (at most {@linkcode MAX_HELD_LINE}).
 *
 * A line (the bytes up to and including a newline) is damaged when:
 * - it holds a control byte other than TAB, CR and ESC (NUL, the other C0 bytes, DEL): the binary words the
 *   real ring leaves in the stream, such as a record's length `c4 1f 00 00`, always carry NULs. TAB, CR and
 *   ESC are kept because scripts print them (columns, `\r\n`, the `ansi_*` tapset's colours);
 * - it is not valid UTF-8 (a torn multi-byte character, binary bytes of 0x80 and up). A script that prints
 *   raw Latin-1 strings loses those lines here and keeps them with `--raw`;
 * - it belongs to the stale fragment at the start of a wrapped ring: when a damaged line *starts* with a
 *   4-byte little-endian word whose value is a possible record length (1–8192), that word is the length of a
 *   stale record from an older pass of the ring, and the bytes after it, up to that length, are the stale
 *   record's text torn off by the newest data. Everything up to and including the first newline at or after
 *   the word's end plus that length is cut: the stale lines and the torn line glued to the newest data. At
 *   most 8 KiB of the oldest good lines may go with them; no stale or torn line gets through.
 *
 * What it cannot see: a record cut short with no binary byte and no broken character, glued to the next one
 * (a too-long but well-formed line). Nothing in the bytes tells it apart from a long line the script printed.
 * @module
 */
import { isPlainText } from "./plain_text.ts";

/** Why a line was cut. */
export type DamageReason = "binary" | "invalid_utf8" | "stale";

/** What the cleaner cut, so far. */
export interface CleanCounts {
  /** Lines cut (a partial last line counts as one). */
  damaged_lines: number;
  /** Bytes cut, newlines included. */
  damaged_bytes: number;
  /** Lines cut, by reason. */
  reasons: Record<DamageReason, number>;
}

/** The largest record payload of SystemTap 4.8 (STP_BUFFER_SIZE): a stale length word is at most this. */
export const MAX_RECORD_LENGTH = 8192;

/**
 * A line longer than this is passed on as far as it was found clean instead of being held back; if damage
 * comes later in it, the rest of it is cut and a newline ends what was passed on.
 */
export const MAX_HELD_LINE = 1024 * 1024;

const NEWLINE = 0x0a;
/** Bytes that are always clean on their own: printable ASCII, TAB, CR, ESC. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PLAIN[b] = 1;
PLAIN[0x09] = PLAIN[0x0d] = PLAIN[0x1b] = 1;
const EMPTY = new Uint8Array(0);

/**
 * Cleans a byte stream line by line.
 *
 * @example The leading fragment of a wrapped ring and a line with a binary word are cut
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const cleaner = new LineCleaner();
 * const bytes = new Uint8Array([0x0c, 0, 0, 0, ...new TextEncoder().encode("7 old\n8 ol9 new\n10 new\n")]);
 * const out = new TextDecoder().decode(cleaner.push(bytes)) + new TextDecoder().decode(cleaner.finish());
 * assertEquals(out, "10 new\n");
 * assertEquals(cleaner.counts.reasons.stale, 2);
 * ```
 */
export class LineCleaner {
  #counts: CleanCounts = {
    damaged_lines: 0,
    damaged_bytes: 0,
    reasons: { binary: 0, invalid_utf8: 0, stale: 0 },
  };
  /** Bytes of the stream before the current chunk. */
  #consumed = 0;
  /** The current line's bytes from earlier chunks (copies), not yet passed on. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** The current line's start has already been passed on (a very long clean line). */
  #lineEmitted = false;
  /** Stream offset of the current line's first byte. */
  #lineStart = 0;
  /** Why the current line is damaged (undefined: clean so far). */
  #bad: DamageReason | undefined;
  /** UTF-8 continuation bytes still expected, and the range the next one must be in. */
  #need = 0;
  #lo = 0x80;
  #hi = 0xbf;
  /** Lines are stale until (and including) the first one whose newline is at or after this offset. */
  #staleThrough: number | undefined;
  /** The chunk being cleaned is not the end of its block (see {@linkcode pieces}). */
  #more = false;

  /** What was cut so far. */
  get counts(): CleanCounts {
    return { ...this.#counts, reasons: { ...this.#counts.reasons } };
  }

  /** Takes the next bytes of the stream; returns the clean lines they complete (possibly none). */
  push(chunk: Uint8Array): Uint8Array {
    return join(this.pieces(chunk));
  }

  /**
   * As {@linkcode push}, in pieces (views of `chunk` and of held lines), so that nothing is copied to join them.
   * `more`: the chunk is a step of a larger block whose rest follows; a line longer than
   * {@linkcode MAX_HELD_LINE} is let go only at a block's end, so that the output is the same however finely a
   * block is fed (lib/read_path/send_file.ts feeds its blocks in steps).
   */
  pieces(chunk: Uint8Array, more = false): Uint8Array[] {
    this.#more = more;
    try {
      return this.#pieces(chunk);
    } finally {
      this.#more = false;
    }
  }

  #pieces(chunk: Uint8Array): Uint8Array[] {
    if (!this.#pending()) {
      // Every line up to the chunk's last newline plain text: passed on whole, checked 16 bytes at a time
      // (lib/read_path/plain_text.ts: the common case, many times faster); the line not yet ended goes the
      // byte-by-byte way.
      const last = chunk.lastIndexOf(NEWLINE);
      if (last >= 0 && isPlainText(chunk.subarray(0, last + 1))) {
        this.#consumed += last + 1;
        this.#lineStart = this.#consumed;
        return [chunk.subarray(0, last + 1), ...this.#scan(chunk.subarray(last + 1))];
      }
      return this.#scan(chunk);
    }
    // A line from earlier chunks is pending: byte by byte to its end, then the rest as above.
    const first = chunk.indexOf(NEWLINE);
    if (first < 0 || first === chunk.length - 1) return this.#scan(chunk);
    return [...this.#scan(chunk.subarray(0, first + 1)), ...this.#pieces(chunk.subarray(first + 1))];
  }

  /** Whether anything of the current line is held, damaged or in a stale window (the fast path must wait). */
  #pending(): boolean {
    return this.#heldBytes > 0 || this.#lineEmitted || this.#staleThrough !== undefined || this.#need > 0 ||
      this.#bad !== undefined;
  }

  /** The byte-by-byte cleaner. */
  #scan(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let lineStartIdx = 0;
    let runStart = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      if (this.#need === 0) {
        // The common case: printable ASCII, tabs, CRs and ESCs change nothing.
        while (i < n && PLAIN[chunk[i]] === 1) i++;
        if (i === n) break;
      }
      const b = chunk[i];
      if (this.#need > 0) {
        if (b >= this.#lo && b <= this.#hi) {
          this.#need--;
          this.#lo = 0x80;
          this.#hi = 0xbf;
          continue;
        }
        // A character cut short: damaged, and this byte starts afresh.
        this.#mark("invalid_utf8");
        this.#need = 0;
      }
      if (b < 0x80) {
        if (b === NEWLINE) {
          const carried = this.#held.length > 0 || this.#lineEmitted;
          const good = this.#endLine(chunk, lineStartIdx, i + 1);
          // A clean line that lies wholly in this chunk joins the run passed on as one piece.
          if (!good || carried) {
            if (lineStartIdx > runStart) out.push(chunk.subarray(runStart, lineStartIdx));
            if (good) out.push(...this.#held, chunk.subarray(lineStartIdx, i + 1));
            else if (this.#lineEmitted) out.push(new Uint8Array([NEWLINE]));
            runStart = i + 1;
          }
          this.#resetLine(this.#consumed + i + 1);
          lineStartIdx = i + 1;
        } else if ((b < 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x1b) || b === 0x7f) {
          this.#mark("binary");
        }
        continue;
      }
      this.#lead(b);
    }
    if (lineStartIdx > runStart) out.push(chunk.subarray(runStart, lineStartIdx));
    if (lineStartIdx < n) {
      this.#held.push(chunk.slice(lineStartIdx));
      this.#heldBytes += n - lineStartIdx;
    }
    this.#consumed += n;
    if (
      !this.#more && this.#heldBytes > MAX_HELD_LINE && this.#bad === undefined && this.#need === 0 &&
      !this.#stale()
    ) {
      out.push(...this.#held);
      this.#held = [];
      this.#heldBytes = 0;
      this.#lineEmitted = true;
    }
    return out;
  }

  /** Ends the stream: returns the last line if it has no newline and is clean (else counts it). */
  finish(): Uint8Array {
    if (this.#need > 0) this.#mark("invalid_utf8");
    if (this.#heldBytes === 0) return EMPTY;
    const stale = this.#stale();
    const held = this.#held;
    const bytes = this.#heldBytes;
    this.#held = [];
    this.#heldBytes = 0;
    if (this.#bad === undefined && !stale) return join(held);
    this.#count(stale ? "stale" : this.#bad!, bytes);
    return EMPTY;
  }

  /** Whether the current line is inside a stale window. */
  #stale(): boolean {
    return this.#staleThrough !== undefined;
  }

  #lead(b: number): void {
    if (b >= 0xc2 && b <= 0xdf) this.#expect(1, 0x80, 0xbf);
    else if (b === 0xe0) this.#expect(2, 0xa0, 0xbf);
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.#expect(2, 0x80, 0xbf);
    else if (b === 0xed) this.#expect(2, 0x80, 0x9f);
    else if (b === 0xf0) this.#expect(3, 0x90, 0xbf);
    else if (b >= 0xf1 && b <= 0xf3) this.#expect(3, 0x80, 0xbf);
    else if (b === 0xf4) this.#expect(3, 0x80, 0x8f);
    else this.#mark("invalid_utf8");
  }

  #expect(need: number, lo: number, hi: number): void {
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
  }

  #mark(reason: DamageReason): void {
    // Binary bytes say more than a broken character: they name the line's damage when both are there.
    if (this.#bad === undefined || reason === "binary") this.#bad = reason;
  }

  /** The line `chunk[from, to)` (after what is held) ends: counts it if damaged; true when it is clean. */
  #endLine(chunk: Uint8Array, from: number, to: number): boolean {
    if (this.#need > 0) {
      this.#mark("invalid_utf8");
      this.#need = 0;
    }
    const newlineAt = this.#consumed + to - 1;
    const length = this.#heldBytes + (to - from);
    if (this.#staleThrough !== undefined) {
      if (newlineAt >= this.#staleThrough) this.#staleThrough = undefined;
      this.#count("stale", length);
      return false;
    }
    if (this.#bad === undefined) return true;
    if (this.#bad === "binary" && !this.#lineEmitted) {
      const word = this.#leadingWord(chunk, from, to);
      if (word !== undefined && word >= 1 && word <= MAX_RECORD_LENGTH) {
        // A stale record's length at the start of a line: its text and the torn line after it go too.
        const through = this.#lineStart + 4 + word;
        if (newlineAt < through) this.#staleThrough = through;
        this.#count("stale", length);
        return false;
      }
    }
    this.#count(this.#bad, length);
    return false;
  }

  /** The little-endian uint32 at the start of the current line, if the line has 4 bytes. */
  #leadingWord(chunk: Uint8Array, from: number, to: number): number | undefined {
    const bytes: number[] = [];
    for (const part of this.#held) {
      for (let i = 0; i < part.length && bytes.length < 4; i++) bytes.push(part[i]);
    }
    for (let i = from; i < to && bytes.length < 4; i++) bytes.push(chunk[i]);
    if (bytes.length < 4) return undefined;
    return (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  }

  #count(reason: DamageReason, bytes: number): void {
    this.#counts.damaged_lines++;
    this.#counts.damaged_bytes += bytes;
    this.#counts.reasons[reason]++;
  }

  #resetLine(start: number): void {
    this.#held = [];
    this.#heldBytes = 0;
    this.#lineEmitted = false;
    this.#lineStart = start;
    this.#bad = undefined;
    this.#need = 0;
  }
}

/** One array from pieces (no copy for one piece). */
function join(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 0) return EMPTY;
  if (pieces.length === 1) return pieces[0];
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
