/**
 * The print family (`print`, `printf`, `printd`, their `ln` and `s` forms) as stap parses it: each has its
 * own argument rules (a format or delimiter first, a minimum count, a histogram for `print`), and a
 * printf format is checked while parsing, as stap does, so a bad one is a parse error. Apart from the other
 * calls because none of this applies to them.
 * @module
 */

import type * as A from "./ast.ts";
import type { Token } from "./lexer.ts";
import { ParseError } from "./preprocess.ts";
import type { ParserState } from "./parser_state.ts";
import { parseLiteralString } from "./parser_literals.ts";
import { parseExpression } from "./parser_expressions.ts";
import { parseHistOrName } from "./parser_values.ts";

/** The names parsed as the print family rather than as function calls. */
export const PRINT_FUNCTIONS = new Set([
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

/** A call of the print family, from its name `t` (already read) to its `)`. */
export function parsePrint(state: ParserState, t: Token): A.PrintFormat {
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
  state.expectOp("(");
  const base = fmt.returnsString ? name.slice(1) : name;
  if (
    (base === "print" || base === "println") && (state.peekOp("@hist_linear") || state.peekOp("@hist_log"))
  ) {
    const { token: ht, hist } = parseHistOrName(state);
    if (!state.peekOp("[")) fmt.histogram = hist;
    else {
      state.expectOp("[");
      const index = parseExpression(state);
      state.expectOp("]");
      fmt.args.push({ kind: "array_index", loc: ht.loc, base: hist!, indexes: [index] });
      while (!state.peekOp(")")) {
        state.expectOpAny([",", ")"]);
        fmt.args.push(parseExpression(state));
      }
    }
  } else {
    let minArgs = 0;
    let consumed = false;
    if (base === "printf") {
      fmt.format = parseLiteralString(state);
      const problem = formatError(fmt.format.raw);
      if (problem) throw new ParseError(problem);
      consumed = true;
    } else if (base === "printd" || base === "printdln") {
      fmt.delimiter = parseLiteralString(state);
      consumed = true;
      minArgs = 2;
    } else if (base === "print") {
      minArgs = 1;
    }
    while (minArgs || !state.peekOp(")")) {
      if (consumed) state.expectOpAny([",", ")"]);
      fmt.args.push(parseExpression(state));
      consumed = true;
      if (minArgs) minArgs--;
    }
  }
  state.expectOp(")");
  return fmt;
}
