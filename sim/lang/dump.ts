/**
 * Prints a parsed script the way `stap -p1` dumps its parse tree (stap's `print` methods: every operand in
 * parentheses, declarations grouped as embedded code, globals, aliases, probes, functions). The simulator's
 * `stap -p1` stand-in prints this, and the parity tests compare it with the real stap's dump to check the
 * tree's structure.
 * @module
 */

import type * as A from "./ast.ts";

/** Quotes like stap's lex_cast_qstring: backslashes and double quotes get a backslash. */
function qstring(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => "\\" + c) + '"';
}

/** A string literal as stap prints it: its raw text with double quotes escaped. */
function literalString(s: A.StringLiteral): string {
  return '"' + s.raw.replace(/"/g, '\\"') + '"';
}

function literal(l: A.NumberLiteral | A.StringLiteral): string {
  return l.kind === "number" ? String(l.value) : literalString(l);
}

function components(cs: A.TargetComponent[], pretty: number): string {
  let out = "";
  for (const c of cs) out += c.kind === "field" ? `->${c.name}` : `[${expr(c.index)}]`;
  return out + (pretty ? "->" + "$".repeat(pretty) : "");
}

/** One expression in stap's dump notation. */
export function expr(e: A.Expr): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "string":
      return literalString(e);
    case "symbol":
      return e.name;
    case "binary":
    case "logical":
    case "comparison":
    case "assignment":
      return `(${expr(e.kind === "assignment" ? e.target : e.left)}) ${e.op} (${
        expr(e.kind === "assignment" ? e.value : e.right)
      })`;
    case "concat":
      return `(${expr(e.left)}) . (${expr(e.right)})`;
    case "regex_match":
      return `(${expr(e.left)}) ${e.op} ${literalString(e.pattern)}`;
    case "unary":
      return `${e.op}(${expr(e.operand)})`;
    case "incdec":
      return e.prefix ? `${e.op}(${expr(e.target)})` : `(${expr(e.target)})${e.op}`;
    case "ternary":
      return `(${expr(e.condition)})?(${expr(e.then)}):(${expr(e.otherwise)})`;
    case "in":
      return `[${e.keys.map((k) => (k ? expr(k) : "*")).join(", ")}] in ${expr(e.array)}`;
    case "array_index":
      return `${expr(e.base)}[${e.indexes.map((k) => (k ? expr(k) : "*")).join(", ")}]`;
    case "call":
      return `${e.name}(${e.args.map(expr).join(", ")})`;
    case "print_format": {
      let out = `${e.name}(`;
      if (e.format) out += qstring(e.format.raw);
      if (e.delimiter) out += qstring(e.delimiter.raw);
      if (e.histogram) out += expr(e.histogram);
      e.args.forEach((a, i) => {
        if (i > 0 || e.format || e.delimiter) out += ", ";
        out += expr(a);
      });
      return out + ")";
    }
    case "stat_op":
      return `@${e.op}(${expr(e.stat)}${e.bitShift ? `, ${e.bitShift.value}` : ""})`;
    case "histogram":
      return `@hist_${e.type}(${expr(e.stat)}${e.params.map((p) => `, ${p.value}`).join("")})`;
    case "target_symbol":
      return `${e.addressOf ? "&" : ""}${e.name}${components(e.components, e.pretty)}`;
    case "cast":
      return `${e.addressOf ? "&" : ""}@cast(${expr(e.operand)}, ${qstring(e.type)}${
        e.module !== null ? ", " + qstring(e.module) : ""
      })${components(e.components, e.pretty)}`;
    case "at_var":
      return `${e.addressOf ? "&" : ""}@var("${e.name}"${e.module !== null ? ", " + qstring(e.module) : ""})${
        components(e.components, e.pretty)
      }`;
    case "autocast":
      return `${e.addressOf ? "&" : ""}(${expr(e.operand)})${components(e.components, e.pretty)}`;
    case "entry":
      return `@entry(${expr(e.expr)})`;
    case "defined":
      return `@defined(${expr(e.expr)})`;
    case "target_register":
      return `@${e.userspace ? "u" : "k"}register(${expr(e.regno)})`;
    case "target_deref":
      return `@${e.userspace ? "u" : "k"}deref(${e.size}, ${expr(e.address)})`;
    case "const":
      return `%{ /* pure */ /* unprivileged */ /* stable */ ${e.name} %}`;
    case "perf":
      return `@perf(${qstring(e.name)})`;
    case "probewrite":
      return `@probewrite(${e.name})`;
    case "embedded_expr":
      return `%{ ${e.code} %}`;
  }
}

