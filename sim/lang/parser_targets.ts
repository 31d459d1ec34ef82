/**
 * Target variables and what behaves like them: `$var`, `@cast(…)`, `@var(…)`, `&` before them, the
 * `->field` and `[index]` chains after them (also after any other value, which makes it an autocast), and the
 * `$`/`$$` pretty-printing suffixes (stap's parse_dwarf_value and parse_target_symbol_components). Apart
 * from the plain values (`parser_values.ts`) because, as in stap, this is a layer between them and the
 * operators: it reads what comes around a value (`&` before it, components after it) and may wrap it.
 * @module
 */

import type * as A from "./ast.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { expectString } from "./parser_literals.ts";
import { parseExpression } from "./parser_expressions.ts";
import { parseValue } from "./parser_values.ts";

/** The nodes that take `->field`/`[index]` components and `&`. */
type TargetLike = A.TargetSymbol | A.CastExpr | A.AtVarExpr | A.AutoCastExpr;

function isTargetLike(e: A.Expr): e is TargetLike {
  return e.kind === "target_symbol" || e.kind === "cast" || e.kind === "at_var" || e.kind === "autocast";
}

/**
 * A value with its target-variable parts: a leading `&`, `$var`/`@cast`/`@var`, `->field`/`[index]`
 * components and a pretty-printing suffix (stap's parse_dwarf_value).
 */
export function parseDwarfValue(state: ParserState): A.Expr {
  const addr = state.peekOp("&") ? state.next() : null;
  const t = state.peek();
  let expr: A.Expr;
  let target: TargetLike | null = null;
  if (t && t.type === "identifier" && t.content[0] === "$") {
    state.next();
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
    expr = target = parseCast(state);
  } else if (t && t.type === "operator" && t.content === "@var") {
    expr = target = parseAtVar(state);
  } else {
    expr = parseValue(state);
    if (addr) {
      if (isTargetLike(expr)) {
        target = expr;
        if (expr.addressOf) throw new ParseError("cannot take address more than once", addr);
      }
    }
  }
  if (!target && (addr || peekTargetComponents(state))) {
    const ac: A.AutoCastExpr = {
      kind: "autocast",
      loc: (addr ?? state.peek() ?? t)!.loc,
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
    parseTargetComponents(state, target);
  }
  return expr;
}

function peekTargetComponents(state: ParserState): boolean {
  const t = state.peek();
  return t !== null &&
    ((t.type === "operator" && (t.content === "->" || t.content === "[")) ||
      (t.type === "identifier" && /^\$+$/.test(t.content)));
}

function parseTargetComponents(state: ParserState, e: TargetLike): void {
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
    if (state.peekOp("->")) {
      const t = state.next();
      const n = state.next();
      if (!(n.type === "identifier" || n.type === "keyword")) {
        throw new ParseError("expected identifier or keyword");
      }
      state.swallow();
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
    } else if (state.peekOp("[")) {
      const t = state.next();
      const index = parseExpression(state);
      e.components.push({ kind: "index", index, loc: t.loc });
      state.expectOp("]");
    } else break;
  }
  if (!pretty) {
    const t = state.peek();
    if (t && t.type === "identifier" && /^\$+$/.test(t.content)) {
      state.next();
      e.pretty = t.content.length >= 2 ? 2 : 1;
      pretty = true;
    }
  }
  if (pretty && (state.peekOp("->") || state.peekOp("["))) {
    throw new ParseError("-> and [ are not accepted for a pretty-printing variable");
  }
}

function parseCast(state: ParserState): A.CastExpr {
  const t = state.next();
  state.expectOp("(");
  const operand = parseExpression(state);
  state.expectOp(",");
  const type = expectString(state);
  if (type === "") throw new ParseError("expected non-empty string");
  let module: string | null = null;
  if (state.peekOp(",")) {
    state.swallow();
    module = expectString(state);
  }
  state.expectOp(")");
  return { kind: "cast", loc: t.loc, operand, type, module, components: [], addressOf: false, pretty: 0 };
}

function parseAtVar(state: ParserState): A.AtVarExpr {
  const t = state.next();
  state.expectOp("(");
  const name = expectString(state);
  let module: string | null = null;
  if (state.peekOp(",")) {
    state.swallow();
    module = expectString(state);
  }
  state.expectOp(")");
  return { kind: "at_var", loc: t.loc, name, module, components: [], addressOf: false, pretty: 0 };
}
