/**
 * The top level of a script: `probe` (with its aliases, `=` prologue and `+=` epilogue), `global` and
 * `private` declarations, `function` definitions and `%{ %}` embedded code, and stap's recovery after an
 * error (skip to the next top-level keyword). This is the only part that sets the declaration context the
 * statements check (`return` outside a function).
 * @module
 */

import type * as A from "./ast.ts";
import type { Token } from "./lexer.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { expectNumber, parseLiteral } from "./parser_literals.ts";
import { parseProbePoints } from "./parser_probe_points.ts";
import { parseBlock } from "./parser_statements.ts";

/**
 * Parses a file's declarations to its end, reporting each error to `state` and recovering as stap does;
 * true when the file held no token.
 */
export function parseTopLevel(state: ParserState, script: A.Script): boolean {
  let empty = true;
  for (;;) {
    try {
      const t = state.peek();
      if (!t) break;
      empty = false;
      if (t.type === "keyword" && t.content === "probe") {
        state.context = "probe";
        parseProbe(state, script);
      } else if (t.type === "keyword" && t.content === "private") {
        state.context = "unknown";
        parsePrivate(state, script);
      } else if (t.type === "keyword" && t.content === "global") {
        state.context = "global";
        state.take();
        parseGlobals(state, script, null, false);
      } else if (t.type === "keyword" && t.content === "function") {
        state.context = "function";
        state.take();
        parseFunction(state, script, false);
      } else if (t.type === "embedded-code") {
        state.context = "embedded";
        const e = parseEmbeddedCode(state);
        script.embeds.push(e);
        script.items.push(e);
      } else {
        state.context = "unknown";
        throw new ParseError("expected 'probe', 'global', 'private', 'function', or '%{'");
      }
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      state.report(e);
      if (e.skipSome) recover(state);
    }
  }
  return empty;
}

function recover(state: ParserState): void {
  for (;;) {
    try {
      const t = state.peek();
      if (!t) return;
      if (t.type === "keyword" && ["probe", "private", "global", "function"].includes(t.content)) return;
      if (t.type === "embedded-code") return;
      state.swallow();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      state.report(e);
    }
  }
}

function parseProbe(state: ParserState, script: A.Script): void {
  const t0 = state.next();
  const aliases: A.ProbePoint[] = [];
  let locations: A.ProbePoint[] = [];
  let epilogue = false;
  for (;;) {
    const pps = parseProbePoints(state);
    const t = state.peek();
    if (pps.length === 1 && t && t.type === "operator" && (t.content === "=" || t.content === "+=")) {
      if (pps[0].optional || pps[0].sufficient) {
        throw new ParseError(
          "probe point alias name cannot be optional nor sufficient",
          pps[0].components[0].token,
        );
      }
      aliases.push(pps[0].point);
      if (t.content === "+=") epilogue = true;
      state.swallow();
      continue;
    }
    if (t && t.type === "operator" && t.content === "{") {
      locations = pps.map((p) => p.point);
      break;
    }
    throw new ParseError("expected probe point specifier");
  }
  if (aliases.length === 0) {
    const body = parseBlock(state);
    const p: A.ProbeDecl = { kind: "probe", loc: t0.loc, points: locations, body, private: false };
    script.probes.push(p);
    script.items.push(p);
    return;
  }
  const body = parseBlock(state);
  const alias: A.AliasDecl = {
    kind: "alias",
    loc: t0.loc,
    names: aliases,
    points: locations,
    style: epilogue ? "epilogue" : "prologue",
    body,
    private: false,
  };
  const t = state.peek();
  if (t && t.content === ",") {
    if (epilogue) throw new ParseError("Combined prologue and epilogue cannot be defined with '+='");
    state.swallow();
    alias.epilogueBody = parseBlock(state);
  }
  script.aliases.push(alias);
  script.items.push(alias);
}

