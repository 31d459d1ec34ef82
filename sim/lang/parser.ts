/**
 * The SystemTap 4.8 parser: a recursive-descent parser that follows stap's parse.cxx rule for rule (same
 * precedence, same accepted forms, same error messages and the same recovery after an error), producing the
 * tree of `ast.ts`.
 *
 * Precedence, loosest first: assignment (`= += -= *= /= %= <<= >>= &= ^= |= .= <<<`, right associative),
 * `?:`, `||`, `&&`, `|`, `^`, `&`, `in`, comparison and `=~ !~`, `<< >> >>>`, `.` (concatenation), `+ -`,
 * `* / %`, unary `+ - ! ~`, `++ --`, then values with their `->field`/`[index]` suffixes.
 * @module
 */

import type * as A from "./ast.ts";
import { junkMessage, Lexer, type Token } from "./lexer.ts";
import {
  DEFAULT_TARGET,
  FatalError,
  type MacroDecl,
  ParseError,
  Preprocessor,
  type TargetOptions,
} from "./preprocess.ts";

/** One reported problem, in stap's terms. */
export interface Diagnostic {
  file: string;
  /** 0 when the error is at the end of the file. */
  line: number;
  column: number;
  message: string;
  /** How stap describes the offending token (`operator '}'`, `keyword`, `junk ''`); empty at end of file. */
  saw: string;
  /** The label stap puts before that description: `saw` or `at` (junk tokens). */
  label: "saw" | "at";
  /** stap prints each message once: later errors with the same message are counted but not shown. */
  duplicate?: boolean;
  /** An error that stopped stap at once (printed alone, without the parse-error frame). */
  fatal?: boolean;
}

/** What parsing needs besides the source text. */
export interface ParseOptions extends Partial<TargetOptions> {
  /** The name used in locations and messages (stap uses the path as given, `<input>` for `-e`). */
  file?: string;
  /** Positional arguments for `$1`/`@1`/`$#`/`@#`. */
  args?: readonly string[];
  /** Library macros from tapset `.stpm` files (see {@linkcode parseLibraryMacros}). */
  libraryMacros?: ReadonlyMap<string, MacroDecl>;
}

/** The outcome of parsing one file. */
export interface ParseResult {
  /** The tree; complete only when `errors` is empty (after errors it holds what parsed). */
  script: A.Script;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** The file held no token at all (`Input file '…' is empty.`) or none after preprocessing. */
  empty: "no" | "empty" | "empty_after_preprocessing";
}

const PRINT_FUNCTIONS = new Set([
  "print",
  "println",
  "printd",
  "printdln",
  "printf",
  "sprint",
  "sprintln",
  "sprintd",
  "sprintdln",
  "sprintf",
]);

