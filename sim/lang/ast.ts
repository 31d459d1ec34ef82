/**
 * The syntax tree of a SystemTap 4.8 script, as produced by `parseScript` in `parser.ts` after preprocessing
 * (`%( … %)` conditionals resolved, `@define` macros expanded, `$1`/`@1` replaced by their values).
 *
 * Every node carries `loc`, the place of its first token in the source (1-based line and column). For a token
 * that came out of a macro expansion the place is the one inside the macro body, like stap's.
 *
 * Nodes are plain objects discriminated by `kind`; the interpreter switches on it. Additions are allowed,
 * breaking changes are not (another module is built on these types).
 * @module
 */

/** A place in a source file: 1-based line and column, the file name as given to the parser. */
export interface SourceLoc {
  file: string;
  line: number;
  column: number;
}

/** What every node has. */
export interface NodeBase {
  loc: SourceLoc;
}

// ---------------------------------------------------------------------------------------------------------
// Top level

/** One parsed file (a script, or a tapset file). */
export interface Script {
  kind: "script";
  /** The file name given to the parser (`-` or `<input>` for `-e`). */
  file: string;
  /** Probes in source order (`probe …`, including those with several probe points). */
  probes: ProbeDecl[];
  /** Probe aliases (`probe a = b { }`, `probe a += b { }`). */
  aliases: AliasDecl[];
  /** Functions in source order. */
  functions: FunctionDecl[];
  /** Global variables in source order (one entry per name, `global a, b` gives two). */
  globals: GlobalDecl[];
  /** Top-level embedded C blocks (`%{ … %}`), guru mode only. */
  embeds: EmbeddedCode[];
  /** Every top-level declaration in source order (the same objects as in the lists above). */
  items: TopLevel[];
}

/** Anything that can stand at the top level of a file. */
export type TopLevel = ProbeDecl | AliasDecl | FunctionDecl | GlobalDecl | EmbeddedCode;

/** `probe POINT, POINT … { body }`. */
export interface ProbeDecl extends NodeBase {
  kind: "probe";
  points: ProbePoint[];
  body: Block;
  /** `private probe …` (only meaningful in tapsets). */
  private: boolean;
}

/**
 * One probe point: dotted components with optional literal arguments, e.g.
 * `kernel.function("vfs_read").return` or `timer.ms(100)` or `syscall.*`, plus the `?`/`!` marks and an
 * `if (condition)` guard.
 */
export interface ProbePoint extends NodeBase {
  kind: "probe_point";
  components: ProbePointComponent[];
  /** `?` (or `!`): a point that does not resolve is skipped instead of being an error. */
  optional: boolean;
  /** `!`: once this point resolves, the later points of the list are not tried. */
  sufficient: boolean;
  /** `if (expr)` after the point: the handler only runs while the condition holds. */
  condition: Expr | null;
}

/** One dotted part of a probe point: `function("vfs_*")`, `return`, `*`, `ms(100)`, `begin(-1)`. */
export interface ProbePointComponent extends NodeBase {
  kind: "probe_point_component";
  /** The name, possibly with wildcards (`*`, `**`), e.g. `syscall`, `sys_*`, `*`. */
  name: string;
  /** The literal argument in parentheses, if any (a number or a string; `$1`/`@1` already substituted). */
  arg: NumberLiteral | StringLiteral | null;
  /** True for `name()` with empty parentheses (stap accepts it for some points). */
  emptyParens?: boolean;
}

/**
 * A probe alias: `probe NAME[, NAME…] = POINTS { body }` runs `body` before the user's handler
 * (prologue), `probe NAME += POINTS { body }` after it (epilogue).
 */
export interface AliasDecl extends NodeBase {
  kind: "alias";
  /** The new names (each a probe point without condition; usually one). */
  names: ProbePoint[];
  /** What the names expand to. */
  points: ProbePoint[];
  /** `=` → "prologue", `+=` → "epilogue". */
  style: "prologue" | "epilogue";
  body: Block;
  /** `probe a = b { prologue }, { epilogue }`: the second block (prologue style only), else absent. */
  epilogueBody?: Block;
  private: boolean;
}

