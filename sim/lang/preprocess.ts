/**
 * stap's two preprocessing passes over the token stream: `@define` macros and their `@name(args)` expansion
 * (pass "pp1"), then the `%( CONDITION %? THEN %: ELSE %)` conditionals (evaluated for a target described by
 * {@linkcode TargetOptions}), exactly as stap 4.8 evaluates them: each condition is three tokens
 * (`kernel_v >= "5.0"`, `arch == "x86_64"`, `CONFIG_X == "y"`, `"a" < "b"`, `$# > 1` …) joined by `&&`
 * and `||` (`&&` binds tighter, no parentheses).
 * @module
 */

import type { SourceLoc } from "./ast.ts";
import { AT_WORDS, type Lexer, type Token } from "./lexer.ts";

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

/** A parse error as stap reports it: the message and the offending token (null: end of file). */
export class ParseError extends Error {
  readonly token: Token | null;
  /** After this error the parser skips tokens up to the next top-level keyword (stap's skip_some). */
  readonly skipSome: boolean;
  constructor(message: string, token: Token | null = null, skipSome = true) {
    super(message);
    this.name = "ParseError";
    this.token = token;
    this.skipSome = skipSome;
  }
}

/**
 * An error that stops stap altogether (an exception outside the parser's error handling, e.g. `bad lexical
 * cast` for `%( guru_mode == 0x0 …`): it prints only the message and nothing after it.
 */
export class FatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FatalError";
  }
}

/** A `@define` macro. */
export interface MacroDecl {
  name: string;
  params: string[];
  body: Token[];
  /** Where it was defined. */
  token: Token;
  /** Defined in a tapset `.stpm` file (visible from every script). */
  library: boolean;
  /** For a macro parameter: the activation it must be expanded in (stap's closure). */
  parent?: Activation | null;
}

interface Activation {
  token: Token;
  cursor: number;
  params: Map<string, MacroDecl>;
  macro: MacroDecl;
}

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

function isOp(t: Token | null, content: string): boolean {
  return t !== null && t.type === "operator" && t.content === content;
}

type PpState = "keep_then" | "skip_then" | "keep_else" | "skip_else";

/** Warnings the preprocessor gives (e.g. a macro that redefines a built-in `@` operator). */
export interface PreprocessWarning {
  message: string;
  loc: SourceLoc;
}

/**
 * The preprocessed token stream of one file: call `scan()` until it returns null. Throws
 * {@linkcode ParseError} like stap's scan_pp; after an error, scanning may go on.
 */
export class Preprocessor {
  /** Macros defined in this file (after the whole file is read: every `@define` seen). */
  readonly macros: Map<string, MacroDecl> = new Map();
  readonly warnings: PreprocessWarning[] = [];
  private readonly lexer: Lexer;
  private readonly target: TargetOptions;
  private readonly library: ReadonlyMap<string, MacroDecl>;
  private readonly definesLibrary: boolean;
  private readonly activations: Activation[] = [];
  private readonly conditionals: { token: Token; state: PpState }[] = [];

  /**
   * @param library macros from tapset `.stpm` files, visible everywhere
   * @param definesLibrary true when reading a `.stpm` file (its macros become library macros)
   */
  constructor(
    lexer: Lexer,
    target: TargetOptions,
    library: ReadonlyMap<string, MacroDecl> = new Map(),
    definesLibrary = false,
  ) {
    this.lexer = lexer;
    this.target = target;
    this.library = library;
    this.definesLibrary = definesLibrary;
  }

  private nextPp1(): Token | null {
    const act = this.activations[this.activations.length - 1];
    if (!act) return this.lexer.scan();
    if (act.cursor < act.macro.body.length) {
      const t = act.macro.body[act.cursor++];
      return { ...t, chain: act.token };
    }
    return null;
  }

