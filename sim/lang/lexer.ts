/**
 * The SystemTap 4.8 lexer: turns script text into tokens the way stap's `lexer::scan` does (same token kinds,
 * same operators, comments `#`, `//`, `/* *\/`, embedded C `%{ … %}`, string escapes kept as written, and the
 * command-line arguments `$1`/`@1`/`$#`/`@#` pasted into the input as raw text or as a quoted string).
 *
 * Malformed input never throws here: it becomes a `junk` token that the parser reports where it meets it.
 * @module
 */

import type { SourceLoc } from "./ast.ts";

/** Token kinds, named as stap prints them in error messages. */
export type TokenType =
  | "junk"
  | "identifier"
  | "operator"
  | "string"
  | "number"
  | "embedded-code"
  | "keyword";

/** Why a token is junk (each has its own message). */
export type JunkKind = "nested_arg" | "invalid_arg" | "unclosed_quote" | "unclosed_embedded" | "unknown";

/** One token. `content` is the text (for strings: between the quotes, escapes as stap keeps them). */
export interface Token {
  type: TokenType;
  content: string;
  loc: SourceLoc;
  /** Whitespace or a comment came right before this token. */
  spaceBefore: boolean;
  /** A comment came right before this token. */
  commentBefore: boolean;
  junk?: JunkKind;
  /** The macro invocation this token was expanded from, if any. */
  chain?: Token;
}

/** The reserved words of the language (4.8, with `private` since 3.0). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "probe",
  "global",
  "private",
  "function",
  "if",
  "else",
  "for",
  "foreach",
  "in",
  "limit",
  "return",
  "delete",
  "while",
  "break",
  "continue",
  "next",
  "string",
  "long",
  "try",
  "catch",
]);

/** The built-in `@` operators (a macro of the same name draws a warning). */
export const AT_WORDS: ReadonlySet<string> = new Set([
  "cast",
  "defined",
  "probewrite",
  "entry",
  "perf",
  "var",
  "avg",
  "count",
  "sum",
  "min",
  "max",
  "hist_linear",
  "hist_log",
  "const",
  "variance",
  "kregister",
  "uregister",
  "kderef",
  "uderef",
]);

const THREE_CHAR_OPS = new Set(["<<<", ">>>", "<<=", ">>="]);
const TWO_CHAR_OPS = new Set([
  "==",
  "!=",
  "<=",
  ">=",
  "=~",
  "!~",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "^=",
  "|=",
  ".=",
  "&&",
  "||",
  "++",
  "--",
  "->",
  "<<",
  ">>",
  "%(",
  "%?",
  "%:",
  "%)",
]);

// Character classes of the C locale, as stap's isalpha/isdigit/ispunct/isspace see them.
const CLASS_SPACE = 1, CLASS_DIGIT = 2, CLASS_ALPHA = 4, CLASS_PUNCT = 8;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c === 32 || (c >= 9 && c <= 13)) CHAR_CLASS[c] = CLASS_SPACE;
  else if (c >= 48 && c <= 57) CHAR_CLASS[c] = CLASS_DIGIT;
  else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) CHAR_CLASS[c] = CLASS_ALPHA;
  else if (c > 32 && c < 127) CHAR_CLASS[c] = CLASS_PUNCT;
}
function charClass(c: number): number {
  return c >= 0 && c < 128 ? CHAR_CLASS[c] : 0;
}
function isDigit(c: number): boolean {
  return charClass(c) === CLASS_DIGIT;
}
function isAlnum(c: number): boolean {
  return (charClass(c) & (CLASS_DIGIT | CLASS_ALPHA)) !== 0;
}

/** Quotes a command-line argument for `@N` the way stap's lex_cast_qstring does. */
export function quoteArgument(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else out += ch;
  }
  return out + '"';
}

/** The text of a junk token's error message (stap's token::junk_message). */
export function junkMessage(kind: JunkKind, argCount: number): string {
  switch (kind) {
    case "nested_arg":
      return "invalid nested substitution of command line arguments";
    case "invalid_arg":
      return `command line argument out of range [1-${argCount}]`;
    case "unclosed_quote":
      return "Could not find matching closing quote";
    case "unclosed_embedded":
      return "Could not find matching '%}' to close embedded function block";
    default:
      return "unknown junk token";
  }
}

/** Scans one file into tokens on demand. */
export class Lexer {
  readonly file: string;
  /** The positional arguments (`$1` is `args[0]`). */
  readonly args: readonly string[];
  /** True once any token was found (stap tells an empty file from one emptied by preprocessing). */
  sawTokens = false;
  private input: string;
  private pos = 0;
  private line = 1;
  private column = 1;
  // Pasted argument text keeps the place of the `$N` that produced it (stap's cursor suspension).
  private suspendCount = 0;
  private suspendLine = 1;
  private suspendColumn = 1;

  constructor(source: string, file: string, args: readonly string[] = []) {
    this.input = source;
    this.file = file;
    this.args = args;
  }

  /** The text of the given 1-based line of the original file (for error messages). */
  static lineText(source: string, line: number): string {
    let start = 0;
    for (let l = 1; l < line; l++) {
      const nl = source.indexOf("\n", start);
      if (nl < 0) return "";
      start = nl + 1;
    }
    const end = source.indexOf("\n", start);
    return source.slice(start, end < 0 ? source.length : end);
  }

  private peekChar(n = 0): number {
    const p = this.pos + n;
    return p < this.input.length ? this.input.charCodeAt(p) : -1;
  }