/** A value type in declarations: `long`, `string`, or a statistic (`stats`, never written in source). */
export type ValueType = "long" | "string";

/** `function NAME[:TYPE] (PARAM[:TYPE], …) { body }` or with an embedded-C body. */
export interface FunctionDecl extends NodeBase {
  kind: "function";
  name: string;
  /** The declared return type, or null when left to inference. */
  returnType: ValueType | null;
  params: Param[];
  /** The script body, or the embedded C body (`%{ … %}`, guru mode or tapsets only). */
  body: Block | EmbeddedCode;
  private: boolean;
  /** `function f() : 5 { }`: the overload priority (>= 1), absent when not given. */
  priority?: number;
}

/** One formal parameter. */
export interface Param extends NodeBase {
  kind: "param";
  name: string;
  type: ValueType | null;
}

/**
 * One global: `global x`, `global x = 5`, `global a[100]`, `global a%[100]` (wrap: when full, the oldest
 * entries are replaced), `global a%`, `private global x`.
 */
export interface GlobalDecl extends NodeBase {
  kind: "global";
  name: string;
  /** The literal initial value (numbers may be negative), or null. */
  init: NumberLiteral | StringLiteral | null;
  /** `[N]`: the declared maximum size of an array, or null. */
  size: number | null;
  /** `%`: the array wraps around when full. */
  wrap: boolean;
  /** True when declared with `[N]` (an array even before use). */
  isArray: boolean;
  private: boolean;
}

/** `%{ … %}`: embedded C, kept as text (never run by the simulator). */
export interface EmbeddedCode extends NodeBase {
  kind: "embedded_code";
  /** The C text between `%{` and `%}`. */
  code: string;
}

// ---------------------------------------------------------------------------------------------------------
// Statements

/** Any statement. */
export type Statement =
  | Block
  | NullStatement
  | ExprStatement
  | IfStatement
  | WhileStatement
  | ForStatement
  | ForeachStatement
  | ReturnStatement
  | NextStatement
  | BreakStatement
  | ContinueStatement
  | DeleteStatement
  | TryStatement
  | EmbeddedCode;

/** `{ … }`. */
export interface Block extends NodeBase {
  kind: "block";
  statements: Statement[];
}

/** A lone `;`. */
export interface NullStatement extends NodeBase {
  kind: "null";
}

/** An expression used as a statement (assignments, calls, `++`). */
export interface ExprStatement extends NodeBase {
  kind: "expr_statement";
  expr: Expr;
}

/** `if (cond) then [else otherwise]`. */
export interface IfStatement extends NodeBase {
  kind: "if";
  condition: Expr;
  then: Statement;
  otherwise: Statement | null;
}

/** `while (cond) body`. */
export interface WhileStatement extends NodeBase {
  kind: "while";
  condition: Expr;
  body: Statement;
}

/** `for (init; cond; step) body`, each part optional. */
export interface ForStatement extends NodeBase {
  kind: "for";
  init: Expr | null;
  condition: Expr | null;
  step: Expr | null;
  body: Statement;
}

/**
 * `foreach ([k1+, k2] in arr limit N) body`, `foreach (v = [k] in arr-) body`, `foreach (k in arr) body`,
 * `foreach (b in @hist_log(s))`, `foreach ([a, b] in arr[*, 5])`.
 */
export interface ForeachStatement extends NodeBase {
  kind: "foreach";
  /** The variables that receive the keys, in key order (one for `foreach (k in arr)`). */
  keys: SymbolExpr[];
  /** `v = […]`: the variable that receives the value, or null. */
  value: SymbolExpr | null;
  /** The iterated array (a global or local symbol), or a histogram (`@hist_log(s)`/`@hist_linear(…)`). */
  array: SymbolExpr | HistogramOp;
  /** `arr[k, *]` slice: one entry per key, null for `*`; null when not sliced. */
  slice: (Expr | null)[] | null;
  /**
   * What to sort on: 0 for the value, 1..n for the n-th key; null when unsorted. Only one sort mark is allowed
   * in a foreach.
   */
  sortColumn: number | null;
  /** 1 for `+` (ascending), -1 for `-` (descending), 0 when unsorted. */
  sortDirection: 1 | -1 | 0;
  /**
   * `foreach (k in s @sum+)`: for an array of statistics, which extractor the value sort uses (with
   * sortColumn 0); null or absent otherwise.
   */
  sortAggregate?: StatFunction | null;
  /** `limit N`: stop after N iterations, or null. */
  limit: Expr | null;
  body: Statement;
}

