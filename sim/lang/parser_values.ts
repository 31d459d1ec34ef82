/**
 * The values operators apply to: parenthesised expressions, embedded expressions, literals, names, function
 * calls, array indexes (`a[k, *]`), histograms (`@hist_linear`, `@hist_log`), statistics (`@count(s)`, …)
 * and the other `@` operators (`@defined`, `@entry`, `@const`, `@perf`, `@kregister`, `@uderef`, …). The
 * print family has its own module (`parser_print.ts`).
 * @module
 */

import type * as A from "./ast.ts";
import type { Token } from "./lexer.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { expectNumber, expectString, parseLiteral, parseLiteralString } from "./parser_literals.ts";
import { parseExpression } from "./parser_expressions.ts";
import { parsePrint, PRINT_FUNCTIONS } from "./parser_print.ts";

/**
 * A value before any suffix: `( … )`, embedded expression code, a name or `@` operator (with its call or
 * index), or a literal.
 */
export function parseValue(state: ParserState): A.Expr {
  const t = state.peek();
  if (!t) throw new ParseError("expected value");
  if (t.type === "embedded-code") {
    if (!state.privileged) {
      throw new ParseError("embedded expression code in unprivileged script; need stap -g", null, false);
    }
    state.next();
    return { kind: "embedded_expr", loc: t.loc, code: t.content };
  }
  if (t.type === "operator" && t.content === "(") {
    state.swallow();
    const e = parseExpression(state);
    state.expectClose();
    return e;
  }
  if (t.type === "identifier" || (t.type === "operator" && t.content[0] === "@")) return parseSymbol(state);
  return parseLiteral(state);
}

/** An identifier or a histogram operator (stap's parse_hist_op_or_bare_name). */
export function parseHistOrName(state: ParserState): { token: Token; hist: A.HistogramOp | null } {
  const t = state.next();
  if (!(t.type === "identifier" || (t.type === "operator" && t.content[0] === "@"))) {
    throw new ParseError("expected identifier or statistical operation");
  }
  if (t.content === "@hist_linear" || t.content === "@hist_log") {
    state.expectOp("(");
    const stat = parseExpression(state);
    const params: A.NumberLiteral[] = [];
    if (t.content === "@hist_linear") {
      for (let i = 0; i < 3; i++) {
        state.expectOp(",");
        params.push(expectNumber(state));
      }
    }
    state.expectOp(")");
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

/** What `in` and `foreach` take: an array's name or a histogram. */
export function parseIndexable(state: ParserState): A.SymbolExpr | A.HistogramOp {
  const { token, hist } = parseHistOrName(state);
  return hist ?? { kind: "symbol", loc: token.loc, name: token.content };
}

function parseSymbol(state: ParserState): A.Expr {
  const { token: t, hist } = parseHistOrName(state);
  let base: A.SymbolExpr | A.HistogramOp;
  if (hist) base = hist;
  else {
    const name = t.content;
    switch (name) {
      case "@defined":
      case "@entry": {
        state.expectOp("(");
        const expr = parseExpression(state);
        state.expectOp(")");
        return { kind: name === "@defined" ? "defined" : "entry", loc: t.loc, expr };
      }
      case "@probewrite": {
        state.expectOp("(");
        const n = state.next();
        if (n.type !== "identifier") throw new ParseError("expected identifier");
        state.swallow();
        state.expectOp(")");
        return { kind: "probewrite", loc: t.loc, name: n.content };
      }
      case "@const": {
        if (!state.privileged) {
          throw new ParseError("using @const operator not permitted; need stap -g", null, false);
        }
        state.expectOp("(");
        const c = expectString(state);
        if (c === "") throw new ParseError("expected non-empty string");
        state.expectOp(")");
        return { kind: "const", loc: t.loc, name: c };
      }
      case "@perf": {
        state.expectOp("(");
        const s = parseLiteralString(state);
        if (s.raw === "") throw new ParseError("expected non-empty string");
        state.expectOp(")");
        return { kind: "perf", loc: t.loc, name: s.value };
      }
      case "@kregister":
      case "@uregister": {
        const user = name === "@uregister";
        if (!user && !state.privileged) {
          throw new ParseError("using @kregister operator not permitted; need stap -g", null, false);
        }
        state.expectOp("(");
        const regno = expectNumber(state);
        state.expectOp(")");
        return { kind: "target_register", loc: t.loc, userspace: user, regno };
      }
      case "@kderef":
      case "@uderef": {
        const user = name === "@uderef";
        if (!user && !state.privileged) {
          throw new ParseError("using @kderef operator not permitted; need stap -g", null, false);
        }
        state.expectOp("(");
        const size = expectNumber(state);
        state.expectOp(",");
        const address = parseExpression(state);
        state.expectOp(")");
        return { kind: "target_deref", loc: t.loc, userspace: user, size: Number(size.value), address };
      }
    }
    if (name[0] === "@") return parseStatOp(state, t);
    if (PRINT_FUNCTIONS.has(name)) return parsePrint(state, t);
    if (state.peekOp("(")) {
      state.swallow();
      const call: A.FunctionCall = { kind: "call", loc: t.loc, name, args: [] };
      if (state.peekOp(")")) {
        state.swallow();
        return call;
      }
      for (;;) {
        call.args.push(parseExpression(state));
        if (state.expectOpAny([")", ","]) === ")") return call;
      }
    }
    base = { kind: "symbol", loc: t.loc, name };
  }
  if (state.peekOp("[")) {
    state.swallow();
    const ai: A.ArrayIndex = { kind: "array_index", loc: t.loc, base, indexes: [] };
    for (;;) {
      if (state.peekOp("*")) {
        state.swallow();
        ai.indexes.push(null);
      } else ai.indexes.push(parseExpression(state));
      if (state.expectOpAny(["]", ","]) === "]") return ai;
    }
  }
  if (base.kind === "histogram") {
    throw new ParseError("base histogram operator where expression expected", t);
  }
  return base;
}

function parseStatOp(state: ParserState, t: Token): A.StatOp {
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
  state.expectOp("(");
  const stat = parseExpression(state);
  let bitShift: A.NumberLiteral | null = null;
  let params = 0;
  for (;;) {
    const n = state.next();
    if (n.type === "operator" && n.content === ")") {
      state.swallow();
      break;
    }
    if (n.type === "operator" && n.content === ",") {
      if (params >= maxParams) {
        throw new ParseError(
          `not more than ${maxParams + 1} parameter${maxParams + 1 === 1 ? "" : "s"} allowed`,
          n,
        );
      }
      state.swallow();
      bitShift = expectNumber(state);
      params++;
    }
    // Like stap, any other token here is skipped.
  }
  return { kind: "stat_op", loc: t.loc, op, stat, bitShift };
}