const ASSIGN_OPS = new Set(["=", "<<<", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", ".="]);
const COMPARE_OPS = new Set([">", "<", "==", "!=", "<=", ">="]);

type Context = "unknown" | "probe" | "global" | "function" | "embedded";

/** Describes a token as stap does in `saw:` lines. */
export function describeToken(t: Token): string {
  const where = `${t.loc.file}:${t.loc.line}:${t.loc.column}`;
  if (t.type === "embedded-code" || t.type === "keyword") return `${t.type} at ${where}`;
  const content = t.type === "junk" ? "" : t.content.replace(/[^\x20-\x7e]/g, "?");
  return `${t.type} '${content}' at ${where}`;
}

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

/**
 * Checks a printf format string as stap 4.8 does while parsing (print_format::string_to_components): one
 * optional flag of `0+- #`, a width (digits or `*`), a precision (`.` digits or `.*`), one optional `l`, then a
 * conversion of `bcsmMdiouxXp`; `%%` is a literal percent sign.
 */
export function formatError(format: string): string | null {
  const n = format.length;
  let i = 0;
  const digit = (k: number): boolean => k < n && format[k] >= "0" && format[k] <= "9";
  while (i < n) {
    if (format[i] !== "%") {
      i++;
      continue;
    }
    if (i + 1 === n) return "invalid or missing conversion specifier"; // stap reads past the end here
    if (format[i + 1] === "%") {
      i += 2;
      continue;
    }
    i++;
    let partial = false;
    if ("0+- #".includes(format[i])) {
      partial = true;
      i++;
    }
    if (i === n) return partial ? "trailing incomplete print format conversion" : null;
    if (format[i] === "*") {
      partial = true;
      i++;
    } else if (digit(i)) {
      partial = true;
      while (digit(i)) i++;
    }
    if (i === n) return partial ? "trailing incomplete print format conversion" : null;
    if (format[i] === ".") {
      i++;
      if (i === n) return partial ? "trailing incomplete print format conversion" : null;
      if (format[i] === "*") {
        partial = true;
        i++;
      } else if (digit(i)) {
        partial = true;
        while (digit(i)) i++;
      }
    }
    if (i === n) return partial ? "trailing incomplete print format conversion" : null;
    if (format[i] === "l") i++;
    if (i === n) return partial ? "trailing incomplete print format conversion" : null;
    if (!"bcsmMdiouxXp".includes(format[i])) return "invalid or missing conversion specifier";
    i++;
  }
  return null;
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

class Parser {
  readonly errors: Diagnostic[] = [];
  private readonly seenMessages = new Set<string>();
  private readonly pp: Preprocessor;
  private readonly file: string;
  private readonly privileged: boolean;
  private readonly argCount: number;
  private context: Context = "unknown";
  private lastT: Token | null = null;
  private nextT: Token | null = null;

  constructor(pp: Preprocessor, file: string, privileged: boolean, argCount: number) {
    this.pp = pp;
    this.file = file;
    this.privileged = privileged;
    this.argCount = argCount;
  }

  // ---- token stream, with stap's peek/next/swallow semantics

  private next(): Token {
    if (!this.nextT) this.nextT = this.pp.scan();
    if (!this.nextT) throw new ParseError("unexpected end-of-file");
    this.lastT = this.nextT;
    this.nextT = null;
    return this.lastT;
  }

  private peek(): Token | null {
    if (!this.nextT) this.nextT = this.pp.scan();
    this.lastT = this.nextT;
    return this.nextT;
  }

  private swallow(): void {
    this.lastT = this.nextT = null;
  }

  private peekOp(op: string): boolean {
    const t = this.peek();
    return t !== null && t.type === "operator" && t.content === op;
  }

  private peekKw(kw: string): boolean {
    const t = this.peek();
    return t !== null && t.type === "keyword" && t.content === kw;
  }

  /** next() then swallow(): the token is used up and no longer "last seen" (it matters for error places). */
  private take(): Token {
    const t = this.next();
    this.swallow();
    return t;
  }

  private expectOp(op: string): Token {
    const t = this.next();
    if (!(t.type === "operator" && t.content === op)) throw new ParseError(`expected '${op}'`);
    this.swallow();
    return t;
  }

  private expectOpAny(ops: string[]): string {
    const t = this.next();
    if (t.type === "operator" && ops.includes(t.content)) {
      this.swallow();
      return t.content;
    }
    throw new ParseError(`expected one of '${ops.join(" ")}'`);
  }

  private expectKw(kw: string, swallow = true): Token {
    const t = this.next();
    if (!(t.type === "keyword" && t.content === kw)) throw new ParseError(`expected '${kw}'`);
    if (swallow) this.swallow();
    return t;
  }

  private expectString(): string {
    const t = this.next();
    if (t.type !== "string") throw new ParseError("expected string");
    return this.consumeStringLiterals(t).raw;
  }

  private expectNumber(): A.NumberLiteral {
    let t = this.next();
    const start = t;
    let neg = false;
    if (t.type === "operator" && t.content === "-") {
      neg = true;
      this.swallow();
      t = this.next();
    }
    if (t.type !== "number") throw new ParseError("expected number");
    const n = this.numberLiteral(t, neg, start);
    this.swallow();
    return n;
  }

  private numberLiteral(t: Token, neg: boolean, start: Token): A.NumberLiteral {
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

  // ---- errors

  report(e: ParseError): void {
    const tok = e.token ?? this.lastT;
    const d = this.diagnosticOf(e, tok);
    // stap shows an error once per message (and per token text, for errors that name their token); repeats
    // are only counted.
    const key = e.token ? `${d.message}\0${e.token.type}\0${e.token.content}` : d.message;
    if (this.seenMessages.has(key)) d.duplicate = true;
    this.seenMessages.add(key);
    this.errors.push(d);
  }

  private diagnosticOf(e: ParseError, tok: Token | null): Diagnostic {
    if (!tok) return { file: this.file, line: 0, column: 0, message: e.message, saw: "", label: "saw" };
    const junk = tok.type === "junk";
    return {
      file: tok.loc.file,
      line: tok.loc.line,
      column: tok.loc.column,
      message: junk ? junkMessage(tok.junk ?? "unknown", this.argCount) : e.message,
      saw: describeToken(tok),
      // stap labels the token "at" when the error named it (or it is junk), "saw" when it is just the last one.
      label: junk || e.token ? "at" : "saw",
    };
  }

  // ---- top level

  parse(script: A.Script): boolean {
    let empty = true;
    for (;;) {
      try {
        const t = this.peek();
        if (!t) break;
        empty = false;
        if (t.type === "keyword" && t.content === "probe") {
          this.context = "probe";
          this.parseProbe(script);
        } else if (t.type === "keyword" && t.content === "private") {
          this.context = "unknown";
          this.parsePrivate(script);
        } else if (t.type === "keyword" && t.content === "global") {
          this.context = "global";
          this.take();
          this.parseGlobals(script, null, false);
        } else if (t.type === "keyword" && t.content === "function") {
          this.context = "function";
          this.take();
          this.parseFunction(script, false);
        } else if (t.type === "embedded-code") {
          this.context = "embedded";
          const e = this.parseEmbeddedCode();
          script.embeds.push(e);
          script.items.push(e);
        } else {
          this.context = "unknown";
          throw new ParseError("expected 'probe', 'global', 'private', 'function', or '%{'");
        }
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.report(e);
        if (e.skipSome) this.recover();
      }
    }
    return empty;
  }

  private recover(): void {
    for (;;) {
      try {
        const t = this.peek();
        if (!t) return;
        if (t.type === "keyword" && ["probe", "private", "global", "function"].includes(t.content)) return;
        if (t.type === "embedded-code") return;
        this.swallow();
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.report(e);
      }
    }
  }

  private parseProbe(script: A.Script): void {
    const t0 = this.next();
    const aliases: A.ProbePoint[] = [];
    let locations: A.ProbePoint[] = [];
    let epilogue = false;
    for (;;) {
      const pps = this.parseProbePoints();
      const t = this.peek();
      if (pps.length === 1 && t && t.type === "operator" && (t.content === "=" || t.content === "+=")) {
        if (pps[0].optional || pps[0].sufficient) {
          throw new ParseError(
            "probe point alias name cannot be optional nor sufficient",
            pps[0].components[0].token,
          );
        }
        aliases.push(pps[0].point);
        if (t.content === "+=") epilogue = true;
        this.swallow();
        continue;
      }
      if (t && t.type === "operator" && t.content === "{") {
        locations = pps.map((p) => p.point);
        break;
      }
      throw new ParseError("expected probe point specifier");
    }
    if (aliases.length === 0) {
      const body = this.parseBlock();
      const p: A.ProbeDecl = { kind: "probe", loc: t0.loc, points: locations, body, private: false };
      script.probes.push(p);
      script.items.push(p);
      return;
    }
    const body = this.parseBlock();
    const alias: A.AliasDecl = {
      kind: "alias",
      loc: t0.loc,
      names: aliases,
      points: locations,
      style: epilogue ? "epilogue" : "prologue",
      body,
      private: false,
    };
    const t = this.peek();
    if (t && t.content === ",") {
      if (epilogue) throw new ParseError("Combined prologue and epilogue cannot be defined with '+='");
      this.swallow();
      alias.epilogueBody = this.parseBlock();
    }
    script.aliases.push(alias);
    script.items.push(alias);
  }

  private parseEmbeddedCode(): A.EmbeddedCode {
    const t = this.next();
    if (t.type !== "embedded-code") throw new ParseError("expected '%{'");
    if (!this.privileged) {
      throw new ParseError("embedded code in unprivileged script; need stap -g", null, false);
    }
    return { kind: "embedded_code", loc: t.loc, code: t.content };
  }

  private parseBlock(): A.Block {
    const t = this.next();
    if (!(t.type === "operator" && t.content === "{")) throw new ParseError("expected '{'");
    const block: A.Block = { kind: "block", loc: t.loc, statements: [] };
    for (;;) {
      if (this.peekOp("}")) {
        this.swallow();
        return block;
      }
      block.statements.push(this.parseStatement());
    }
  }

  private parseTry(): A.TryStatement {
    const t = this.expectKw("try");
    const body = this.parseBlock();
    this.expectKw("catch");
    let catchVar: A.SymbolExpr | null = null;
    if (this.peekOp("(")) {
      this.swallow();
      const v = this.next();
      if (v.type !== "identifier") throw new ParseError("expected identifier");
      catchVar = { kind: "symbol", loc: v.loc, name: v.content };
      this.expectOp(")");
    }
    const handler = this.parseBlock();
    return { kind: "try", loc: t.loc, body, catchVar, handler };
  }

  private parseStatement(): A.Statement {
    const t = this.peek();
    if (t && t.type === "operator" && t.content === ";") {
      this.next();
      return { kind: "null", loc: t.loc };
    }
    if (t && t.type === "operator" && t.content === "{") return this.parseBlock();
    if (t && t.type === "keyword") {
      switch (t.content) {
        case "try":
          return this.parseTry();
        case "if":
          return this.parseIf();
        case "for":
          return this.parseFor();
        case "foreach":
          return this.parseForeach();
        case "while":
          return this.parseWhile();
      }
    }
    let ret: A.Statement;
    if (t && t.type === "keyword" && t.content === "return") ret = this.parseReturn();
    else if (t && t.type === "keyword" && t.content === "delete") {
      this.next();
      ret = { kind: "delete", loc: t.loc, target: this.parseExpression() };
    } else if (
      t && t.type === "keyword" && (t.content === "break" || t.content === "continue" || t.content === "next")
    ) {
      this.next();
      ret = { kind: t.content, loc: t.loc } as A.BreakStatement | A.ContinueStatement | A.NextStatement;
    } else if (
      t && (t.type === "operator" || t.type === "identifier" || t.type === "number" || t.type === "string" ||
        t.type === "embedded-code")
    ) {
      ret = { kind: "expr_statement", loc: t.loc, expr: this.parseExpression() };
    } else throw new ParseError("expected statement");
    if (this.peekOp(";")) this.swallow();
    return ret;
  }

  private parsePrivate(script: A.Script): void {
    this.take();
    const t = this.next();
    if (t.type === "keyword" && t.content === "function") {
      this.swallow();
      this.context = "function";
      this.parseFunction(script, true);
    } else if (t.type === "keyword" && t.content === "global") {
      this.swallow();
      this.context = "global";
      const n = this.next();
      if (n.type !== "identifier") throw new ParseError("expected identifier");
      this.parseGlobals(script, n, true);
    } else if (t.type === "identifier") {
      this.context = "global";
      this.parseGlobals(script, t, true);
    } else throw new ParseError("expected 'function' or identifier");
  }

  private parseGlobals(script: A.Script, first: Token | null, priv: boolean): void {
    let iter0 = true;
    for (;;) {
      const t = iter0 && priv && first ? first : this.next();
      iter0 = false;
      if (t.type !== "identifier") throw new ParseError("expected identifier");
      for (const g of script.globals) {
        if (g.name === t.content) {
          throw new ParseError(
            g.private === priv
              ? "duplicate global name"
              : "global versus private variable declaration conflict",
          );
        }
      }
      const d: A.GlobalDecl = {
        kind: "global",
        loc: t.loc,
        name: t.content,
        init: null,
        size: null,
        wrap: false,
        isArray: false,
        private: priv,
      };
      script.globals.push(d);
      script.items.push(d);
      let n = this.peek();
      if (n && n.type === "operator" && n.content === "%") {
        d.wrap = true;
        this.swallow();
        n = this.peek();
      }
      if (n && n.type === "operator" && n.content === "[") {
        this.swallow();
        const size = this.expectNumber();
        if (size.value <= 0n || size.value > 2147483647n) throw new ParseError("array size out of range");
        d.size = Number(size.value);
        d.isArray = true;
        this.expectOp("]");
        n = this.peek();
      }
      if (n && n.type === "operator" && n.content === "=") {
        if (d.isArray) throw new ParseError("only scalar globals can be initialized");
        this.next();
        d.init = this.parseLiteral();
        n = this.peek();
      }
      if (n && n.type === "operator" && n.content === ";") {
        this.swallow();
        return;
      }
      if (n && n.type === "operator" && n.content === ",") {
        this.swallow();
        continue;
      }
      return;
    }
  }

  private parseType(): A.ValueType {
    const t = this.next();
    if (t.type === "keyword" && (t.content === "string" || t.content === "long")) {
      this.swallow();
      return t.content;
    }
    throw new ParseError("expected 'string' or 'long'");
  }

  private parseFunction(script: A.Script, priv: boolean): void {
    const t = this.next();
    if (
      !(t.type === "identifier" || (t.type === "keyword" && (t.content === "string" || t.content === "long")))
    ) {
      throw new ParseError("expected identifier");
    }
    const fd: A.FunctionDecl = {
      kind: "function",
      loc: t.loc,
      name: t.content,
      returnType: null,
      params: [],
      body: { kind: "block", loc: t.loc, statements: [] },
      private: priv,
    };
    let n = this.next();
    if (n.type === "operator" && n.content === ":") {
      fd.returnType = this.parseType();
      n = this.next();
    }
    if (!(n.type === "operator" && n.content === "(")) throw new ParseError("expected '('");
    this.swallow();
    for (;;) {
      n = this.next();
      if (n.type === "operator" && n.content === ")") {
        this.swallow();
        break;
      }
      if (n.type !== "identifier") throw new ParseError("expected identifier");
      if (fd.params.some((p) => p.name === n.content)) throw new ParseError("duplicate parameter names");
      const param: A.Param = { kind: "param", loc: n.loc, name: n.content, type: null };
      fd.params.push(param);
      n = this.next();
      if (n.type === "operator" && n.content === ":") {
        param.type = this.parseType();
        n = this.next();
      }
      if (n.type === "operator" && n.content === ")") {
        this.swallow();
        break;
      }
      if (!(n.type === "operator" && n.content === ",")) throw new ParseError("expected ',' or ')'");
      this.swallow();
    }
    const p = this.peek();
    if (!p) throw new ParseError("expected '{'");
    if (p.type === "operator" && p.content === ":") {
      this.swallow();
      const lit = this.parseLiteral();
      if (lit.kind !== "number") throw new ParseError("expected literal number");
      if (lit.value < 1n) throw new ParseError("specified priority must be > 0");
      fd.priority = Number(lit.value);
    }
    const b = this.peek();
    fd.body = b && b.type === "embedded-code" ? this.parseEmbeddedCode() : this.parseBlock();
    script.functions.push(fd);
    script.items.push(fd);
  }

  // ---- probe points

  private parseProbePoints(): ParsedPoint[] {
    const pps: ParsedPoint[] = [];
    for (;;) {
      pps.push(...this.parseComponents());
      const t = this.peek();
      if (t && t.type === "operator" && t.content === ",") {
        this.swallow();
        continue;
      }
      if (t && t.type === "operator" && ["{", "=", "+=", "}"].includes(t.content)) break;
      throw new ParseError("expected one of ', { } = +='");
    }
    return pps;
  }

  private parseComponents(): ParsedPoint[] {
    let pps: ParsedPoint[] = [];
    for (;;) {
      const suffix = this.parseComponent();
      if (pps.length === 0) pps = suffix;
      else {
        const product: ParsedPoint[] = [];
        for (const head of pps) {
          if (head.optional || head.sufficient || head.point.condition) {
            throw new ParseError(
              "'?', '!' or condition must only be specified in suffix",
              head.components[0].token,
            );
          }
          for (const tail of suffix) {
            const components = [...head.components, ...tail.components];
            product.push({
              components,
              optional: tail.optional,
              sufficient: tail.sufficient,
              point: {
                kind: "probe_point",
                loc: components[0].node.loc,
                components: components.map((c) => c.node),
                optional: tail.optional,
                sufficient: tail.sufficient,
                condition: tail.point.condition,
              },
            });
          }
        }
        pps = product;
      }
      let t = this.peek();
      if (t && t.type === "operator" && t.content === ".") {
        this.swallow();
        continue;
      }
      if (t && t.type === "operator" && (t.content === "?" || t.content === "!")) {
        for (const p of pps) {
          if (p.optional || p.sufficient) throw new ParseError("'?' or '!' respecified");
          p.optional = p.point.optional = true;
          if (t.content === "!") p.sufficient = p.point.sufficient = true;
        }
        this.swallow();
        t = this.peek();
      }
      if (t && t.type === "keyword" && t.content === "if") {
        this.swallow();
        if (!this.peekOp("(")) throw new ParseError("expected '('");
        this.swallow();
        const e = this.parseExpression();
        for (const p of pps) {
          if (p.point.condition) throw new ParseError("condition respecified");
          p.point.condition = e;
        }
        if (!this.peekOp(")")) throw new ParseError("expected ')'");
        this.swallow();
      }
      return pps;
    }
  }

  private parseComponent(): ParsedPoint[] {
    const t = this.next();
    if (
      !(t.type === "identifier" || t.type === "keyword" ||
        (t.type === "operator" && (t.content === "*" || t.content === "{")))
    ) {
      throw new ParseError("expected identifier or '*' or '{'");
    }
    if (t.type === "operator" && t.content === "{") {
      this.swallow();
      const pps = this.parseProbePoints();
      if (!this.peekOp("}")) throw new ParseError("expected '}'");
      this.swallow();
      return pps;
    }
    let name = t.content;
    for (;;) {
      const u = this.peek();
      if (!u || u.spaceBefore) break;
      if (
        !(u.type === "identifier" || u.type === "keyword" || (u.type === "operator" && u.content === "*"))
      ) break;
      name += u.content;
      this.swallow();
    }
    const node: A.ProbePointComponent = { kind: "probe_point_component", loc: t.loc, name, arg: null };
    if (this.peekOp("(")) {
      this.swallow();
      node.arg = this.parseLiteral();
      const c = this.next();
      if (!(c.type === "operator" && c.content === ")")) throw new ParseError("expected ')'");
      this.swallow();
    }
    const component = { node, token: t };
    return [{
      components: [component],
      optional: false,
      sufficient: false,
      point: {
        kind: "probe_point",
        loc: t.loc,
        components: [node],
        optional: false,
        sufficient: false,
        condition: null,
      },
    }];
  }

  // ---- literals

  private consumeStringLiterals(t: Token): A.StringLiteral {
    let raw = t.content;
    for (;;) {
      const n = this.peek();
      if (!(n && n.type === "string")) break;
      raw += n.content;
      this.next();
    }
    return { kind: "string", loc: t.loc, raw, value: decodeEscapes(raw) };
  }

  private parseLiteralString(): A.StringLiteral {
    const t = this.next();
    if (t.type !== "string") throw new ParseError("expected literal string");
    return this.consumeStringLiterals(t);
  }

  private parseLiteral(): A.NumberLiteral | A.StringLiteral {
    let t = this.next();
    if (t.type === "string") return this.consumeStringLiterals(t);
    const start = t;
    let neg = false;
    if (t.type === "operator" && t.content === "-") {
      neg = true;
      this.swallow();
      t = this.next();
    }
    if (t.type === "number") return this.numberLiteral(t, neg, start);
    throw new ParseError("expected literal string or number");
  }

  // ---- statements

  private expectClose(): void {
    const t = this.next();
    if (!(t.type === "operator" && t.content === ")")) throw new ParseError("expected ')'");
    this.swallow();
  }

  private parseIf(): A.IfStatement {
    const t = this.next();
    const o = this.next();
    if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
    this.swallow();
    const condition = this.parseExpression();
    this.expectClose();
    const then = this.parseStatement();
    let otherwise: A.Statement | null = null;
    if (this.peekKw("else")) {
      this.swallow();
      otherwise = this.parseStatement();
    }
    return { kind: "if", loc: t.loc, condition, then, otherwise };
  }

  private parseReturn(): A.ReturnStatement {
    const t = this.next();
    if (this.context !== "function") throw new ParseError("found 'return' not in function context");
    const n = this.peek();
    if (!n) throw new ParseError("expected ';', '}' or an expression statement");
    const value = n.type === "operator" && (n.content === ";" || n.content === "}")
      ? null
      : this.parseExpression();
    return { kind: "return", loc: t.loc, value };
  }

  private parseFor(): A.ForStatement {
    const t = this.next();
    const o = this.next();
    if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
    this.swallow();
    let init: A.Expr | null = null;
    if (this.peekOp(";")) this.swallow();
    else {
      init = this.parseExprStatement();
      const s = this.next();
      if (!(s.type === "operator" && s.content === ";")) throw new ParseError("expected ';'");
      this.swallow();
    }
    let condition: A.Expr | null = null;
    if (this.peekOp(";")) this.next();
    else {
      condition = this.parseExpression();
      const s = this.next();
      if (!(s.type === "operator" && s.content === ";")) throw new ParseError("expected ';'");
      this.swallow();
    }
    let step: A.Expr | null = null;
    if (this.peekOp(")")) this.swallow();
    else {
      step = this.parseExprStatement();
      this.expectClose();
    }
    const body = this.parseStatement();
    return { kind: "for", loc: t.loc, init, condition, step, body };
  }

  private parseExprStatement(): A.Expr {
    if (this.peek() === null) throw new ParseError("expression statement expected");
    return this.parseExpression();
  }

  private parseWhile(): A.WhileStatement {
    const t = this.next();
    const o = this.next();
    if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
    this.swallow();
    const condition = this.parseExpression();
    this.expectClose();
    const body = this.parseStatement();
    return { kind: "while", loc: t.loc, condition, body };
  }

  private parseForeach(): A.ForeachStatement {
    const t = this.next();
    const o = this.next();
    if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
    this.swallow();
    const s: A.ForeachStatement = {
      kind: "foreach",
      loc: t.loc,
      keys: [],
      value: null,
      array: { kind: "symbol", loc: t.loc, name: "" },
      slice: null,
      sortColumn: null,
      sortDirection: 0,
      sortAggregate: null,
      limit: null,
      body: { kind: "null", loc: t.loc },
    };
    let lookahead: A.SymbolExpr | null = null;
    let lookaheadSort: 1 | -1 | 0 = 0;
    let n = this.peek();
    if (n && n.type === "identifier") {
      this.next();
      lookahead = { kind: "symbol", loc: n.loc, name: n.content };
      n = this.peek();
      if (n && n.type === "operator" && (n.content === "+" || n.content === "-")) {
        lookaheadSort = n.content === "+" ? 1 : -1;
        this.swallow();
      }
      if (this.peekOp("=")) {
        this.swallow();
        s.value = lookahead;
        if (lookaheadSort) {
          s.sortDirection = lookaheadSort;
          s.sortColumn = 0;
        }
        lookahead = null;
      }
    }
    let bracketed = false;
    if (!lookahead && this.peekOp("[")) {
      this.swallow();
      bracketed = true;
    }
    if (lookahead) {
      s.keys.push(lookahead);
      if (lookaheadSort) {
        s.sortDirection = lookaheadSort;
        s.sortColumn = 1;
      }
    } else {
      for (;;) {
        const k = this.next();
        if (k.type !== "identifier") throw new ParseError("expected identifier");
        s.keys.push({ kind: "symbol", loc: k.loc, name: k.content });
        const m = this.peek();
        if (m && m.type === "operator" && (m.content === "+" || m.content === "-")) {
          if (s.sortDirection) throw new ParseError("multiple sort directives");
          s.sortDirection = m.content === "+" ? 1 : -1;
          s.sortColumn = s.keys.length;
          this.swallow();
        }
        if (!bracketed) break;
        if (this.peekOp(",")) {
          this.swallow();
          continue;
        }
        if (this.peekOp("]")) {
          this.swallow();
          break;
        }
        throw new ParseError("expected ',' or ']'");
      }
    }
    const inTok = this.next();
    if (!(inTok.type === "keyword" && inTok.content === "in")) throw new ParseError("expected 'in'");
    this.swallow();
    s.array = this.parseIndexable();
    if (this.peekOp("[")) {
      this.swallow();
      s.slice = [];
      for (;;) {
        if (this.peekOp("*")) {
          this.swallow();
          s.slice.push(null);
        } else s.slice.push(this.parseExpression());
        if (this.peekOp(",")) {
          this.swallow();
          continue;
        }
        if (this.peekOp("]")) {
          this.swallow();
          break;
        }
        throw new ParseError("expected ',' or ']'");
      }
    }
    n = this.peek();
    if (n && n.type === "operator" && n.content[0] === "@") {
      const aggregates: Record<string, A.StatFunction> = {
        "@avg": "avg",
        "@min": "min",
        "@max": "max",
        "@count": "count",
        "@sum": "sum",
        "@variance": "variance",
      };
      const agg = aggregates[n.content];
      if (!agg) throw new ParseError("expected statistical operation");
      s.sortAggregate = agg;
      this.swallow();
      const m = this.peek();
      if (!(m && m.type === "operator" && (m.content === "+" || m.content === "-"))) {
        throw new ParseError("expected sort directive");
      }
    }
    n = this.peek();
    if (n && n.type === "operator" && (n.content === "+" || n.content === "-")) {
      if (s.sortDirection) throw new ParseError("multiple sort directives");
      s.sortDirection = n.content === "+" ? 1 : -1;
      s.sortColumn = 0;
      this.swallow();
    }
    if (this.peekKw("limit")) {
      this.swallow();
      s.limit = this.parseExpression();
    }
    this.expectClose();
    s.body = this.parseStatement();
    return s;
  }

  // ---- expressions

  parseExpression(): A.Expr {
    const left = this.parseTernary();
    const t = this.peek();
    if (t && t.type === "operator" && ASSIGN_OPS.has(t.content)) {
      this.next();
      const value = this.parseExpression();
      return { kind: "assignment", loc: t.loc, op: t.content as A.AssignmentOperator, target: left, value };
    }
    return left;
  }

  private parseTernary(): A.Expr {
    const condition = this.parseLogical(0);
    const t = this.peek();
    if (t && t.type === "operator" && t.content === "?") {
      this.next();
      const then = this.parseExpression();
      const c = this.next();
      if (!(c.type === "operator" && c.content === ":")) throw new ParseError("expected ':'");
      this.swallow();
      const otherwise = this.parseTernary();
      return { kind: "ternary", loc: t.loc, condition, then, otherwise };
    }
    return condition;
  }

  // Levels 0..4: || && | ^ &; below them `in`.
  private static readonly LOGICAL_LEVELS = ["||", "&&", "|", "^", "&"];

  private parseLogical(level: number): A.Expr {
    if (level === 5) return this.parseArrayIn();
    const op = Parser.LOGICAL_LEVELS[level];
    let left = this.parseLogical(level + 1);
    for (;;) {
      const t = this.peek();
      if (!(t && t.type === "operator" && t.content === op)) return left;
      this.next();
      const right = this.parseLogical(level + 1);
      left = level < 2
        ? { kind: "logical", loc: t.loc, op: op as "&&" | "||", left, right }
        : { kind: "binary", loc: t.loc, op: op as A.BinaryOperator, left, right };
    }
  }

  private parseArrayIn(): A.Expr {
    const indexes: (A.Expr | null)[] = [];
    let bracketed = false;
    const first = this.peek();
    if (this.peekOp("[")) {
      this.swallow();
      bracketed = true;
    }
    for (;;) {
      if (bracketed && this.peekOp("*")) {
        this.swallow();
        indexes.push(null);
      } else indexes.push(this.parseComparison());
      if (!bracketed) break;
      if (this.peekOp(",")) {
        this.swallow();
        continue;
      }
      if (this.peekOp("]")) {
        this.swallow();
        break;
      }
      throw new ParseError("expected ',' or ']'");
    }
    const t = this.peek();
    if (t && t.type === "keyword" && t.content === "in") {
      this.next();
      const array = this.parseIndexable();
      return { kind: "in", loc: first?.loc ?? t.loc, keys: indexes, array };
    }
    if (indexes.length === 1 && indexes[0]) return indexes[0];
    if (indexes.length === 1) throw new ParseError("expected 'in'");
    throw new ParseError("unexpected comma-separated expression list");
  }

  private parseComparison(): A.Expr {
    let left = this.parseShift();
    let t = this.peek();
    if (t && t.type === "operator" && (t.content === "=~" || t.content === "!~")) {
      this.next();
      const pattern = this.parseLiteralString();
      return { kind: "regex_match", loc: t.loc, op: t.content, left, pattern };
    }
    while (t && t.type === "operator" && COMPARE_OPS.has(t.content)) {
      this.next();
      const right = this.parseShift();
      left = { kind: "comparison", loc: t.loc, op: t.content as A.ComparisonExpr["op"], left, right };
      t = this.peek();
    }
    return left;
  }

  private parseShift(): A.Expr {
    let left = this.parseConcat();
    for (;;) {
      const t = this.peek();
      if (
        !(t && t.type === "operator" && (t.content === "<<" || t.content === ">>" || t.content === ">>>"))
      ) {
        return left;
      }
      this.next();
      const right = this.parseConcat();
      left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
    }
  }

  private parseConcat(): A.Expr {
    let left = this.parseAdditive();
    for (;;) {
      const t = this.peek();
      if (!(t && t.type === "operator" && t.content === ".")) return left;
      this.next();
      const right = this.parseAdditive();
      left = { kind: "concat", loc: t.loc, left, right };
    }
  }

  private parseAdditive(): A.Expr {
    let left = this.parseMultiplicative();
    for (;;) {
      const t = this.peek();
      if (!(t && t.type === "operator" && (t.content === "+" || t.content === "-"))) return left;
      this.next();
      const right = this.parseMultiplicative();
      left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
    }
  }

  private parseMultiplicative(): A.Expr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (!(t && t.type === "operator" && (t.content === "*" || t.content === "/" || t.content === "%"))) {
        return left;
      }
      this.next();
      const right = this.parseUnary();
      left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
    }
  }

  private parseUnary(): A.Expr {
    const t = this.peek();
    if (
      t && t.type === "operator" &&
      (t.content === "+" || t.content === "-" || t.content === "!" || t.content === "~")
    ) {
      this.next();
      const operand = this.parseUnary();
      return { kind: "unary", loc: t.loc, op: t.content as A.UnaryExpr["op"], operand };
    }
    return this.parseCrement();
  }

  private parseCrement(): A.Expr {
    const t = this.peek();
    if (t && t.type === "operator" && (t.content === "++" || t.content === "--")) {
      this.next();
      const target = this.parseDwarfValue();
      return { kind: "incdec", loc: t.loc, op: t.content as "++" | "--", prefix: true, target };
    }
    const operand = this.parseDwarfValue();
    const u = this.peek();
    if (u && u.type === "operator" && (u.content === "++" || u.content === "--")) {
      this.next();
      return {
        kind: "incdec",
        loc: operand.loc,
        op: u.content as "++" | "--",
        prefix: false,
        target: operand,
      };
    }
    return operand;
  }

  private parseDwarfValue(): A.Expr {
    const addr = this.peekOp("&") ? this.next() : null;
    const t = this.peek();
    let expr: A.Expr;
    let target: TargetLike | null = null;
    if (t && t.type === "identifier" && t.content[0] === "$") {
      this.next();
      const ts: A.TargetSymbol = {
        kind: "target_symbol",
        loc: t.loc,
        name: t.content,
        components: [],
        addressOf: false,
        pretty: 0,
      };
      expr = target = ts;
    } else if (t && t.type === "operator" && t.content === "@cast") {
      expr = target = this.parseCast();
    } else if (t && t.type === "operator" && t.content === "@var") {
      expr = target = this.parseAtVar();
    } else {
      expr = this.parseValue();
      if (addr) {
        if (isTargetLike(expr)) {
          target = expr;
          if (expr.addressOf) throw new ParseError("cannot take address more than once", addr);
        }
      }
    }
    if (!target && (addr || this.peekTargetComponents())) {
      const ac: A.AutoCastExpr = {
        kind: "autocast",
        loc: (addr ?? this.peek() ?? t)!.loc,
        operand: expr,
        components: [],
        addressOf: false,
        pretty: 0,
      };
      expr = target = ac;
    }
    if (target) {
      target.addressOf = addr !== null;
      if (addr) target.loc = addr.loc;
      this.parseTargetComponents(target);
    }
    return expr;
  }

  private peekTargetComponents(): boolean {
    const t = this.peek();
    return t !== null &&
      ((t.type === "operator" && (t.content === "->" || t.content === "[")) ||
        (t.type === "identifier" && /^\$+$/.test(t.content)));
  }

  private parseTargetComponents(e: TargetLike): void {
    let pretty = false;
    if (e.kind === "target_symbol") {
      const m = /^(\$*[^$]+(?:\$+[^$]+)*)(\$+)$/.exec(e.name);
      if (m && m[1].length > 0) {
        e.name = m[1];
        e.pretty = m[2].length >= 2 ? 2 : 1;
        pretty = true;
      }
    }
    while (!pretty) {
      if (this.peekOp("->")) {
        const t = this.next();
        const n = this.next();
        if (!(n.type === "identifier" || n.type === "keyword")) {
          throw new ParseError("expected identifier or keyword");
        }
        this.swallow();
        const m = /^(.*?)(\$*)$/.exec(n.content)!;
        let member = m[1];
        let suffix = m[2];
        if (/^\$+$/.test(n.content)) {
          member = "";
          suffix = n.content;
        }
        if (member) e.components.push({ kind: "field", name: member, loc: t.loc });
        if (suffix) {
          e.pretty = suffix.length >= 2 ? 2 : 1;
          pretty = true;
        }
      } else if (this.peekOp("[")) {
        const t = this.next();
        const index = this.parseExpression();
        e.components.push({ kind: "index", index, loc: t.loc });
        this.expectOp("]");
      } else break;
    }
    if (!pretty) {
      const t = this.peek();
      if (t && t.type === "identifier" && /^\$+$/.test(t.content)) {
        this.next();
        e.pretty = t.content.length >= 2 ? 2 : 1;
        pretty = true;
      }
    }
    if (pretty && (this.peekOp("->") || this.peekOp("["))) {
      throw new ParseError("-> and [ are not accepted for a pretty-printing variable");
    }
  }

  private parseCast(): A.CastExpr {
    const t = this.next();
    this.expectOp("(");
    const operand = this.parseExpression();
    this.expectOp(",");
    const type = this.expectString();
    if (type === "") throw new ParseError("expected non-empty string");
    let module: string | null = null;
    if (this.peekOp(",")) {
      this.swallow();
      module = this.expectString();
    }
    this.expectOp(")");
    return { kind: "cast", loc: t.loc, operand, type, module, components: [], addressOf: false, pretty: 0 };
  }

  private parseAtVar(): A.AtVarExpr {
    const t = this.next();
    this.expectOp("(");
    const name = this.expectString();
    let module: string | null = null;
    if (this.peekOp(",")) {
      this.swallow();
      module = this.expectString();
    }
    this.expectOp(")");
    return { kind: "at_var", loc: t.loc, name, module, components: [], addressOf: false, pretty: 0 };
  }

  private parseValue(): A.Expr {
    const t = this.peek();
    if (!t) throw new ParseError("expected value");
    if (t.type === "embedded-code") {
      if (!this.privileged) {
        throw new ParseError("embedded expression code in unprivileged script; need stap -g", null, false);
      }
      this.next();
      return { kind: "embedded_expr", loc: t.loc, code: t.content };
    }
    if (t.type === "operator" && t.content === "(") {
      this.swallow();
      const e = this.parseExpression();
      this.expectClose();
      return e;
    }
    if (t.type === "identifier" || (t.type === "operator" && t.content[0] === "@")) return this.parseSymbol();
    return this.parseLiteral();
  }

  /** An identifier or a histogram operator (stap's parse_hist_op_or_bare_name). */
  private parseHistOrName(): { token: Token; hist: A.HistogramOp | null } {
    const t = this.next();
    if (!(t.type === "identifier" || (t.type === "operator" && t.content[0] === "@"))) {
      throw new ParseError("expected identifier or statistical operation");
    }
    if (t.content === "@hist_linear" || t.content === "@hist_log") {
      this.expectOp("(");
      const stat = this.parseExpression();
      const params: A.NumberLiteral[] = [];
      if (t.content === "@hist_linear") {
        for (let i = 0; i < 3; i++) {
          this.expectOp(",");
          params.push(this.expectNumber());
        }
      }
      this.expectOp(")");
      return {
        token: t,
        hist: {
          kind: "histogram",
          loc: t.loc,
          type: t.content === "@hist_log" ? "log" : "linear",
          stat,
          params,
        },
      };
    }
    return { token: t, hist: null };
  }

  private parseIndexable(): A.SymbolExpr | A.HistogramOp {
    const { token, hist } = this.parseHistOrName();
    return hist ?? { kind: "symbol", loc: token.loc, name: token.content };
  }

  private parseSymbol(): A.Expr {
    const { token: t, hist } = this.parseHistOrName();
    let base: A.SymbolExpr | A.HistogramOp;
    if (hist) base = hist;
    else {
      const name = t.content;
      switch (name) {
        case "@defined":
        case "@entry": {
          this.expectOp("(");
          const expr = this.parseExpression();
          this.expectOp(")");
          return { kind: name === "@defined" ? "defined" : "entry", loc: t.loc, expr };
        }
        case "@probewrite": {
          this.expectOp("(");
          const n = this.next();
          if (n.type !== "identifier") throw new ParseError("expected identifier");
          this.swallow();
          this.expectOp(")");
          return { kind: "probewrite", loc: t.loc, name: n.content };
        }
        case "@const": {
          if (!this.privileged) {
            throw new ParseError("using @const operator not permitted; need stap -g", null, false);
          }
          this.expectOp("(");
          const c = this.expectString();
          if (c === "") throw new ParseError("expected non-empty string");
          this.expectOp(")");
          return { kind: "const", loc: t.loc, name: c };
        }
        case "@perf": {
          this.expectOp("(");
          const s = this.parseLiteralString();
          if (s.raw === "") throw new ParseError("expected non-empty string");
          this.expectOp(")");
          return { kind: "perf", loc: t.loc, name: s.value };
        }
        case "@kregister":
        case "@uregister": {
          const user = name === "@uregister";
          if (!user && !this.privileged) {
            throw new ParseError("using @kregister operator not permitted; need stap -g", null, false);
          }
          this.expectOp("(");
          const regno = this.expectNumber();
          this.expectOp(")");
          return { kind: "target_register", loc: t.loc, userspace: user, regno };
        }
        case "@kderef":
        case "@uderef": {
          const user = name === "@uderef";
          if (!user && !this.privileged) {
            throw new ParseError("using @kderef operator not permitted; need stap -g", null, false);
          }
          this.expectOp("(");
          const size = this.expectNumber();
          this.expectOp(",");
          const address = this.parseExpression();
          this.expectOp(")");
          return { kind: "target_deref", loc: t.loc, userspace: user, size: Number(size.value), address };
        }
      }
      if (name[0] === "@") return this.parseStatOp(t);
      if (PRINT_FUNCTIONS.has(name)) return this.parsePrint(t);
      if (this.peekOp("(")) {
        this.swallow();
        const call: A.FunctionCall = { kind: "call", loc: t.loc, name, args: [] };
        if (this.peekOp(")")) {
          this.swallow();
          return call;
        }
        for (;;) {
          call.args.push(this.parseExpression());
          if (this.expectOpAny([")", ","]) === ")") return call;
        }
      }
      base = { kind: "symbol", loc: t.loc, name };
    }
    if (this.peekOp("[")) {
      this.swallow();
      const ai: A.ArrayIndex = { kind: "array_index", loc: t.loc, base, indexes: [] };
      for (;;) {
        if (this.peekOp("*")) {
          this.swallow();
          ai.indexes.push(null);
        } else ai.indexes.push(this.parseExpression());
        if (this.expectOpAny(["]", ","]) === "]") return ai;
      }
    }
    if (base.kind === "histogram") {
      throw new ParseError("base histogram operator where expression expected", t);
    }
    return base;
  }

  private parseStatOp(t: Token): A.StatOp {
    const ops: Record<string, A.StatFunction> = {
      "@avg": "avg",
      "@variance": "variance",
      "@count": "count",
      "@sum": "sum",
      "@min": "min",
      "@max": "max",
    };
    const op = ops[t.content];
    if (!op) throw new ParseError(`unknown operator ${t.content}`);
    const maxParams = op === "variance" ? 1 : 0;
    this.expectOp("(");
    const stat = this.parseExpression();
    let bitShift: A.NumberLiteral | null = null;
    let params = 0;
    for (;;) {
      const n = this.next();
      if (n.type === "operator" && n.content === ")") {
        this.swallow();
        break;
      }
      if (n.type === "operator" && n.content === ",") {
        if (params >= maxParams) {
          throw new ParseError(
            `not more than ${maxParams + 1} parameter${maxParams + 1 === 1 ? "" : "s"} allowed`,
            n,
          );
        }
        this.swallow();
        bitShift = this.expectNumber();
        params++;
      }
      // Like stap, any other token here is skipped.
    }
    return { kind: "stat_op", loc: t.loc, op, stat, bitShift };
  }

  private parsePrint(t: Token): A.PrintFormat {
    const name = t.content;
    const fmt: A.PrintFormat = {
      kind: "print_format",
      loc: t.loc,
      name,
      format: null,
      delimiter: null,
      args: [],
      returnsString: name[0] === "s",
      newline: name.endsWith("ln"),
      histogram: null,
    };
    this.expectOp("(");
    const base = fmt.returnsString ? name.slice(1) : name;
    if (
      (base === "print" || base === "println") && (this.peekOp("@hist_linear") || this.peekOp("@hist_log"))
    ) {
      const { token: ht, hist } = this.parseHistOrName();
      if (!this.peekOp("[")) fmt.histogram = hist;
      else {
        this.expectOp("[");
        const index = this.parseExpression();
        this.expectOp("]");
        fmt.args.push({ kind: "array_index", loc: ht.loc, base: hist!, indexes: [index] });
        while (!this.peekOp(")")) {
          this.expectOpAny([",", ")"]);
          fmt.args.push(this.parseExpression());
        }
      }
    } else {
      let minArgs = 0;
      let consumed = false;
      if (base === "printf") {
        fmt.format = this.parseLiteralString();
        const problem = formatError(fmt.format.raw);
        if (problem) throw new ParseError(problem);
        consumed = true;
      } else if (base === "printd" || base === "printdln") {
        fmt.delimiter = this.parseLiteralString();
        consumed = true;
        minArgs = 2;
      } else if (base === "print") {
        minArgs = 1;
      }
      while (minArgs || !this.peekOp(")")) {
        if (consumed) this.expectOpAny([",", ")"]);
        fmt.args.push(this.parseExpression());
        consumed = true;
        if (minArgs) minArgs--;
      }
    }
    this.expectOp(")");
    return fmt;
  }
}

type TargetLike = A.TargetSymbol | A.CastExpr | A.AtVarExpr | A.AutoCastExpr;

function isTargetLike(e: A.Expr): e is TargetLike {
  return e.kind === "target_symbol" || e.kind === "cast" || e.kind === "at_var" || e.kind === "autocast";
}

interface ParsedPoint {
  components: { node: A.ProbePointComponent; token: Token }[];
  optional: boolean;
  sufficient: boolean;
  point: A.ProbePoint;
}

function targetOf(options: ParseOptions): TargetOptions {
  return {
    kernelRelease: options.kernelRelease ?? DEFAULT_TARGET.kernelRelease,
    arch: options.arch ?? DEFAULT_TARGET.arch,
    config: options.config ?? DEFAULT_TARGET.config,
    systemtapVersion: options.systemtapVersion ?? DEFAULT_TARGET.systemtapVersion,
    runtime: options.runtime ?? DEFAULT_TARGET.runtime,
    privilege: options.privilege ?? DEFAULT_TARGET.privilege,
    guru: options.guru ?? DEFAULT_TARGET.guru,
  };
}

function toDiagnostic(w: { message: string; loc: A.SourceLoc }): Diagnostic {
  return { ...w.loc, message: w.message, saw: "", label: "saw" };
}

/** Parses one script file (after preprocessing it for the target in `options`). */
export function parseScript(source: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? "<input>";
  const target = targetOf(options);
  const args = options.args ?? [];
  const lexer = new Lexer(source, file, args);
  const pp = new Preprocessor(lexer, target, options.libraryMacros ?? new Map());
  const script: A.Script = {
    kind: "script",
    file,
    probes: [],
    aliases: [],
    functions: [],
    globals: [],
    embeds: [],
    items: [],
  };
  const parser = new Parser(pp, file, target.guru, args.length);
  let empty: boolean;
  try {
    empty = parser.parse(script);
  } catch (e) {
    if (!(e instanceof FatalError)) throw e;
    const fatal: Diagnostic = {
      file,
      line: 0,
      column: 0,
      message: e.message,
      saw: "",
      label: "saw",
      fatal: true,
    };
    return { script, errors: [fatal], warnings: pp.warnings.map(toDiagnostic), empty: "no" };
  }
  return {
    script,
    errors: parser.errors,
    warnings: pp.warnings.map(toDiagnostic),
    empty: !empty ? "no" : lexer.sawTokens ? "empty_after_preprocessing" : "empty",
  };
}

/**
 * Reads the `@define`s of tapset `.stpm` files into a library usable by {@linkcode parseScript} (stap loads
 * every `.stpm` of its tapset directories in pass 1). Files with errors or duplicate macros are left out, as
 * stap does; their diagnostics are returned.
 */
export function parseLibraryMacros(
  files: readonly { file: string; source: string }[],
  options: Partial<TargetOptions> = {},
): { macros: Map<string, MacroDecl>; errors: Diagnostic[] } {
  const target = targetOf(options);
  const macros = new Map<string, MacroDecl>();
  const errors: Diagnostic[] = [];
  for (const { file, source } of files) {
    const lexer = new Lexer(source, file);
    const pp = new Preprocessor(lexer, target, macros, true);
    const parser = new Parser(pp, file, target.guru, 0);
    try {
      const t = pp.scan();
      if (t) throw new ParseError(`unexpected token in library macro file '${file}'`, t);
      const dup = [...pp.macros.keys()].find((name) => macros.has(name));
      if (dup) {
        throw new ParseError(`duplicate definition of library macro '@${dup}'`, pp.macros.get(dup)!.token);
      }
    } catch (e) {
      if (e instanceof FatalError) {
        errors.push({ file, line: 0, column: 0, message: e.message, saw: "", label: "saw", fatal: true });
        continue;
      }
      if (!(e instanceof ParseError)) throw e;
      parser.report(e);
      errors.push(...parser.errors);
      continue;
    }
    for (const [name, decl] of pp.macros) macros.set(name, { ...decl, library: true });
  }
  return { macros, errors };
}

/** Formats diagnostics the way `stap -p1` prints them (without the final count line). */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): string {
  let out = "";
  for (const d of diagnostics) {
    if (d.duplicate) continue;
    out += `parse error: ${d.message}\n`;
    if (d.line === 0) {
      out += `        saw: ${d.file} EOF\n`;
      continue;
    }
    out += d.label === "at" ? `         at: ${d.saw}\n` : `        saw: ${d.saw}\n`;
    const src = sources.get(d.file);
    if (src !== undefined) {
      out += `     source: ${Lexer.lineText(src, d.line)}\n`;
      out += " ".repeat(13 + d.column - 1) + "^\n";
    }
  }
  return out;
}