/** `return [expr]`. */
export interface ReturnStatement extends NodeBase {
  kind: "return";
  value: Expr | null;
}

/** `next`: leave the current probe handler (or function, in a probe's context). */
export interface NextStatement extends NodeBase {
  kind: "next";
}

/** `break`. */
export interface BreakStatement extends NodeBase {
  kind: "break";
}

/** `continue`. */
export interface ContinueStatement extends NodeBase {
  kind: "continue";
}

/**
 * `delete x` (a whole array or scalar), `delete x[k…]` (one element, `*` in a key deletes a slice). stap's
 * parser takes any expression here and rejects the others later (pass 2), so the type is `Expr`.
 */
export interface DeleteStatement extends NodeBase {
  kind: "delete";
  target: Expr;
}

/** `try { … } catch [(msg)] { … }`. */
export interface TryStatement extends NodeBase {
  kind: "try";
  body: Block;
  /** The variable that receives the error message in the handler, or null. */
  catchVar: SymbolExpr | null;
  handler: Block;
}

// ---------------------------------------------------------------------------------------------------------
// Expressions

/** Any expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | SymbolExpr
  | ArrayIndex
  | FunctionCall
  | PrintFormat
  | UnaryExpr
  | IncDecExpr
  | BinaryExpr
  | LogicalExpr
  | ComparisonExpr
  | ConcatExpr
  | RegexMatchExpr
  | TernaryExpr
  | AssignmentExpr
  | InExpr
  | StatOp
  | HistogramOp
  | TargetSymbol
  | CastExpr
  | AtVarExpr
  | AutoCastExpr
  | EntryExpr
  | DefinedExpr
  | TargetRegister
  | ConstExpr
  | PerfCounterExpr
  | TargetDeref
  | ProbeWriteExpr
  | EmbeddedExpr;

/** A number (decimal, `0x…` hex or `0…` octal), as a 64-bit signed value. */
export interface NumberLiteral extends NodeBase {
  kind: "number";
  /** The value, wrapped to a signed 64-bit integer (so `0xffffffffffffffff` is -1n). */
  value: bigint;
  /** The text as written (or as substituted for `$1`). */
  text: string;
}

/** A string literal; adjacent literals are joined into one. */
export interface StringLiteral extends NodeBase {
  kind: "string";
  /**
   * The value with escapes kept as written (stap passes them to C unchanged: `"a\n"` is the four characters
   * a, \, n … as typed).
   */
  raw: string;
  /** The value with C escapes decoded (`\n`, `\t`, `\\`, `\"`, octal `\NNN`, hex `\xHH`, …). */
  value: string;
}

/** A variable reference: a local, a parameter or a global. */
export interface SymbolExpr extends NodeBase {
  kind: "symbol";
  name: string;
}

/** `arr[k1, k2]`; a null key is `*` (only in `delete`, `in`, foreach slices and aggregate slices). */
export interface ArrayIndex extends NodeBase {
  kind: "array_index";
  /** The array (a symbol) or a histogram whose bucket is read (`@hist_log(s)[3]`). */
  base: SymbolExpr | HistogramOp;
  indexes: (Expr | null)[];
}

/** `name(args…)`: a script or tapset function (print functions are `PrintFormat`). */
export interface FunctionCall extends NodeBase {
  kind: "call";
  name: string;
  args: Expr[];
}

/**
 * The print family, which stap parses specially: `print`, `println`, `printd`, `printdln`, `printf`, and the
 * `s…` forms returning a string (`sprint`, `sprintln`, `sprintd`, `sprintdln`, `sprintf`).
 * `printf`/`sprintf` need a literal format string and `printd…`/`sprintd…` a literal delimiter.
 */
