/**
 * Statements: blocks, `try`/`catch`, `if`, `for`, `while`, `foreach` (with its sort, slice, aggregate and
 * `limit` clauses), `return`, `delete`, `break`/`continue`/`next` and expression statements. They hold
 * expressions but no expression holds a statement, so this module depends on the expression modules and
 * never the reverse.
 * @module
 */

import type * as A from "./ast.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { parseExpression } from "./parser_expressions.ts";
import { parseIndexable } from "./parser_values.ts";

/** A `{ … }` block of statements. */
export function parseBlock(state: ParserState): A.Block {
  const t = state.next();
  if (!(t.type === "operator" && t.content === "{")) throw new ParseError("expected '{'");
  const block: A.Block = { kind: "block", loc: t.loc, statements: [] };
  for (;;) {
    if (state.peekOp("}")) {
      state.swallow();
      return block;
    }
    block.statements.push(parseStatement(state));
  }
}

function parseTry(state: ParserState): A.TryStatement {
  const t = state.expectKw("try");
  const body = parseBlock(state);
  state.expectKw("catch");
  let catchVar: A.SymbolExpr | null = null;
  if (state.peekOp("(")) {
    state.swallow();
    const v = state.next();
    if (v.type !== "identifier") throw new ParseError("expected identifier");
    catchVar = { kind: "symbol", loc: v.loc, name: v.content };
    state.expectOp(")");
  }
  const handler = parseBlock(state);
  return { kind: "try", loc: t.loc, body, catchVar, handler };
}

function parseStatement(state: ParserState): A.Statement {
  const t = state.peek();
  if (t && t.type === "operator" && t.content === ";") {
    state.next();
    return { kind: "null", loc: t.loc };
  }
  if (t && t.type === "operator" && t.content === "{") return parseBlock(state);
  if (t && t.type === "keyword") {
    switch (t.content) {
      case "try":
        return parseTry(state);
      case "if":
        return parseIf(state);
      case "for":
        return parseFor(state);
      case "foreach":
        return parseForeach(state);
      case "while":
        return parseWhile(state);
    }
  }
  let ret: A.Statement;
  if (t && t.type === "keyword" && t.content === "return") ret = parseReturn(state);
  else if (t && t.type === "keyword" && t.content === "delete") {
    state.next();
    ret = { kind: "delete", loc: t.loc, target: parseExpression(state) };
  } else if (
    t && t.type === "keyword" && (t.content === "break" || t.content === "continue" || t.content === "next")
  ) {
    state.next();
    ret = { kind: t.content, loc: t.loc } as A.BreakStatement | A.ContinueStatement | A.NextStatement;
  } else if (
    t && (t.type === "operator" || t.type === "identifier" || t.type === "number" || t.type === "string" ||
      t.type === "embedded-code")
  ) {
    ret = { kind: "expr_statement", loc: t.loc, expr: parseExpression(state) };
  } else throw new ParseError("expected statement");
  if (state.peekOp(";")) state.swallow();
  return ret;
}

function parseIf(state: ParserState): A.IfStatement {
  const t = state.next();
  const o = state.next();
  if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
  state.swallow();
  const condition = parseExpression(state);
  state.expectClose();
  const then = parseStatement(state);
  let otherwise: A.Statement | null = null;
  if (state.peekKw("else")) {
    state.swallow();
    otherwise = parseStatement(state);
  }
  return { kind: "if", loc: t.loc, condition, then, otherwise };
}

function parseReturn(state: ParserState): A.ReturnStatement {
  const t = state.next();
  if (state.context !== "function") throw new ParseError("found 'return' not in function context");
  const n = state.peek();
  if (!n) throw new ParseError("expected ';', '}' or an expression statement");
  const value = n.type === "operator" && (n.content === ";" || n.content === "}")
    ? null
    : parseExpression(state);
  return { kind: "return", loc: t.loc, value };
}

