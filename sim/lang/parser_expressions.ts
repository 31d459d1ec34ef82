/**
 * Expressions by operator precedence, one function per level as in stap's parse.cxx.
 *
 * Precedence, loosest first: assignment (`= += -= *= /= %= <<= >>= &= ^= |= .= <<<`, right associative),
 * `?:`, `||`, `&&`, `|`, `^`, `&`, `in`, comparison and `=~ !~`, `<< >> >>>`, `.` (concatenation), `+ -`,
 * `* / %`, unary `+ - ! ~`, `++ --`, then values with their `->field`/`[index]` suffixes
 * (`parser_targets.ts`, `parser_values.ts`).
 *
 * The expression modules import one another, as the grammar is recursive (a value can be a parenthesised
 * expression); only functions cross between them, called after every module has loaded.
 * @module
 */

import type * as A from "./ast.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { parseLiteralString } from "./parser_literals.ts";
import { parseDwarfValue } from "./parser_targets.ts";
import { parseIndexable } from "./parser_values.ts";

const ASSIGN_OPS = new Set(["=", "<<<", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", ".="]);
const COMPARE_OPS = new Set([">", "<", "==", "!=", "<=", ">="]);

/** An expression, assignments included (stap's parse_expression). */
export function parseExpression(state: ParserState): A.Expr {
  const left = parseTernary(state);
  const t = state.peek();
  if (t && t.type === "operator" && ASSIGN_OPS.has(t.content)) {
    state.next();
    const value = parseExpression(state);
    return { kind: "assignment", loc: t.loc, op: t.content as A.AssignmentOperator, target: left, value };
  }
  return left;
}

function parseTernary(state: ParserState): A.Expr {
  const condition = parseLogical(state, 0);
  const t = state.peek();
  if (t && t.type === "operator" && t.content === "?") {
    state.next();
    const then = parseExpression(state);
    const c = state.next();
    if (!(c.type === "operator" && c.content === ":")) throw new ParseError("expected ':'");
    state.swallow();
    const otherwise = parseTernary(state);
    return { kind: "ternary", loc: t.loc, condition, then, otherwise };
  }
  return condition;
}

// Levels 0..4: || && | ^ &; below them `in`.
const LOGICAL_LEVELS = ["||", "&&", "|", "^", "&"];

function parseLogical(state: ParserState, level: number): A.Expr {
  if (level === 5) return parseArrayIn(state);
  const op = LOGICAL_LEVELS[level];
  let left = parseLogical(state, level + 1);
  for (;;) {
    const t = state.peek();
    if (!(t && t.type === "operator" && t.content === op)) return left;
    state.next();
    const right = parseLogical(state, level + 1);
    left = level < 2
      ? { kind: "logical", loc: t.loc, op: op as "&&" | "||", left, right }
      : { kind: "binary", loc: t.loc, op: op as A.BinaryOperator, left, right };
  }
}

function parseArrayIn(state: ParserState): A.Expr {
  const indexes: (A.Expr | null)[] = [];
  let bracketed = false;
  const first = state.peek();
  if (state.peekOp("[")) {
    state.swallow();
    bracketed = true;
  }
  for (;;) {
    if (bracketed && state.peekOp("*")) {
      state.swallow();
      indexes.push(null);
    } else indexes.push(parseComparison(state));
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
  const t = state.peek();
  if (t && t.type === "keyword" && t.content === "in") {
    state.next();
    const array = parseIndexable(state);
    return { kind: "in", loc: first?.loc ?? t.loc, keys: indexes, array };
  }
  if (indexes.length === 1 && indexes[0]) return indexes[0];
  if (indexes.length === 1) throw new ParseError("expected 'in'");
  throw new ParseError("unexpected comma-separated expression list");
}

function parseComparison(state: ParserState): A.Expr {
  let left = parseShift(state);
  let t = state.peek();
  if (t && t.type === "operator" && (t.content === "=~" || t.content === "!~")) {
    state.next();
    const pattern = parseLiteralString(state);
    return { kind: "regex_match", loc: t.loc, op: t.content, left, pattern };
  }
  while (t && t.type === "operator" && COMPARE_OPS.has(t.content)) {
    state.next();
    const right = parseShift(state);
    left = { kind: "comparison", loc: t.loc, op: t.content as A.ComparisonExpr["op"], left, right };
    t = state.peek();
  }
  return left;
}

function parseShift(state: ParserState): A.Expr {
  let left = parseConcat(state);
  for (;;) {
    const t = state.peek();
    if (
      !(t && t.type === "operator" && (t.content === "<<" || t.content === ">>" || t.content === ">>>"))
    ) {
      return left;
    }
    state.next();
    const right = parseConcat(state);
    left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
  }
}

function parseConcat(state: ParserState): A.Expr {
  let left = parseAdditive(state);
  for (;;) {
    const t = state.peek();
    if (!(t && t.type === "operator" && t.content === ".")) return left;
    state.next();
    const right = parseAdditive(state);
    left = { kind: "concat", loc: t.loc, left, right };
  }
}

function parseAdditive(state: ParserState): A.Expr {
  let left = parseMultiplicative(state);
  for (;;) {
    const t = state.peek();
    if (!(t && t.type === "operator" && (t.content === "+" || t.content === "-"))) return left;
    state.next();
    const right = parseMultiplicative(state);
    left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
  }
}

function parseMultiplicative(state: ParserState): A.Expr {
  let left = parseUnary(state);
  for (;;) {
    const t = state.peek();
    if (!(t && t.type === "operator" && (t.content === "*" || t.content === "/" || t.content === "%"))) {
      return left;
    }
    state.next();
    const right = parseUnary(state);
    left = { kind: "binary", loc: t.loc, op: t.content as A.BinaryOperator, left, right };
  }
}

function parseUnary(state: ParserState): A.Expr {
  const t = state.peek();
  if (
    t && t.type === "operator" &&
    (t.content === "+" || t.content === "-" || t.content === "!" || t.content === "~")
  ) {
    state.next();
    const operand = parseUnary(state);
    return { kind: "unary", loc: t.loc, op: t.content as A.UnaryExpr["op"], operand };
  }
  return parseCrement(state);
}

function parseCrement(state: ParserState): A.Expr {
  const t = state.peek();
  if (t && t.type === "operator" && (t.content === "++" || t.content === "--")) {
    state.next();
    const target = parseDwarfValue(state);
    return { kind: "incdec", loc: t.loc, op: t.content as "++" | "--", prefix: true, target };
  }
  const operand = parseDwarfValue(state);
  const u = state.peek();
  if (u && u.type === "operator" && (u.content === "++" || u.content === "--")) {
    state.next();
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
