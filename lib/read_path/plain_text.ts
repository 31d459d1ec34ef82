/**
 * Whether bytes are plain text, the line cleaner's fast path (lib/read_path/clean.ts): no byte of 0x80 and up,
 * no control byte but TAB, LF, CR and ESC, no DEL. It is asked of every byte a text read passes on, so its
 * speed is the read's: in JavaScript, four bytes at a time, it ran at 1.6 to 2.1 GB/s on the benchmark's
 * machine, below `cat` through a pipe (about 2.5 GB/s), and was most of a text file dump's time
 * (bench/dump.ts). Here it is a small WebAssembly function that looks at 16 bytes per instruction (SIMD), about
 * 8 GB/s there, the bytes it checks in WebAssembly memory: a reader that reads into a
 * {@linkcode plainTextBuffer} has them checked where they are; other bytes are copied into a scratch memory
 * first (a copy costs less than the check in JavaScript). Where WebAssembly or its SIMD is missing (an old
 * CPU, V8 run with WebAssembly off), the JavaScript check answers, the same way.
 *
 * The module is written out below, byte by byte with its text form beside it, instead of shipped as a binary:
 * it is small, and what it does stays readable and reviewable.
 * @module
 */

/** The function's text form (WAT), for reading; {@linkcode wasmModule} is the same, encoded. */
export const PLAIN_WAT = `(module
  (import "env" "memory" (memory 1))
  ;; 1 when every byte of [p, p + (n & ~15)) is plain text, else 0; the caller checks the last n & 15 bytes.
  (func (export "plain") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $v v128) (local $c20 v128) (local $c7f v128)
    (local $c09 v128) (local $c0a v128) (local $c0d v128) (local $c1b v128)
    ;; the constants, once: 0x20, DEL, and the four control bytes text may hold (TAB, LF, CR, ESC)
    (local.set $c20 (i8x16.splat (i32.const 0x20))) ... (local.set $c1b (i8x16.splat (i32.const 0x1b)))
    ;; 64 bytes a round: a byte is bad when it is below 0x20 as a signed byte (so 0x80 and up too) or DEL,
    ;; and is not one of the four; the four vectors' bad bytes are or-ed and looked at once
    (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -64))))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
      (if (v128.any_true (v128.or (v128.or BAD(p + 0) BAD(p + 16)) (v128.or BAD(p + 32) BAD(p + 48))))
        (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br 0)))
    ;; then 16 at a time, up to n & ~15
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $n) (i32.const 48))))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
      (if (v128.any_true BAD(p)) (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br 0)))
    (i32.const 1)))
;; BAD(a) = (local.set $v (v128.load offset=… (local.get $p)))
;;   (v128.andnot (v128.or (i8x16.lt_s $v $c20) (i8x16.eq $v $c7f))
;;                (v128.or (v128.or (i8x16.eq $v $c09) (i8x16.eq $v $c0a))
;;                         (v128.or (i8x16.eq $v $c0d) (i8x16.eq $v $c1b))))`;

/** Unsigned LEB128, as WebAssembly encodes sizes and indices. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, as `i32.const` takes its value. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

// Opcodes (the WebAssembly core specification, and its SIMD proposal for those after the 0xfd prefix).
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, RETURN = 0x0f;
const EMPTY_TYPE = 0x40;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21;
const I32_CONST = 0x41, I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_AND = 0x71;
const I32 = 0x7f, V128 = 0x7b;
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const V128_LOAD = 0x00, I8X16_SPLAT = 0x0f, I8X16_EQ = 0x23, I8X16_LT_S = 0x25;
const V128_ANDNOT = 0x4f, V128_OR = 0x50, V128_ANY_TRUE = 0x53;

// Locals: the two parameters, then $end, $v and the six constants.
const P = 0, N = 1, END_AT = 2, V = 3, C20 = 4, C7F = 5, C09 = 6, C0A = 7, C0D = 8, C1B = 9;

const get = (local: number): number[] => [LOCAL_GET, local];
const set = (local: number): number[] => [LOCAL_SET, local];
const i32 = (value: number): number[] => [I32_CONST, ...sleb(value)];

/** BAD(p + offset): the vector's bad bytes as 0xff lanes, left on the stack. */
function bad(offset: number): number[] {
  const eq = (c: number) => [...get(V), ...get(c), ...simd(I8X16_EQ)];
  return [
    ...get(P),
    ...simd(V128_LOAD),
    0, // alignment hint: none (the bytes may start anywhere)
    ...uleb(offset),
    ...set(V),
    ...get(V),
    ...get(C20),
    ...simd(I8X16_LT_S),
    ...eq(C7F),
    ...simd(V128_OR),
    ...eq(C09),
    ...eq(C0A),
    ...simd(V128_OR),
    ...eq(C0D),
    ...simd(V128_OR),
    ...eq(C1B),
    ...simd(V128_OR),
    ...simd(V128_ANDNOT),
  ];
}