function parseFor(state: ParserState): A.ForStatement {
  const t = state.next();
  const o = state.next();
  if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
  state.swallow();
  let init: A.Expr | null = null;
  if (state.peekOp(";")) state.swallow();
  else {
    init = parseExprStatement(state);
    const s = state.next();
    if (!(s.type === "operator" && s.content === ";")) throw new ParseError("expected ';'");
    state.swallow();
  }
  let condition: A.Expr | null = null;
  if (state.peekOp(";")) state.next();
  else {
    condition = parseExpression(state);
    const s = state.next();
    if (!(s.type === "operator" && s.content === ";")) throw new ParseError("expected ';'");
    state.swallow();
  }
  let step: A.Expr | null = null;
  if (state.peekOp(")")) state.swallow();
  else {
    step = parseExprStatement(state);
    state.expectClose();
  }
  const body = parseStatement(state);
  return { kind: "for", loc: t.loc, init, condition, step, body };
}

function parseExprStatement(state: ParserState): A.Expr {
  if (state.peek() === null) throw new ParseError("expression statement expected");
  return parseExpression(state);
}

function parseWhile(state: ParserState): A.WhileStatement {
  const t = state.next();
  const o = state.next();
  if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
  state.swallow();
  const condition = parseExpression(state);
  state.expectClose();
  const body = parseStatement(state);
  return { kind: "while", loc: t.loc, condition, body };
}

function parseForeach(state: ParserState): A.ForeachStatement {
  const t = state.next();
  const o = state.next();
  if (!(o.type === "operator" && o.content === "(")) throw new ParseError("expected '('");
  state.swallow();
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
  let n = state.peek();
  if (n && n.type === "identifier") {
    state.next();
    lookahead = { kind: "symbol", loc: n.loc, name: n.content };
    n = state.peek();
    if (n && n.type === "operator" && (n.content === "+" || n.content === "-")) {
      lookaheadSort = n.content === "+" ? 1 : -1;
      state.swallow();
    }
    if (state.peekOp("=")) {
      state.swallow();
      s.value = lookahead;
      if (lookaheadSort) {
        s.sortDirection = lookaheadSort;
        s.sortColumn = 0;
      }
      lookahead = null;
    }
  }
  let bracketed = false;
  if (!lookahead && state.peekOp("[")) {
    state.swallow();
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
      const k = state.next();
      if (k.type !== "identifier") throw new ParseError("expected identifier");
      s.keys.push({ kind: "symbol", loc: k.loc, name: k.content });
      const m = state.peek();
      if (m && m.type === "operator" && (m.content === "+" || m.content === "-")) {
        if (s.sortDirection) throw new ParseError("multiple sort directives");
        s.sortDirection = m.content === "+" ? 1 : -1;
        s.sortColumn = s.keys.length;
        state.swallow();
      }
      if (!bracketed) break;
      if (state.peekOp(",")) {
        state.swallow();
        continue;
      }
      if (state.peekOp("]")) {
        state.swallow();
        break;
      }
      throw new ParseError("expected ',' or ']'");
    }
  }
  const inTok = state.next();
  if (!(inTok.type === "keyword" && inTok.content === "in")) throw new ParseError("expected 'in'");
  state.swallow();
  s.array = parseIndexable(state);
  if (state.peekOp("[")) {
    state.swallow();
    s.slice = [];
    for (;;) {
      if (state.peekOp("*")) {
        state.swallow();
        s.slice.push(null);
      } else s.slice.push(parseExpression(state));
      if (state.peekOp(",")) {
        state.swallow();
        continue;
      }
      if (state.peekOp("]")) {
        state.swallow();
        break;
      }
      throw new ParseError("expected ',' or ']'");
    }
  }
  n = state.peek();
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
    state.swallow();
    const m = state.peek();
    if (!(m && m.type === "operator" && (m.content === "+" || m.content === "-"))) {
      throw new ParseError("expected sort directive");
    }
  }
  n = state.peek();
  if (n && n.type === "operator" && (n.content === "+" || n.content === "-")) {
    if (s.sortDirection) throw new ParseError("multiple sort directives");
    s.sortDirection = n.content === "+" ? 1 : -1;
    s.sortColumn = 0;
    state.swallow();
  }
  if (state.peekKw("limit")) {
    state.swallow();
    s.limit = parseExpression(state);
  }
  state.expectClose();
  s.body = parseStatement(state);
  return s;
}