export interface PrintFormat extends NodeBase {
  kind: "print_format";
  /** The function name as written. */
  name: string;
  /** `printf`/`sprintf`: the literal format string (decoded value). */
  format: StringLiteral | null;
  /** `printd`/`printdln`/`sprintd`/`sprintdln`: the literal delimiter. */
  delimiter: StringLiteral | null;
  /** The remaining arguments. */
  args: Expr[];
  /** True for the `s…` forms (the result is returned, not printed). */
  returnsString: boolean;
  /** True for the `…ln` forms (a newline at the end). */
  newline: boolean;
  /** A lone histogram argument of `print`/`println`/`sprint…` (`print(@hist_log(s))`), else null. */
  histogram: HistogramOp | null;
}

/** `-x`, `+x`, `!x`, `~x`. */
export interface UnaryExpr extends NodeBase {
  kind: "unary";
  op: "-" | "+" | "!" | "~";
  operand: Expr;
}

/** `++x`, `x++`, `--x`, `x--`. */
export interface IncDecExpr extends NodeBase {
  kind: "incdec";
  op: "++" | "--";
  prefix: boolean;
  target: Expr;
}

/** Arithmetic and bitwise operators on numbers. */
export type BinaryOperator = "+" | "-" | "*" | "/" | "%" | "<<" | ">>" | ">>>" | "&" | "|" | "^";

/** `a OP b` for arithmetic and bitwise operators. */
export interface BinaryExpr extends NodeBase {
  kind: "binary";
  op: BinaryOperator;
  left: Expr;
  right: Expr;
}

/** `a && b`, `a || b` (short-circuit). */
export interface LogicalExpr extends NodeBase {
  kind: "logical";
  op: "&&" | "||";
  left: Expr;
  right: Expr;
}

/** `<`, `<=`, `>`, `>=`, `==`, `!=` on numbers or strings (both sides have the same type). */
export interface ComparisonExpr extends NodeBase {
  kind: "comparison";
  op: "<" | "<=" | ">" | ">=" | "==" | "!=";
  left: Expr;
  right: Expr;
}

/** `a . b`: string concatenation. */
export interface ConcatExpr extends NodeBase {
  kind: "concat";
  left: Expr;
  right: Expr;
}

/** `s =~ "re"`, `s !~ "re"`: regular-expression match; the pattern must be a literal string. */
export interface RegexMatchExpr extends NodeBase {
  kind: "regex_match";
  op: "=~" | "!~";
  left: Expr;
  pattern: StringLiteral;
}

/** `c ? a : b`. */
export interface TernaryExpr extends NodeBase {
  kind: "ternary";
  condition: Expr;
  then: Expr;
  otherwise: Expr;
}

/** Assignment operators; `<<<` adds a value to a statistic. */
export type AssignmentOperator =
  | "="
  | "+="
  | "-="
  | "*="
  | "/="
  | "%="
  | "<<="
  | ">>="
  | "&="
  | "^="
  | "|="
  | ".="
  | "<<<";

/** `lvalue OP= value`. The target is a symbol, an array element or a target variable. */
export interface AssignmentExpr extends NodeBase {
  kind: "assignment";
  op: AssignmentOperator;
  target: Expr;
  value: Expr;
}

/** `k in arr`, `[k1, k2] in arr` (a null key is `*`). */
export interface InExpr extends NodeBase {
  kind: "in";
  keys: (Expr | null)[];
  /** The array, or a histogram (`b in @hist_log(s)`, accepted by the parser). */
  array: SymbolExpr | HistogramOp;
}

/** The statistic extractors. */
export type StatFunction = "count" | "sum" | "min" | "max" | "avg" | "variance";

/** `@count(s)`, `@sum(s)`, `@min(s)`, `@max(s)`, `@avg(s)`, `@variance(s[, bitShift])`. */
export interface StatOp extends NodeBase {
  kind: "stat_op";
  op: StatFunction;
  /** The statistic: a symbol or an array element (`@count(s[k])`, keys may be `*` for an aggregate slice). */
  stat: Expr;
  /** `@variance(s, N)`: the bit shift, else null. */
  bitShift: NumberLiteral | null;
}