/** `(block (loop (br_if 1 (p >= end)) (if (any_true test) (return 0)) (p += step) (br 0)))`. */
function rounds(test: number[], step: number): number[] {
  return [
    BLOCK,
    EMPTY_TYPE,
    LOOP,
    EMPTY_TYPE,
    ...get(P),
    ...get(END_AT),
    I32_GE_U,
    BR_IF,
    1,
    ...test,
    ...simd(V128_ANY_TRUE),
    IF,
    EMPTY_TYPE,
    ...i32(0),
    RETURN,
    END,
    ...get(P),
    ...i32(step),
    I32_ADD,
    ...set(P),
    BR,
    0,
    END,
    END,
  ];
}

/** The function's body: its locals, then {@linkcode PLAIN_WAT}'s instructions. */
function plainBody(): number[] {
  const constant = (local: number, byte: number) => [...i32(byte), ...simd(I8X16_SPLAT), ...set(local)];
  return [
    2, // two runs of locals
    1,
    I32, // $end
    7,
    V128, // $v and the six constants
    ...constant(C20, 0x20),
    ...constant(C7F, 0x7f),
    ...constant(C09, 0x09),
    ...constant(C0A, 0x0a),
    ...constant(C0D, 0x0d),
    ...constant(C1B, 0x1b),
    ...get(P),
    ...get(N),
    ...i32(-64),
    I32_AND,
    I32_ADD,
    ...set(END_AT),
    ...rounds([
      ...bad(0),
      ...bad(16),
      ...simd(V128_OR),
      ...bad(32),
      ...bad(48),
      ...simd(V128_OR),
      ...simd(V128_OR),
    ], 64),
    ...get(END_AT),
    ...get(N),
    ...i32(48),
    I32_AND,
    I32_ADD,
    ...set(END_AT),
    ...rounds(bad(0), 16),
    ...i32(1),
    END,
  ];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

/** The module. It imports its memory (`env.memory`, one page or more): one compiled module serves every size. */
export function wasmModule(): Uint8Array<ArrayBuffer> {
  const body = plainBody();
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]), // one type: (i32, i32) -> i32
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]), // import a memory, min 1 page
    ...section(3, [1, 0]), // one function, of that type
    ...section(7, [1, ...name("plain"), 0x00, 0]), // export it
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

const PAGE = 64 * 1024;
/** The scratch memory for bytes that live elsewhere: checked a slice at a time. */
const SCRATCH = 2 * PAGE;

type Plain = (p: number, n: number) => number;

/** The check of each WebAssembly memory, by its buffer: bytes in one are checked where they are. */
const checkers = new WeakMap<ArrayBufferLike, Plain>();
/** The compiled module; null where WebAssembly (or its SIMD) is not available. */
let compiled: WebAssembly.Module | null | undefined;
let scratch: { bytes: Uint8Array; plain: Plain } | null | undefined;

/**
 * A memory of `pages` with its check, or null where WebAssembly is not available. The memory never grows: a
 * grown memory gets a new buffer, and every view of the old one would be left empty.
 */
function instance(pages: number): { memory: WebAssembly.Memory; plain: Plain } | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(wasmModule());
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return null;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const plain = new WebAssembly.Instance(compiled, { env: { memory } }).exports.plain as Plain;
  checkers.set(memory.buffer, plain);
  return { memory, plain };
}

