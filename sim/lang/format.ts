/**
 * stap's printf: the format string is split into pieces once, at compile time (as the translator does in
 * `print_format::string_to_components`), and each conversion is rendered like the runtime's `vsprintf.c`
 * (`number()`, `_stp_vsprint_char`, `_stp_vsprint_memory`, `_stp_vsprint_binary`), byte for byte.
 * @module
 */
import { type Long, longToString, toBig, toNumber, toUnsignedBig } from "./values.ts";

/** Flag bits, as in the runtime's `enum print_flag`. */
export const LEFT = 1, PLUS = 2, SPACE = 4, SPECIAL = 8, ZEROPAD = 16, LARGE = 32, SIGN = 64;

/** One conversion of a format string. */
export interface Conversion {
  kind: "conv";
  /** The conversion letter: d i u o x X p c s b m M. */
  conv: string;
  flags: number;
  /** The field width, -1 when absent, -2 for `*` (taken from the next argument). */
  width: number;
  /** The precision, -1 when absent, -2 for `.*`. */
  precision: number;
  /** True when the argument is a string (%s), false when it is a long. */
  takesString: boolean;
}

/** A literal run of text (with `%%` already turned into `%`). */
export interface Literal {
  kind: "text";
  text: string;
}

/** A parsed format string. */
export type FormatPiece = Conversion | Literal;

/** A format string that stap rejects at translation time. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

/** Splits a printf format into literal text and conversions. */
export function parseFormat(format: string): FormatPiece[] {
  const pieces: FormatPiece[] = [];
  let text = "";
  let i = 0;
  while (i < format.length) {
    const ch = format[i];
    if (ch !== "%") {
      text += ch;
      i++;
      continue;
    }
    i++;
    let flags = 0;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === "-") flags |= LEFT;
      else if (f === "+") flags |= PLUS;
      else if (f === " ") flags |= SPACE;
      else if (f === "#") flags |= SPECIAL;
      else if (f === "0") flags |= ZEROPAD;
      else break;
    }
    let width = -1;
    if (format[i] === "*") {
      width = -2;
      i++;
    } else {
      let digits = "";
      while (i < format.length && format[i] >= "0" && format[i] <= "9") digits += format[i++];
      if (digits !== "") width = Math.min(Number(digits), 8192);
    }
    let precision = -1;
    if (format[i] === ".") {
      i++;
      if (format[i] === "*") {
        precision = -2;
        i++;
      } else {
        let digits = "";
        while (i < format.length && format[i] >= "0" && format[i] <= "9") digits += format[i++];
        precision = Math.min(digits === "" ? 0 : Number(digits), 8192);
      }
    }
    // Length modifiers are accepted and ignored: every stap integer is 64 bits.
    while (format[i] === "l" || format[i] === "L" || format[i] === "h") i++;
    const conv = format[i];
    if (conv === undefined) throw new FormatError("invalid or missing conversion specifier");
    i++;
    if (conv === "%") {
      text += "%";
      continue;
    }
    if (!"diuoxXpcsbmM".includes(conv)) throw new FormatError("invalid or missing conversion specifier");
    if (text !== "") pieces.push({ kind: "text", text });
    text = "";
    pieces.push({ kind: "conv", conv, flags, width, precision, takesString: conv === "s" });
  }
  if (text !== "") pieces.push({ kind: "text", text });
  return pieces;
}
function repeat(ch: string, n: number): string {
  return n > 0 ? ch.repeat(n) : "";
}

/** The runtime's `number()`: an integer in a base with width, precision and flags. */
export function formatNumber(
  value: Long,
  base: number,
  width: number,
  precision: number,
  flags: number,
): string {
  let type = flags;
  if (type & LEFT) type &= ~ZEROPAD;
  const pad = type & ZEROPAD ? "0" : " ";
  let size = width;
  let sign = "";
  let magnitude: bigint | number;
  if (type & SIGN) {
    if (value < 0) {
      sign = "-";
      size--;
      magnitude = typeof value === "number" ? -value : BigInt.asUintN(64, -toBig(value));
    } else {
      if (type & PLUS) {
        sign = "+";
        size--;
      } else if (type & SPACE) {
        sign = " ";
        size--;
      }
      magnitude = value;
    }
  } else {
    magnitude = value < 0 ? toUnsignedBig(value) : value;
  }
  if (type & SPECIAL) {
    if (base === 16) size -= 2;
    else if (base === 8) size--;
  }
  let digits = magnitude.toString(base);
  if (type & LARGE) digits = digits.toUpperCase();
  let prec = precision;
  if (digits.length > prec) prec = digits.length;
  size -= prec;
  let out = "";
  if (!(type & (ZEROPAD | LEFT))) out += repeat(" ", size), size = size > 0 ? 0 : size;
  out += sign;
  if (type & SPECIAL) {
    if (base === 8) out += "0";
    else if (base === 16) out += type & LARGE ? "0X" : "0x";
  }
  if (!(type & LEFT)) out += repeat(pad, size), size = size > 0 ? 0 : size;
  out += repeat("0", prec - digits.length);
  out += digits;
  out += repeat(" ", size);
  return out;
}