/** `@hist_log(s)` or `@hist_linear(s, low, high, step)`. */
export interface HistogramOp extends NodeBase {
  kind: "histogram";
  type: "log" | "linear";
  stat: Expr;
  /** `[low, high, step]` for linear histograms (literal numbers), `[]` for log. */
  params: NumberLiteral[];
}

/** One step after a target value: `->field` or `[index]`. */
export type TargetComponent =
  | { kind: "field"; name: string; loc: SourceLoc }
  | { kind: "index"; index: Expr; loc: SourceLoc };

/**
 * A target (DWARF) variable: `$var`, `$var->field[2]`, `&$var`, `$var$`/`$var$$` (pretty printing), and the
 * context variables `$$vars`, `$$parms`, `$$locals`, `$$return` (name includes the `$`s).
 */
export interface TargetSymbol extends NodeBase {
  kind: "target_symbol";
  /** The name as written, with its `$` (`$fd`, `$$parms`, `$return`). */
  name: string;
  components: TargetComponent[];
  /** `&$var…`: the address instead of the value. */
  addressOf: boolean;
  /** Number of trailing `$` (pretty printing): 0, 1 (`$var$`) or 2 (`$var$$`). */
  pretty: 0 | 1 | 2;
}

/** `@cast(ptr, "type"[, "module"])->field…`. */
export interface CastExpr extends NodeBase {
  kind: "cast";
  /** The pointer value. */
  operand: Expr;
  type: string;
  module: string | null;
  components: TargetComponent[];
  addressOf: boolean;
  pretty: 0 | 1 | 2;
}

/** `@var("name[@file]"[, "module"])->field…`. */
export interface AtVarExpr extends NodeBase {
  kind: "at_var";
  name: string;
  module: string | null;
  components: TargetComponent[];
  addressOf: boolean;
  pretty: 0 | 1 | 2;
}

/** An untyped value followed by target components (`func()->field`, typed later by autocast). */
export interface AutoCastExpr extends NodeBase {
  kind: "autocast";
  operand: Expr;
  components: TargetComponent[];
  addressOf: boolean;
  pretty: 0 | 1 | 2;
}

/** `@entry(expr)`: the value of expr at function entry (in a `.return` probe). */
export interface EntryExpr extends NodeBase {
  kind: "entry";
  expr: Expr;
}

/** `@defined(expr)`: 1 when the target expression resolves, else 0 (decided at elaboration). */
export interface DefinedExpr extends NodeBase {
  kind: "defined";
  expr: Expr;
}

/** `@kregister(N)` / `@uregister(N)`: a register of the probed context by DWARF number. */
export interface TargetRegister extends NodeBase {
  kind: "target_register";
  userspace: boolean;
  regno: Expr;
}

/** `@const("NAME")`: a kernel C constant (guru or tapset only). */
export interface ConstExpr extends NodeBase {
  kind: "const";
  name: string;
}

/** `@perf("name")`: the value of a perf counter declared by a `perf.…counter("name")` probe. */
export interface PerfCounterExpr extends NodeBase {
  kind: "perf";
  name: string;
}

/** `@kderef(size, address)` / `@uderef(size, address)`: read `size` bytes of memory (kderef: guru only). */
export interface TargetDeref extends NodeBase {
  kind: "target_deref";
  userspace: boolean;
  size: number;
  address: Expr;
}

/** `@probewrite(var)`: 1 when the variable is written in some probe (decided at elaboration). */
export interface ProbeWriteExpr extends NodeBase {
  kind: "probewrite";
  name: string;
}

/** `%{ … %}` inside an expression (guru mode or tapsets only). */
export interface EmbeddedExpr extends NodeBase {
  kind: "embedded_expr";
  code: string;
}

/** Any node of the tree. */
export type Node =
  | Script
  | TopLevel
  | ProbePoint
  | ProbePointComponent
  | Param
  | Statement
  | Expr;