/**
 * A buffer of `size` bytes whose contents {@linkcode isPlainText} checks in place: a reader that reads into it
 * saves the copy into scratch memory. An ordinary array where WebAssembly is not available.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const buffer = plainTextBuffer(4096);
 * buffer.set(new TextEncoder().encode("a line\twith a tab\n"));
 * assertEquals(isPlainText(buffer.subarray(0, 18)), true);
 * buffer[3] = 0;
 * assertEquals(isPlainText(buffer.subarray(0, 18)), false);
 * ```
 */
export function plainTextBuffer(size: number): Uint8Array<ArrayBuffer> {
  const made = instance(Math.max(1, Math.ceil(size / PAGE)));
  // Not shared: the memory is made without `shared`.
  return made ? new Uint8Array(made.memory.buffer as ArrayBuffer, 0, size) : new Uint8Array(size);
}

/**
 * Whether every byte is plain text: printable ASCII, TAB, LF, CR or ESC.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const text = (s: string) => new TextEncoder().encode(s);
 * assertEquals(isPlainText(text("12 vfs_read\tok\r\n\x1b[1mbold\x1b[0m\n")), true);
 * assertEquals(isPlainText(text("café\n")), false); // UTF-8 goes the cleaner's byte-by-byte way
 * assertEquals(isPlainText(new Uint8Array([0x41, 0x00, 0x0a])), false);
 * ```
 */
export function isPlainText(bytes: Uint8Array): boolean {
  const inPlace = checkers.get(bytes.buffer);
  if (inPlace) return checkInPlace(inPlace, bytes);
  // Short runs: not worth a call out.
  if (bytes.length < 64) return plainTextJs(bytes);
  if (scratch === undefined) {
    const made = instance(SCRATCH / PAGE);
    scratch = made && { bytes: new Uint8Array(made.memory.buffer, 0, SCRATCH), plain: made.plain };
  }
  if (scratch === null) return plainTextJs(bytes);
  for (let at = 0; at < bytes.length; at += SCRATCH) {
    const slice = bytes.subarray(at, at + SCRATCH);
    scratch.bytes.set(slice);
    if (!checkInPlace(scratch.plain, scratch.bytes.subarray(0, slice.length))) return false;
  }
  return true;
}

function checkInPlace(plain: Plain, bytes: Uint8Array): boolean {
  const whole = bytes.length & ~15;
  if (whole > 0 && plain(bytes.byteOffset, bytes.length) === 0) return false;
  for (let i = whole; i < bytes.length; i++) if (!textByte(bytes[i])) return false;
  return true;
}

/** Bytes that are always clean on their own: printable ASCII, TAB, CR, ESC (and LF, handled apart). */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x7f; b++) PLAIN[b] = 1;
PLAIN[0x09] =
  PLAIN[0x0a] =
  PLAIN[0x0d] =
  PLAIN[0x1b] =
    1;

/** A byte of plain text: printable ASCII, TAB, LF, CR, ESC. */
function textByte(b: number): boolean {
  return PLAIN[b] === 1;
}

/**
 * The check in JavaScript, four bytes at a time (bit tricks that flag a word holding a byte under 0x20 or a
 * DEL), byte by byte only in the words they flag: where WebAssembly is not available, and for short runs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(plainTextJs(new TextEncoder().encode("ok\tfine\n")), true);
 * assertEquals(plainTextJs(new Uint8Array([0x6f, 0x7f, 0x0a])), false);
 * ```
 */
export function plainTextJs(lines: Uint8Array): boolean {
  const head = Math.min((4 - (lines.byteOffset % 4)) % 4, lines.length);
  for (let b = 0; b < head; b++) if (!textByte(lines[b])) return false;
  const words = Math.max(0, Math.floor((lines.length - head) / 4));
  const view = new Uint32Array(lines.buffer, lines.byteOffset + head, words);
  for (let i = 0; i < words; i++) {
    const w = view[i];
    if ((w & 0x80808080) !== 0) return false;
    const low = (w - 0x20202020) & ~w & 0x80808080;
    const x = w ^ 0x7f7f7f7f;
    const del = (x - 0x01010101) & ~x & 0x80808080;
    if ((low | del) !== 0) {
      const at = head + i * 4;
      for (let b = at; b < at + 4; b++) if (!textByte(lines[b])) return false;
    }
  }
  for (let b = head + words * 4; b < lines.length; b++) if (!textByte(lines[b])) return false;
  return true;
}
