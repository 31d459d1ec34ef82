/**
 * The conditions of stap's `%( CONDITION %? … %)` conditionals, evaluated for a target as stap 4.8's
 * `eval_pp_conditional` does: one `LEFT OP RIGHT` comparison of `kernel_v`, `kernel_vr` and `systemtap_v`
 * (glibc's strverscmp order, or fnmatch wildcards with `==`/`!=`), `arch` and `runtime` (fnmatch),
 * `systemtap_privilege`, `guru_mode`, `CONFIG_…` options (strings, numbers, or against each other), and literals.
 * The preprocessor (`preprocess.ts`) joins them with `&&` and `||`.
 * @module
 */

import type { Token } from "./lexer.ts";
import { FatalError, ParseError } from "./parse_error.ts";

/** The target the conditionals are evaluated for. */
export interface TargetOptions {
  /** `uname -r` of the target, e.g. `6.1.0-18-amd64`; `kernel_v` is the part before the first `-`. */
  kernelRelease: string;
  /** stap's architecture name, e.g. `x86_64`, `arm64`, `i386`. */
  arch: string;
  /** The kernel configuration (`CONFIG_X` → `y`, `m`, a number or a string). */
  config: Record<string, string>;
  /** `systemtap_v` (stap's `--compatible`), "4.8" by default. */
  systemtapVersion: string;
  /** `runtime`: "kernel" (also "dyninst", "bpf"). */
  runtime: string;
  /** `systemtap_privilege`: "stapdev" (root or stapdev group), "stapsys" or "stapusr". */
  privilege: "stapdev" | "stapsys" | "stapusr";
  /** Guru mode (`-g`): `guru_mode` is 1 and embedded C is accepted. */
  guru: boolean;
}

/** Defaults matching a Debian 12 host running stap 4.8 as root. */
export const DEFAULT_TARGET: TargetOptions = {
  kernelRelease: "6.1.0-sim",
  arch: "x86_64",
  config: {},
  systemtapVersion: "4.8",
  runtime: "kernel",
  privilege: "stapdev",
  guru: false,
};

/** glibc's strverscmp: version-aware string order (`"2.6.9" < "2.6.10"`). Returns -1, 0 or 1. */
export function strverscmp(s1: string, s2: string): number {
  const S_N = 0, S_I = 3, S_F = 6, S_Z = 9, CMP = 2, LEN = 3;
  const nextState = [S_N, S_I, S_Z, S_N, S_I, S_I, S_N, S_F, S_F, S_N, S_F, S_Z];
  const resultType = [
    CMP,
    CMP,
    CMP,
    CMP,
    LEN,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    -1,
    -1,
    +1,
    LEN,
    LEN,
    +1,
    LEN,
    LEN,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    CMP,
    +1,
    +1,
    -1,
    CMP,
    CMP,
    -1,
    CMP,
    CMP,
  ]; // deno-fmt-ignore
  if (s1 === s2) return 0;
  const at = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : 0);
  const digit = (c: number): boolean => c >= 48 && c <= 57;
  const cls = (c: number): number => (c === 48 ? 1 : 0) + (digit(c) ? 1 : 0);
  let i = 0;
  let c1 = at(s1, i), c2 = at(s2, i);
  i++;
  let state = S_N + cls(c1);
  let diff: number;
  while ((diff = c1 - c2) === 0) {
    if (c1 === 0) return 0;
    state = nextState[state];
    c1 = at(s1, i);
    c2 = at(s2, i);
    i++;
    state += cls(c1);
  }
  const result = resultType[state * 3 + cls(c2)];
  if (result === CMP) return Math.sign(diff);
  if (result === LEN) {
    let p1 = i, p2 = i;
    while (digit(at(s1, p1++))) if (!digit(at(s2, p2++))) return 1;
    return digit(at(s2, p2)) ? -1 : Math.sign(diff);
  }
  return result;
}

const globCache = new Map<string, RegExp>();

/** fnmatch(3) with FNM_NOESCAPE: `*`, `?` and `[…]` (with `!`/`^` negation); true when it matches. */
export function fnmatch(pattern: string, text: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    let src = "^";
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i];
      if (ch === "*") src += "[\\s\\S]*";
      else if (ch === "?") src += "[\\s\\S]";
      else if (ch === "[") {
        let j = i + 1;
        let negate = false;
        if (pattern[j] === "!" || pattern[j] === "^") {
          negate = true;
          j++;
        }
        let body = "";
        if (pattern[j] === "]") {
          body += "\\]";
          j++;
        }
        while (j < pattern.length && pattern[j] !== "]") {
          const cj = pattern[j];
          body += cj === "\\" || cj === "^" || cj === "[" ? "\\" + cj : cj;
          j++;
        }
        if (j >= pattern.length) src += "\\["; // no closing bracket: a literal '['
        else {
          src += "[" + (negate ? "^" : "") + body + "]";
          i = j;
        }
      } else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
    re = new RegExp(src + "$");
    globCache.set(pattern, re);
  }
  return re.test(text);
}

function compare<T extends number | bigint | string>(l: T, op: Token, r: T): boolean {
  if (op.type === "operator") {
    switch (op.content) {
      case "<=":
        return l <= r;
      case ">=":
        return l >= r;
      case "<":
        return l < r;
      case ">":
        return l > r;
      case "==":
        return l === r;
      case "!=":
        return l !== r;
    }
  }
  throw new ParseError("expected comparison operator", op);
}

