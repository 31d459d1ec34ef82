/**
 * stap's two preprocessing passes over the token stream: `@define` macros and their `@name(args)` expansion
 * (pass "pp1"), then the `%( CONDITION %? THEN %: ELSE %)` conditionals, exactly as stap 4.8 reads them: each
 * condition is three tokens (`kernel_v >= "5.0"`, `arch == "x86_64"`, `CONFIG_X == "y"`, `"a" < "b"`, `$# > 1` …),
 * evaluated by `conditions.ts`, joined by `&&` and `||` (`&&` binds tighter, no parentheses).
 * @module
 */

import type { SourceLoc } from "./ast.ts";
import { evalCondition, type TargetOptions } from "./conditions.ts";
import { AT_WORDS, type Lexer, type Token } from "./lexer.ts";
import { ParseError } from "./parse_error.ts";

// What the parser and the checker take from here, wherever it lives now.
export { DEFAULT_TARGET, type TargetOptions } from "./conditions.ts";
export { FatalError, ParseError } from "./parse_error.ts";

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
