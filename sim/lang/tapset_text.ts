/**
 * The runtime's `_stp_text_str` (stp_string.c), behind `text_str`, `text_strn`, `string_quoted` and
 * `user_buffer_quoted`: escapes unprintable bytes, `\uXXXX` for valid UTF-8, optional quotes with `"...` on
 * truncation. Strings are byte strings (char codes 0..255).
 * @module
 */

const SHORT_ESCAPES: Record<number, string> = {
  7: "a",
  8: "b",
  12: "f",
  10: "n",
  13: "r",
  9: "t",
  11: "v",
  0x22: '"',
  0x5c: "\\",
};

/** Decodes one UTF-8 character at i like `_stp_decode_utf8`: [code point, bytes used]. */
function decodeUtf8(s: string, i: number, size: number): [number, number] {
  const b = s.charCodeAt(i) & 0xff;
  let n: number, c: number;
  if ((b & 0xe0) === 0xc0 && size >= 2) (n = 2), (c = b & 0x1f);
  else if ((b & 0xf0) === 0xe0 && size >= 3) (n = 3), (c = b & 0xf);
  else if ((b & 0xf8) === 0xf0 && size >= 4) (n = 4), (c = b & 0x7);
  else return [b, 1];
  for (let k = 1; k < n; k++) {
    const b2 = s.charCodeAt(i + k) & 0xff;
    if ((b2 & 0xc0) !== 0x80) return [b, 1];
    c = (c << 6) | (b2 & 0x3f);
  }
  if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) return [b, 1];
  if (c < 0x80 || (n === 3 && c < 0x800) || (n === 4 && c < 0x10000)) return [b, 1];
  return [c, n];
}

/**
 * `_stp_text_str(out, in, inlen, outlen, quoted, user, buffer)`. With `buffer`, NUL bytes are data (the
 * input is `inlen` bytes, missing bytes read as NUL); without it a NUL ends the string.
 */
export function textStr(
  input: string,
  inlenIn: number,
  outlenIn: number,
  quoted: boolean,
  buffer: boolean,
): string {
  let inlen = inlenIn <= 0 || inlenIn > 511 ? 511 : inlenIn;
  let outlen = outlenIn <= 0 || outlenIn > 511 ? 511 : outlenIn;
  if (!buffer && inlen > input.length) inlen = input.length + 1; // the terminating NUL stops the loop
  let out = "";
  if (quoted) {
    outlen = Math.max(outlen, 5) - 2;
    out = '"';
  }
  let esc = -1, escLen = 0;
  let c = 0;
  let i = 0;
  while (inlen > 0) {
    let n: number;
    if (i < input.length) [c, n] = decodeUtf8(input, i, Math.min(inlen, input.length - i));
    else (c = 0), (n = 1);
    if ((c === 0 && !buffer) || outlen <= 0) break;
    i += n;
    inlen -= n;
    let piece: string;
    if (n > 1) {
      const digits = c <= 0xffff ? 4 : 8;
      piece = "\\" + (c <= 0xffff ? "u" : "U") + c.toString(16).padStart(digits, "0");
    } else if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      piece = String.fromCharCode(c);
    } else if (SHORT_ESCAPES[c] !== undefined) {
      piece = "\\" + SHORT_ESCAPES[c];
    } else if (c === 0) {
      // The runtime sizes a NUL as an octal escape (4 bytes) but writes "\0" (2 bytes).
      piece = "\\0";
    } else {
      piece = "\\" + ((c >> 6) & 3) + ((c >> 3) & 7) + (c & 7);
    }
    const num = c === 0 && n === 1 ? 4 : piece.length;
    if (num > 1 && esc < 0 && outlen - 3 < num) (esc = out.length), (escLen = num);
    if (outlen < num) break;
    out += piece;
    outlen -= num;
  }
  if (quoted) {
    if (c !== 0 && inlen > 0) {
      const trunc = out.length - 3 + outlen;
      out = esc >= 0 && esc < trunc && trunc < esc + escLen ? out.slice(0, esc) : out.slice(0, trunc);
      out += '"...';
    } else out += '"';
  }
  return out;
}