/** `_stp_vsprint_char`: one byte, escaped with `#`. */
export function formatChar(value: Long, width: number, flags: number): string {
  const c = toNumber(value) & 0xff;
  let body = String.fromCharCode(c);
  if (flags & SPECIAL) {
    const printable = c >= 0x20 && c < 0x7f;
    if (!printable || c === 0x27 || c === 0x5c) {
      const escapes: Record<number, string> = {
        7: "a",
        8: "b",
        12: "f",
        10: "n",
        13: "r",
        9: "t",
        11: "v",
        0x27: "'",
        0x5c: "\\",
      };
      const e = escapes[c];
      body = e !== undefined
        ? "\\" + e
        : "\\" + ((c >> 6) & 3).toString() + ((c >> 3) & 7).toString() + (c & 7).toString();
    }
  }
  const size = body.length;
  if (flags & LEFT) return body + repeat(" ", width - size);
  return repeat(" ", width - size) + body;
}

/** `%s` as `_stp_vsprint_memory` renders it (precision cuts, width pads, `0` appends a NUL byte). */
export function formatString(s: string, width: number, precision: number, flags: number): string {
  const body = precision >= 0 && precision < s.length ? s.slice(0, precision) : s;
  let out = flags & LEFT ? body + repeat(" ", width - body.length) : repeat(" ", width - body.length) + body;
  if (flags & ZEROPAD) out += "\0";
  return out;
}

/** `%b`: the value's low bytes in little-endian order (x86), as `_stp_vsprint_binary` writes them. */
export function formatBinary(value: Long, widthIn: number, precisionIn: number, flags: number): string {
  const valid = (p: number) => (p === 1 || p === 2 || p === 4 || p === 8 ? p : -1);
  let precision = valid(precisionIn);
  let width = widthIn;
  if (width === -1) {
    if (precision === -1) {
      width = 8;
      precision = 8;
    } else width = precision;
  } else if (precision === -1) {
    precision = valid(width);
    if (precision === -1) precision = 8;
  }
  let out = "";
  if (!(flags & LEFT)) out += repeat("\0", width - precision);
  const bits = BigInt.asUintN(64, toBig(value));
  for (let i = 0; i < precision; i++) out += String.fromCharCode(Number((bits >> BigInt(8 * i)) & 0xffn));
  if (flags & LEFT) out += repeat("\0", width - precision);
  return out;
}

/** `%m` (raw bytes) and `%M` (hex) of memory that the caller has read; precision is the byte count. */
export function formatMemory(bytes: string, conv: "m" | "M", width: number, flags: number): string {
  let body = bytes;
  if (conv === "M") {
    body = "";
    for (let i = 0; i < bytes.length; i++) body += (bytes.charCodeAt(i) & 0xff).toString(16).padStart(2, "0");
  }
  let out = flags & LEFT ? "" : repeat(" ", width - body.length);
  out += body;
  if (flags & LEFT) out += repeat(" ", width - body.length);
  if (flags & ZEROPAD) out += "\0";
  return out;
}

/** Renders one long conversion (everything but s, m, M) with a resolved width and precision. */
export function formatLong(c: Conversion, value: Long, width: number, precision: number): string {
  switch (c.conv) {
    case "d":
    case "i":
      if (width < 0 && precision < 0 && c.flags === 0) return longToString(value);
      return formatNumber(value, 10, width, precision, c.flags | SIGN);
    case "u":
      return formatNumber(value, 10, width, precision, c.flags);
    case "o":
      return formatNumber(value, 8, width, precision, c.flags);
    case "x":
      return formatNumber(value, 16, width, precision, c.flags);
    case "X":
      return formatNumber(value, 16, width, precision, c.flags | LARGE);
    case "p":
      // Since stap 1.3, %p is %#x on the 64-bit value.
      return formatNumber(value, 16, width, precision, c.flags | SPECIAL);
    case "c":
      return formatChar(value, width, c.flags);
    case "b":
      return formatBinary(value, width, precision, c.flags);
    default:
      throw new FormatError(`Conversion "%${c.conv}" does not take a number`);
  }
}