function parseEmbeddedCode(state: ParserState): A.EmbeddedCode {
  const t = state.next();
  if (t.type !== "embedded-code") throw new ParseError("expected '%{'");
  if (!state.privileged) {
    throw new ParseError("embedded code in unprivileged script; need stap -g", null, false);
  }
  return { kind: "embedded_code", loc: t.loc, code: t.content };
}

function parsePrivate(state: ParserState, script: A.Script): void {
  state.take();
  const t = state.next();
  if (t.type === "keyword" && t.content === "function") {
    state.swallow();
    state.context = "function";
    parseFunction(state, script, true);
  } else if (t.type === "keyword" && t.content === "global") {
    state.swallow();
    state.context = "global";
    const n = state.next();
    if (n.type !== "identifier") throw new ParseError("expected identifier");
    parseGlobals(state, script, n, true);
  } else if (t.type === "identifier") {
    state.context = "global";
    parseGlobals(state, script, t, true);
  } else throw new ParseError("expected 'function' or identifier");
}

function parseGlobals(state: ParserState, script: A.Script, first: Token | null, priv: boolean): void {
  let iter0 = true;
  for (;;) {
    const t = iter0 && priv && first ? first : state.next();
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
    let n = state.peek();
    if (n && n.type === "operator" && n.content === "%") {
      d.wrap = true;
      state.swallow();
      n = state.peek();
    }
    if (n && n.type === "operator" && n.content === "[") {
      state.swallow();
      const size = expectNumber(state);
      if (size.value <= 0n || size.value > 2147483647n) throw new ParseError("array size out of range");
      d.size = Number(size.value);
      d.isArray = true;
      state.expectOp("]");
      n = state.peek();
    }
    if (n && n.type === "operator" && n.content === "=") {
      if (d.isArray) throw new ParseError("only scalar globals can be initialized");
      state.next();
      d.init = parseLiteral(state);
      n = state.peek();
    }
    if (n && n.type === "operator" && n.content === ";") {
      state.swallow();
      return;
    }
    if (n && n.type === "operator" && n.content === ",") {
      state.swallow();
      continue;
    }
    return;
  }
}

function parseType(state: ParserState): A.ValueType {
  const t = state.next();
  if (t.type === "keyword" && (t.content === "string" || t.content === "long")) {
    state.swallow();
    return t.content;
  }
  throw new ParseError("expected 'string' or 'long'");
}

function parseFunction(state: ParserState, script: A.Script, priv: boolean): void {
  const t = state.next();
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
  let n = state.next();
  if (n.type === "operator" && n.content === ":") {
    fd.returnType = parseType(state);
    n = state.next();
  }
  if (!(n.type === "operator" && n.content === "(")) throw new ParseError("expected '('");
  state.swallow();
  for (;;) {
    n = state.next();
    if (n.type === "operator" && n.content === ")") {
      state.swallow();
      break;
    }
    if (n.type !== "identifier") throw new ParseError("expected identifier");
    if (fd.params.some((p) => p.name === n.content)) throw new ParseError("duplicate parameter names");
    const param: A.Param = { kind: "param", loc: n.loc, name: n.content, type: null };
    fd.params.push(param);
    n = state.next();
    if (n.type === "operator" && n.content === ":") {
      param.type = parseType(state);
      n = state.next();
    }
    if (n.type === "operator" && n.content === ")") {
      state.swallow();
      break;
    }
    if (!(n.type === "operator" && n.content === ",")) throw new ParseError("expected ',' or ')'");
    state.swallow();
  }
  const p = state.peek();
  if (!p) throw new ParseError("expected '{'");
  if (p.type === "operator" && p.content === ":") {
    state.swallow();
    const lit = parseLiteral(state);
    if (lit.kind !== "number") throw new ParseError("expected literal number");
    if (lit.value < 1n) throw new ParseError("specified priority must be > 0");
    fd.priority = Number(lit.value);
  }
  const b = state.peek();
  fd.body = b && b.type === "embedded-code" ? parseEmbeddedCode(state) : parseBlock(state);
  script.functions.push(fd);
  script.items.push(fd);
}