  /** Pass 1: macro definitions and expansions. */
  private scanPp1(ignoreMacros = false): Token | null {
    for (;;) {
      let t = this.nextPp1();
      if (t === null) {
        if (this.activations.length === 0) return null;
        this.activations.pop();
        continue;
      }
      if (t.type === "operator" && t.content === "@define" && !ignoreMacros) {
        if (this.activations.length > 0) throw new ParseError("'@define' forbidden inside macro body", t);
        t = this.lexer.scan();
        if (!(t && t.type === "identifier")) throw new ParseError("expected identifier", t);
        const name = t.content;
        const existing = this.macros.get(name);
        if (existing) {
          throw new ParseError(`attempt to redefine macro '@${name}' in the same file`, t);
        }
        if (name === "define") throw new ParseError("attempt to redefine '@define'", t);
        if (AT_WORDS.has(name)) {
          this.warnings.push({ message: `macro redefines built-in operator '@${name}'`, loc: t.loc });
        }
        const decl: MacroDecl = { name, params: [], body: [], token: t, library: this.definesLibrary };
        this.macros.set(name, decl);
        let sawParams = false;
        t = this.lexer.scan();
        if (isOp(t, "(")) {
          sawParams = true;
          for (;;) {
            t = this.lexer.scan();
            if (!(t && t.type === "identifier")) throw new ParseError("expected identifier", t);
            decl.params.push(t.content);
            t = this.lexer.scan();
            if (isOp(t, ",")) continue;
            if (isOp(t, ")")) {
              t = this.lexer.scan();
              break;
            }
            throw new ParseError("expected ',' or ')'", t);
          }
        }
        if (!isOp(t, "%(")) throw new ParseError(sawParams ? "expected '%('" : "expected '%(' or '('", t);
        if (!this.slurpBody(decl.body)) {
          throw new ParseError("incomplete macro definition - missing '%)'", decl.token);
        }
        continue;
      }
      if (t.type === "operator" && t.content[0] === "@") {
        const name = t.content.slice(1);
        const act = this.activations[this.activations.length - 1];
        let decl: MacroDecl | undefined;
        if (act && act.params.has(name)) decl = act.params.get(name);
        else if (!(act && act.macro.library) && this.macros.has(name)) decl = this.macros.get(name);
        else decl = this.library.get(name);
        if (!decl) return t;
        const newAct: Activation = { token: t, cursor: 0, params: new Map(), macro: decl };
        const count = decl.params.length;
        if (count === 0 && decl.parent) {
          newAct.params = decl.parent.params;
        } else if (count > 0) {
          let u = this.nextPp1();
          if (!isOp(u, "(")) {
            throw new ParseError(
              `expected '(' in invocation of macro '@${name}' taking ${count} parameter${
                count === 1 ? "" : "s"
              }`,
              u,
            );
          }
          for (let i = 0; i < count; i++) {
            const param: MacroDecl = {
              name: decl.params[i],
              params: [],
              body: [],
              token: t,
              library: false,
              parent: act ?? null,
            };
            newAct.params.set(decl.params[i], param);
            u = this.slurpParam(param.body);
            if (u === null) throw new ParseError("could not find end of macro invocation", t);
            if (isOp(u, ",")) {
              if (i + 1 === count) {
                throw new ParseError(`too many parameters for macro '@${name}' (expected ${count})`, u);
              }
            } else if (isOp(u, ")")) {
              if (i + 1 !== count) {
                throw new ParseError(`too few parameters for macro '@${name}' (expected ${count})`, u);
              }
            }
          }
        }
        this.activations.push(newAct);
        continue;
      }
      return t;
    }
  }

  private slurpParam(into: Token[]): Token | null {
    let nesting = 0;
    for (;;) {
      const t = this.nextPp1();
      if (!t) return null;
      if (t.type === "operator" && (t.content === "(" || t.content === "[")) nesting++;
      else if (nesting && t.type === "operator" && (t.content === ")" || t.content === "]")) nesting--;
      else if (!nesting && t.type === "operator" && (t.content === ")" || t.content === ",")) return t;
      into.push(t);
    }
  }

  private slurpBody(into: Token[]): Token | null {
    let nesting = 0;
    for (;;) {
      const t = this.nextPp1();
      if (!t) return null;
      if (isOp(t, "%(")) nesting++;
      else if (nesting && isOp(t, "%)")) nesting--;
      else if (!nesting && isOp(t, "%)")) return t;
      into.push(t);
    }
  }

  /** The next token after both passes, or null at the end of the file. */
  scan(): Token | null {
    for (;;) {
      const top = this.conditionals[this.conditionals.length - 1];
      const state = top?.state;
      const t = state === "skip_then" || state === "skip_else" ? this.skip() : this.scanPp1();
      if (t === null) {
        if (top) {
          this.conditionals.pop();
          throw new ParseError("incomplete conditional at end of file", top.token);
        }
        return null;
      }
      if (isOp(t, "%?")) throw new ParseError("incomplete conditional - missing '%('", t);
      if (isOp(t, "%:")) {
        if (!top) throw new ParseError("incomplete conditional - missing '%('", t);
        if (state === "keep_else" || state === "skip_else") {
          throw new ParseError("invalid conditional - duplicate '%:'", t);
        }
        top.state = state === "keep_then" ? "skip_else" : "keep_else";
        continue;
      }
      if (isOp(t, "%)")) {
        if (!top) throw new ParseError("incomplete conditional - missing '%('", t);
        this.conditionals.pop();
        continue;
      }
      if (!isOp(t, "%(")) return t;

      let result = false;
      let andResult = true;
      let n: Token | null;
      for (;;) {
        const l = this.scanPp1();
        const op = this.scanPp1();
        const r = this.scanPp1();
        if (l === null || op === null || r === null) {
          throw new ParseError("incomplete condition after '%('", t);
        }
        // Like stap, `&=` evaluates every term (errors in later terms are reported too).
        andResult = evalCondition(this.target, l, op, r) && andResult;
        n = this.scanPp1();
        if (isOp(n, "&&")) continue;
        result = result || andResult;
        andResult = true;
        if (!isOp(n, "||")) break;
      }
      if (!isOp(n, "%?")) throw new ParseError("expected '%?' marker for conditional", t);
      this.conditionals.push({ token: t, state: result ? "keep_then" : "skip_then" });
    }
  }

  /** Skips tokens of a branch not taken, heeding only nested conditionals. */
  private skip(): Token | null {
    let nesting = 0;
    for (;;) {
      let t: Token | null;
      try {
        t = this.scanPp1(true);
      } catch (e) {
        if (e instanceof ParseError) continue;
        throw e;
      }
      if (!t) return null;
      if (isOp(t, "%(")) nesting++;
      else if (nesting && isOp(t, "%)")) nesting--;
      else if (
        !nesting && t.type === "operator" && (t.content === "%:" || t.content === "%?" || t.content === "%)")
      ) {
        return t;
      }
    }
  }
}