/** One statement in stap's dump notation. */
export function statement(s: A.Statement): string {
  switch (s.kind) {
    case "block":
      return "{\n" + s.statements.map((x) => statement(x) + ";\n").join("") + "}";
    case "null":
      return ";";
    case "expr_statement":
      return expr(s.expr);
    case "if":
      return `if (${expr(s.condition)}) ${statement(s.then)}\n` +
        (s.otherwise ? `else ${statement(s.otherwise)}\n` : "");
    case "while":
      return `for (; ${expr(s.condition)}; ) ${statement(s.body)}`;
    case "for":
      return `for (${s.init ? expr(s.init) : ""}; ${s.condition ? expr(s.condition) : "1"}; ${
        s.step ? expr(s.step) : ""
      }) ${statement(s.body)}`;
    case "foreach": {
      let out = "foreach (";
      if (s.value) out += `${s.value.name} = `;
      out += "[" +
        s.keys.map((k, i) =>
          k.name + (s.sortDirection !== 0 && s.sortColumn === i + 1 ? (s.sortDirection > 0 ? "+" : "-") : "")
        ).join(", ") + "] in " + expr(s.array);
      if (s.slice) out += `[${s.slice.map((k) => (k ? expr(k) : "*")).join(", ")}]`;
      if (s.sortDirection !== 0 && s.sortColumn === 0) {
        if (s.sortAggregate && s.sortAggregate !== "variance") out += ` @${s.sortAggregate}`;
        out += s.sortDirection > 0 ? "+" : "-";
      }
      if (s.limit) out += ` limit ${expr(s.limit)}`;
      return out + ") " + statement(s.body);
    }
    case "return":
      return s.value ? `return ${expr(s.value)}` : "return";
    case "next":
    case "break":
    case "continue":
      return s.kind;
    case "delete":
      return `delete ${expr(s.target)}`;
    case "try":
      return `try {\n${statement(s.body)}\n} catch ${s.catchVar ? `(${s.catchVar.name}) ` : ""}{\n${
        statement(s.handler)
      }\n}\n`;
    case "embedded_code":
      return `%{${s.code}%}`;
  }
}

function probePoint(p: A.ProbePoint, extras = true): string {
  let out = p.components.map((c) => c.name + (c.arg ? `(${literal(c.arg)})` : "")).join(".");
  if (!extras) return out;
  if (p.sufficient) out += "!";
  else if (p.optional) out += "?";
  if (p.condition) out += ` if (${expr(p.condition)})`;
  return out;
}

/** The whole file as `stap -p1` prints it after `# parse tree dump`. */
export function dumpScript(script: A.Script): string {
  let out = `# file ${script.file}\n`;
  for (const e of script.embeds) out += `%{${e.code}%}`;
  for (const g of script.globals) {
    out += `global ${g.name}${g.wrap ? "%" : ""}${g.size !== null ? `[${g.size}]` : ""}${
      g.init ? " = " + literal(g.init) : ""
    }\n`;
  }
  for (const a of script.aliases) {
    out += "probe " + a.names.map((n) => probePoint(n)).join(" = ") +
      (a.style === "epilogue" ? " += " : " = ") +
      a.points.map((p) => probePoint(p)).join(", ") + statement(a.body) + "\n";
  }
  for (const p of script.probes) {
    out += "probe " + p.points.map((pp) => probePoint(pp)).join(",") + statement(p.body) + "\n";
  }
  for (const f of script.functions) {
    out += `function ${f.name} (${f.params.map((p) => p.name).join(", ")})\n`;
    out += (f.body.kind === "embedded_code" ? `%{${f.body.code}%}` : statement(f.body)) + "\n";
  }
  return out + "\n";
}
