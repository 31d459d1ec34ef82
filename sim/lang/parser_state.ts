/**
 * What every part of the simulator's parser shares: the token stream, with stap's peek/next/swallow
 * semantics (the token last seen is where an error is placed, so which helper consumes a token matters), the
 * errors reported so far (stap shows each message once), the kind of declaration being parsed and whether
 * guru mode is on. The grammar's modules are functions over this one object; keeping it apart lets each of
 * them import the state and only the rules it calls.
 * @module
 */

import { junkMessage, type Token } from "./lexer.ts";
import { ParseError, type Preprocessor } from "./preprocess.ts";

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

/** The kind of top-level declaration being parsed (`return` is accepted only in a function). */
export type Context = "unknown" | "probe" | "global" | "function" | "embedded";

/** Describes a token as stap does in `saw:` lines. */
export function describeToken(t: Token): string {
  const where = `${t.loc.file}:${t.loc.line}:${t.loc.column}`;
  if (t.type === "embedded-code" || t.type === "keyword") return `${t.type} at ${where}`;
  const content = t.type === "junk" ? "" : t.content.replace(/[^\x20-\x7e]/g, "?");
  return `${t.type} '${content}' at ${where}`;
}

/** The state the grammar's functions share, one per file parsed. */
export class ParserState {
  readonly errors: Diagnostic[] = [];
  private readonly seenMessages = new Set<string>();
  private readonly pp: Preprocessor;
  private readonly file: string;
  readonly privileged: boolean;
  private readonly argCount: number;
  context: Context = "unknown";
  private lastT: Token | null = null;
  private nextT: Token | null = null;

  constructor(pp: Preprocessor, file: string, privileged: boolean, argCount: number) {
    this.pp = pp;
    this.file = file;
    this.privileged = privileged;
    this.argCount = argCount;
  }

  // ---- token stream, with stap's peek/next/swallow semantics

  next(): Token {
    if (!this.nextT) this.nextT = this.pp.scan();
    if (!this.nextT) throw new ParseError("unexpected end-of-file");
    this.lastT = this.nextT;
    this.nextT = null;
    return this.lastT;
  }

  peek(): Token | null {
    if (!this.nextT) this.nextT = this.pp.scan();
    this.lastT = this.nextT;
    return this.nextT;
  }

  swallow(): void {
    this.lastT = this.nextT = null;
  }

  peekOp(op: string): boolean {
    const t = this.peek();
    return t !== null && t.type === "operator" && t.content === op;
  }

  peekKw(kw: string): boolean {
    const t = this.peek();
    return t !== null && t.type === "keyword" && t.content === kw;
  }

  /** next() then swallow(): the token is used up and no longer "last seen" (it matters for error places). */
  take(): Token {
    const t = this.next();
    this.swallow();
    return t;
  }

  expectOp(op: string): Token {
    const t = this.next();
    if (!(t.type === "operator" && t.content === op)) throw new ParseError(`expected '${op}'`);
    this.swallow();
    return t;
  }

  expectOpAny(ops: string[]): string {
    const t = this.next();
    if (t.type === "operator" && ops.includes(t.content)) {
      this.swallow();
      return t.content;
    }
    throw new ParseError(`expected one of '${ops.join(" ")}'`);
  }

  expectKw(kw: string, swallow = true): Token {
    const t = this.next();
    if (!(t.type === "keyword" && t.content === kw)) throw new ParseError(`expected '${kw}'`);
    if (swallow) this.swallow();
    return t;
  }

  expectClose(): void {
    const t = this.next();
    if (!(t.type === "operator" && t.content === ")")) throw new ParseError("expected ')'");
    this.swallow();
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
}