  private getChar(): number {
    if (this.pos >= this.input.length) return -1;
    const c = this.input.charCodeAt(this.pos++);
    if (this.suspendCount > 0) {
      if (--this.suspendCount === 0) {
        this.line = this.suspendLine;
        this.column = this.suspendColumn;
      }
    } else if (c === 10) {
      this.line++;
      this.column = 1;
    } else {
      this.column++;
    }
    return c;
  }

  private put(text: string, at: SourceLoc): void {
    this.input = this.input.slice(0, this.pos) + text + this.input.slice(this.pos);
    this.suspendCount += text.length;
    this.suspendLine = this.line;
    this.suspendColumn = this.column;
    this.line = at.line;
    this.column = at.column;
  }

  /** The next token, or null at the end of the input. */
  scan(): Token | null {
    const oldSaw = this.sawTokens;
    this.sawTokens = true;
    let spaceBefore = false;
    let commentBefore = false;
    for (;;) {
      const suspended = this.suspendCount > 0;
      const loc: SourceLoc = { file: this.file, line: this.line, column: this.column };
      const make = (type: TokenType, content: string, junk?: JunkKind): Token => {
        const t: Token = { type, content, loc, spaceBefore, commentBefore };
        if (junk) t.junk = junk;
        return t;
      };
      let c = this.getChar();
      if (c < 0) {
        this.sawTokens = oldSaw;
        return null;
      }
      if (charClass(c) === CLASS_SPACE) {
        spaceBefore = true;
        continue;
      }
      let c2 = this.peekChar();

      if ((c === 36 || c === 64) && c2 === 35) { // $# @#
        this.getChar();
        if (suspended) return make("junk", "", "nested_arg");
        const n = String(this.args.length);
        this.put(c === 36 ? n : quoteArgument(n), loc);
        continue;
      }
      if ((c === 36 || c === 64) && isDigit(c2)) { // $N @N
        let idx = 0;
        do {
          this.getChar();
          idx = idx * 10 + (c2 - 48);
          c2 = this.peekChar();
        } while (c2 > 0 && isDigit(c2) && idx <= this.args.length);
        if (suspended) return make("junk", "", "nested_arg");
        if (idx === 0 || idx - 1 >= this.args.length) return make("junk", "", "invalid_arg");
        const arg = this.args[idx - 1];
        this.put(c === 36 ? arg : quoteArgument(arg), loc);
        continue;
      }
      const cls = charClass(c);
      if (cls === CLASS_ALPHA || c === 36 || c === 64 || c === 95) {
        const start = this.pos - 1;
        while (isAlnum(c2) || c2 === 95 || c2 === 36) {
          this.getChar();
          c2 = this.peekChar();
        }
        const text = this.input.slice(start, this.pos);
        if (c === 64) return make("operator", text);
        return make(KEYWORDS.has(text) ? "keyword" : "identifier", text);
      }
      if (cls === CLASS_DIGIT) {
        const start = this.pos - 1;
        while (isAlnum(c2)) {
          this.getChar();
          c2 = this.peekChar();
        }
        return make("number", this.input.slice(start, this.pos));
      }
      if (c === 34) { // "
        let text = "";
        for (;;) {
          c = this.getChar();
          if (c < 0 || c === 10) return make("junk", '"' + text, "unclosed_quote");
          if (c === 34) break;
          if (c === 92) {
            c = this.getChar();
            // These escapes are passed through to C; any other backslash is dropped.
            if (
              c === 120 || c === 97 || c === 98 || c === 116 || c === 110 || c === 118 || c === 102 ||
              c === 114 || (c >= 48 && c <= 55) || c === 92
            ) {
              text += "\\";
            }
            if (c >= 0) text += String.fromCharCode(c);
            else return make("junk", '"' + text, "unclosed_quote");
          } else {
            text += String.fromCharCode(c);
          }
        }
        return make("string", text);
      }
      if (cls === CLASS_PUNCT) {
        if (c === 35 || (c === 47 && c2 === 47)) { // # and // comments
          const thisLine = this.line;
          do c = this.getChar(); while (c >= 0 && this.line === thisLine);
          spaceBefore = commentBefore = true;
          continue;
        }
        if (c === 47 && c2 === 42) { // /* comment */
          this.getChar();
          c = this.getChar();
          c2 = this.getChar();
          while (c2 >= 0) {
            if (c === 42 && c2 === 47) break;
            c = c2;
            c2 = this.getChar();
          }
          spaceBefore = commentBefore = true;
          continue;
        }
        if (c === 37 && c2 === 123) { // %{ embedded code %}
          this.getChar();
          const start = this.pos;
          c = this.getChar();
          c2 = this.getChar();
          while (c2 >= 0) {
            if (c === 37 && c2 === 125) return make("embedded-code", this.input.slice(start, this.pos - 2));
            c = c2;
            c2 = this.getChar();
          }
          return make("junk", "%{" + this.input.slice(start), "unclosed_embedded");
        }
        const three = this.input.slice(this.pos - 1, this.pos + 2);
        if (THREE_CHAR_OPS.has(three)) {
          this.getChar();
          this.getChar();
          return make("operator", three);
        }
        const two = three.slice(0, 2);
        if (TWO_CHAR_OPS.has(two)) {
          this.getChar();
          return make("operator", two);
        }
        return make("operator", String.fromCharCode(c));
      }
      const hex = "\\x" + (c < 256 ? c.toString(16).padStart(2, "0") : c.toString(16));
      return make("junk", hex, "unknown");
    }
  }
}
