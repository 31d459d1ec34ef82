/**
 * The SystemTap 4.8 parser: a recursive-descent parser that follows stap's parse.cxx rule for rule (same
 * precedence, same accepted forms, same error messages and the same recovery after an error), producing the
 * tree of `ast.ts`. This module is its entry point; the grammar is in functions over one shared state
 * (`parser_state.ts`: the token stream and the errors reported), one module per part of the language:
 * - `parser_declarations.ts`: the top level (probes, aliases, globals, functions, embedded code) and the
 *   recovery after an error;
 * - `parser_probe_points.ts`: probe point specifications;
 * - `parser_statements.ts`: statements;
 * - `parser_expressions.ts`: operators, by precedence;
 * - `parser_targets.ts`: target variables (`$var`, `@cast`, `@var`, `->field`);
 * - `parser_values.ts`: names, calls, array indexes, statistics and the other `@` operators;
 * - `parser_print.ts`: the print family and its format check;
 * - `parser_literals.ts`: numbers and strings.
 * @module
 */

import type * as A from "./ast.ts";
import { Lexer } from "./lexer.ts";
import {
  DEFAULT_TARGET,
  FatalError,
  type MacroDecl,
  ParseError,
  Preprocessor,
  type TargetOptions,
} from "./preprocess.ts";
import { type Diagnostic, ParserState } from "./parser_state.ts";
import { parseTopLevel } from "./parser_declarations.ts";

export { describeToken, type Diagnostic } from "./parser_state.ts";
export { decodeEscapes } from "./parser_literals.ts";
export { formatError } from "./parser_print.ts";

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
  const parser = new ParserState(pp, file, target.guru, args.length);
  let empty: boolean;
  try {
    empty = parseTopLevel(parser, script);
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
    const parser = new ParserState(pp, file, target.guru, 0);
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
