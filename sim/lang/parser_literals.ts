/**
 * Number and string literals as stap reads them: numbers like strtoull(…, 0) within 64 bits, adjacent string
 * literals joined into one, C escapes decoded. Declarations, probe points and expressions all read literals,
 * so they sit below all of them.
 * @module
 */

import type * as A from "./ast.ts";
import type { Token } from "./lexer.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";

/** Decodes the C escapes stap leaves in string literals. */
export function decodeEscapes(raw: string): string {
  if (raw.indexOf("\\") < 0) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|[\s\S])/g, (_m, e: string) => {
    switch (e[0]) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      case "x":
        return e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : "x";
      default:
        if (e[0] >= "0" && e[0] <= "7") return String.fromCharCode(parseInt(e, 8) & 0xff);
        return e;
    }
  });
}

/** Parses a number token's text like strtoull(…, 0), or null when stap would say it is invalid. */
function parseUnsigned(text: string): bigint | null {
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = BigInt(text);
  else if (/^0[0-7]*$/.test(text)) v = text.length > 1 ? BigInt("0o" + text.slice(1)) : 0n;
  else if (/^[1-9][0-9]*$/.test(text)) v = BigInt(text);
  else return null;
  return v > 0xffffffffffffffffn ? null : v;
}

/** A string where stap requires one (adjacent literals joined), as written: escapes are not decoded. */
export function expectString(state: ParserState): string {
  const t = state.next();
  if (t.type !== "string") throw new ParseError("expected string");
  return consumeStringLiterals(state, t).raw;
}

/** A number where stap requires one, optionally negative (array sizes, `@hist_linear` bounds, …). */
export function expectNumber(state: ParserState): A.NumberLiteral {
  let t = state.next();
  const start = t;
  let neg = false;
  if (t.type === "operator" && t.content === "-") {
    neg = true;
    state.swallow();
    t = state.next();
  }
  if (t.type !== "number") throw new ParseError("expected number");
  const n = numberLiteral(t, neg, start);
  state.swallow();
  return n;
}

function numberLiteral(t: Token, neg: boolean, start: Token): A.NumberLiteral {
  const v = parseUnsigned(t.content);
  if (v === null || (neg && v > 0x8000000000000000n)) {
    throw new ParseError("number invalid or out of range");
  }
  return {
    kind: "number",
    loc: start.loc,
    value: BigInt.asIntN(64, neg ? -v : v),
    text: (neg ? "-" : "") + t.content,
  };
}

function consumeStringLiterals(state: ParserState, t: Token): A.StringLiteral {
  let raw = t.content;
  for (;;) {
    const n = state.peek();
    if (!(n && n.type === "string")) break;
    raw += n.content;
    state.next();
  }
  return { kind: "string", loc: t.loc, raw, value: decodeEscapes(raw) };
}

/** A string literal (adjacent literals joined). */
export function parseLiteralString(state: ParserState): A.StringLiteral {
  const t = state.next();
  if (t.type !== "string") throw new ParseError("expected literal string");
  return consumeStringLiterals(state, t);
}

/** A string or number literal (a number may be negative). */
export function parseLiteral(state: ParserState): A.NumberLiteral | A.StringLiteral {
  let t = state.next();
  if (t.type === "string") return consumeStringLiterals(state, t);
  const start = t;
  let neg = false;
  if (t.type === "operator" && t.content === "-") {
    neg = true;
    state.swallow();
    t = state.next();
  }
  if (t.type === "number") return numberLiteral(t, neg, start);
  throw new ParseError("expected literal string or number");
}
