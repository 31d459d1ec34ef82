/**
 * Probe point specifications: dotted components with optional literal arguments (`kernel.function("x")`),
 * brace alternatives expanded to their cross product (`{a,b}.c`), the `?`/`!` suffixes and an `if (…)`
 * condition, with stap's checks that these come only at the end. A small grammar of its own inside a probe
 * declaration (stap's parse_probe_point and parse_component), with its own working record of each expanded
 * point (`ParsedPoint`).
 * @module
 */

import type * as A from "./ast.ts";
import type { Token } from "./lexer.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { parseLiteral } from "./parser_literals.ts";
import { parseExpression } from "./parser_expressions.ts";

/** One expanded probe point, with the tokens of its components (errors about it are placed at the first). */
export interface ParsedPoint {
  components: { node: A.ProbePointComponent; token: Token }[];
  optional: boolean;
  sufficient: boolean;
  point: A.ProbePoint;
}

/** Comma-separated probe points, up to the `{`, `=`, `+=` or `}` after them (left unread). */
export function parseProbePoints(state: ParserState): ParsedPoint[] {
  const pps: ParsedPoint[] = [];
  for (;;) {
    pps.push(...parseComponents(state));
    const t = state.peek();
    if (t && t.type === "operator" && t.content === ",") {
      state.swallow();
      continue;
    }
    if (t && t.type === "operator" && ["{", "=", "+=", "}"].includes(t.content)) break;
    throw new ParseError("expected one of ', { } = +='");
  }
  return pps;
}

function parseComponents(state: ParserState): ParsedPoint[] {
  let pps: ParsedPoint[] = [];
  for (;;) {
    const suffix = parseComponent(state);
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
    let t = state.peek();
    if (t && t.type === "operator" && t.content === ".") {
      state.swallow();
      continue;
    }
    if (t && t.type === "operator" && (t.content === "?" || t.content === "!")) {
      for (const p of pps) {
        if (p.optional || p.sufficient) throw new ParseError("'?' or '!' respecified");
        p.optional = p.point.optional = true;
        if (t.content === "!") p.sufficient = p.point.sufficient = true;
      }
      state.swallow();
      t = state.peek();
    }
    if (t && t.type === "keyword" && t.content === "if") {
      state.swallow();
      if (!state.peekOp("(")) throw new ParseError("expected '('");
      state.swallow();
      const e = parseExpression(state);
      for (const p of pps) {
        if (p.point.condition) throw new ParseError("condition respecified");
        p.point.condition = e;
      }
      if (!state.peekOp(")")) throw new ParseError("expected ')'");
      state.swallow();
    }
    return pps;
  }
}

function parseComponent(state: ParserState): ParsedPoint[] {
  const t = state.next();
  if (
    !(t.type === "identifier" || t.type === "keyword" ||
      (t.type === "operator" && (t.content === "*" || t.content === "{")))
  ) {
    throw new ParseError("expected identifier or '*' or '{'");
  }
  if (t.type === "operator" && t.content === "{") {
    state.swallow();
    const pps = parseProbePoints(state);
    if (!state.peekOp("}")) throw new ParseError("expected '}'");
    state.swallow();
    return pps;
  }
  let name = t.content;
  for (;;) {
    const u = state.peek();
    if (!u || u.spaceBefore) break;
    if (
      !(u.type === "identifier" || u.type === "keyword" || (u.type === "operator" && u.content === "*"))
    ) break;
    name += u.content;
    state.swallow();
  }
  const node: A.ProbePointComponent = { kind: "probe_point_component", loc: t.loc, name, arg: null };
  if (state.peekOp("(")) {
    state.swallow();
    node.arg = parseLiteral(state);
    const c = state.next();
    if (!(c.type === "operator" && c.content === ")")) throw new ParseError("expected ')'");
    state.swallow();
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