/** strtoll(s, &end, 0) that must use the whole string; null when it does not parse. */
function parseConfigNumber(s: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const v = BigInt(m[2].length > 1 && m[2][0] === "0" && !/[xX]/.test(m[2]) ? "0o" + m[2].slice(1) : m[2]);
  const signed = m[1] === "-" ? -v : v;
  if (signed > 0x7fffffffffffffffn || signed < -0x8000000000000000n) return null;
  return signed;
}

/** lex_cast<int64_t>: a decimal number as written in a preprocessor condition (else stap dies). */
function lexCastNumber(t: Token): bigint {
  if (!/^[0-9]+$/.test(t.content)) throw new FatalError("bad lexical cast");
  const v = BigInt(t.content);
  if (v > 0x7fffffffffffffffn) throw new FatalError("bad lexical cast");
  return v;
}

/** Evaluates one `LEFT OP RIGHT` preprocessor condition (stap's eval_pp_conditional). */
export function evalCondition(target: TargetOptions, l: Token, op: Token, r: Token): boolean {
  if (
    l.type === "identifier" &&
    (l.content === "kernel_v" || l.content === "kernel_vr" || l.content === "systemtap_v")
  ) {
    if (r.type !== "string") throw new ParseError("expected string literal", r);
    const dash = target.kernelRelease.indexOf("-");
    const subject = l.content === "kernel_v"
      ? (dash < 0 ? target.kernelRelease : target.kernelRelease.slice(0, dash))
      : l.content === "kernel_vr"
      ? target.kernelRelease
      : target.systemtapVersion;
    const query = r.content;
    const wildcard = /[*?[]/.test(query);
    let ok1: number, ok2: number, wildcardOk = false;
    switch (op.type === "operator" ? op.content : "") {
      case "<=":
        [ok1, ok2] = [-1, 0];
        break;
      case ">=":
        [ok1, ok2] = [1, 0];
        break;
      case "<":
        [ok1, ok2] = [-1, -1];
        break;
      case ">":
        [ok1, ok2] = [1, 1];
        break;
      case "==":
        [ok1, ok2, wildcardOk] = [0, 0, true];
        break;
      case "!=":
        [ok1, ok2, wildcardOk] = [-1, 1, true];
        break;
      default:
        throw new ParseError("expected comparison operator", op);
    }
    if (!wildcardOk && wildcard) {
      throw new ParseError("wildcard not allowed with order comparison operators", op);
    }
    if (wildcard) return fnmatch(query, subject) === (op.content === "==");
    const v = strverscmp(subject, query);
    return v === ok1 || v === ok2;
  }
  const equality = (result: boolean): boolean => {
    if (op.type === "operator" && op.content === "==") return result;
    if (op.type === "operator" && op.content === "!=") return !result;
    throw new ParseError("expected '==' or '!='", op);
  };
  if (l.type === "identifier" && l.content === "systemtap_privilege") {
    if (r.type !== "string") throw new ParseError("expected string literal", r);
    return equality(target.privilege === r.content);
  }
  if (l.type === "identifier" && l.content === "guru_mode") {
    if (r.type !== "number") throw new ParseError("expected number", r);
    const rhs = lexCastNumber(r);
    if (rhs !== 0n && rhs !== 1n) throw new ParseError("expected 0 or 1", op);
    if (!(op.type === "operator" && (op.content === "==" || op.content === "!="))) {
      throw new ParseError("expected '==' or '!='", op);
    }
    return compare(target.guru ? 1n : 0n, op, rhs);
  }
  if (l.type === "identifier" && (l.content === "arch" || l.content === "runtime")) {
    if (r.type !== "string") throw new ParseError("expected string literal", r);
    return equality(fnmatch(r.content, l.content === "arch" ? target.arch : target.runtime));
  }
  if (l.type === "identifier" && l.content.startsWith("CONFIG_")) {
    const lhs = target.config[l.content] ?? "";
    if (r.type === "string") return equality(fnmatch(r.content, lhs));
    if (r.type === "number") {
      const n = parseConfigNumber(lhs);
      if (n === null) throw new ParseError("Config option value not a number", l);
      return compare(n, op, lexCastNumber(r));
    }
    if (r.type === "identifier" && r.content.startsWith("CONFIG_")) {
      const rhs = target.config[r.content] ?? "";
      const ln = parseConfigNumber(lhs), rn = parseConfigNumber(rhs);
      if (ln !== null && rn !== null) return compare(ln, op, rn);
      return compare(lhs, op, rhs);
    }
    throw new ParseError("expected string, number literal or other CONFIG_... as right side operand", r);
  }
  if (l.type === "string" && r.type === "string") return compare(l.content, op, r.content);
  if (l.type === "number" && r.type === "number") return compare(lexCastNumber(l), op, lexCastNumber(r));
  if (l.type === "string" && r.type === "number" && op.type === "operator") {
    throw new ParseError("expected string literal as right value", r);
  }
  if (l.type === "number" && r.type === "string" && op.type === "operator") {
    throw new ParseError("expected number literal as right value", r);
  }
  throw new ParseError(
    "expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v',\n" +
      "             'runtime', 'systemtap_privilege', 'CONFIG_...', or\n" +
      "             comparison between strings or integers",
    l,
  );
}
