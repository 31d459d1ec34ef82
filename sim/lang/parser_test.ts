import { assert, assertEquals } from "@std/assert";
import type * as A from "./ast.ts";
import { libraryMacros } from "./check.ts";
import { decodeEscapes, formatDiagnostics, formatError, type ParseOptions, parseScript } from "./parser.ts";

function parseOk(source: string, options: ParseOptions = {}): A.Script {
  const r = parseScript(source, options);
  assertEquals(r.errors.map((e) => e.message), [], `errors parsing ${source}`);
  return r.script;
}

/** The first statement of `probe begin { … }`. */
function stmt(body: string, options: ParseOptions = {}): A.Statement {
  return parseOk(`probe begin { ${body} }`, options).probes[0].body.statements[0];
}

/** An expression as a compact S-expression, to check structure and precedence. */
function sx(e: A.Expr | null): string {
  if (e === null) return "*";
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "string":
      return JSON.stringify(e.value);
    case "symbol":
      return e.name;
    case "binary":
    case "logical":
    case "comparison":
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case "concat":
      return `(. ${sx(e.left)} ${sx(e.right)})`;
    case "regex_match":
      return `(${e.op} ${sx(e.left)} ${sx(e.pattern)})`;
    case "unary":
      return `(${e.op} ${sx(e.operand)})`;
    case "incdec":
      return e.prefix ? `(${e.op}pre ${sx(e.target)})` : `(${e.op}post ${sx(e.target)})`;
    case "ternary":
      return `(? ${sx(e.condition)} ${sx(e.then)} ${sx(e.otherwise)})`;
    case "assignment":
      return `(${e.op} ${sx(e.target)} ${sx(e.value)})`;
    case "in":
      return `(in [${e.keys.map(sx).join(" ")}] ${sx(e.array)})`;
    case "array_index":
      return `(index ${sx(e.base)} ${e.indexes.map(sx).join(" ")})`;
    case "call":
      return `(call ${e.name}${e.args.map((a) => " " + sx(a)).join("")})`;
    case "print_format":
      return `(${e.name}${e.format ? " " + JSON.stringify(e.format.value) : ""}${
        e.delimiter ? " " + JSON.stringify(e.delimiter.value) : ""
      }${e.histogram ? " " + sx(e.histogram) : ""}${e.args.map((a) => " " + sx(a)).join("")})`;
    case "stat_op":
      return `(@${e.op} ${sx(e.stat)}${e.bitShift ? " " + e.bitShift.value : ""})`;
    case "histogram":
      return `(@hist_${e.type} ${sx(e.stat)}${e.params.map((p) => " " + p.value).join("")})`;
    case "target_symbol":
    case "cast":
    case "at_var":
    case "autocast": {
      const head = e.kind === "target_symbol"
        ? e.name
        : e.kind === "cast"
        ? `@cast(${sx(e.operand)},${e.type}${e.module ? "," + e.module : ""})`
        : e.kind === "at_var"
        ? `@var(${e.name})`
        : `auto(${sx(e.operand)})`;
      const comps = e.components.map((c) => c.kind === "field" ? `->${c.name}` : `[${sx(c.index)}]`).join("");
      return `${e.addressOf ? "&" : ""}${head}${comps}${"$".repeat(e.pretty)}`;
    }
    case "entry":
      return `(@entry ${sx(e.expr)})`;
    case "defined":
      return `(@defined ${sx(e.expr)})`;
    case "target_register":
      return `(@${e.userspace ? "u" : "k"}register ${sx(e.regno)})`;
    case "target_deref":
      return `(@${e.userspace ? "u" : "k"}deref ${e.size} ${sx(e.address)})`;
    case "const":
      return `(@const ${e.name})`;
    case "perf":
      return `(@perf ${e.name})`;
    case "probewrite":
      return `(@probewrite ${e.name})`;
    case "embedded_expr":
      return `%{${e.code}%}`;
  }
}

function ex(text: string, options: ParseOptions = {}): string {
  const s = stmt(text, options);
  assertEquals(s.kind, "expr_statement");
  return sx((s as A.ExprStatement).expr);
}

function errorsOf(source: string, options: ParseOptions = {}): string[] {
  return parseScript(source, options).errors.map((e) => `${e.line}:${e.column} ${e.message}`);
}

Deno.test("parser: expressions and precedence", async (t) => {
  await t.step("arithmetic, shifts, concatenation and comparisons", () => {
    assertEquals(ex("1 + 2 * 3 - 4"), "(- (+ 1 (* 2 3)) 4)");
    assertEquals(ex("a . b + 1"), "(. a (+ b 1))");
    assertEquals(ex("a << 1 . b"), "(<< a (. 1 b))");
    assertEquals(ex("a >>> 2 < b"), "(< (>>> a 2) b)");
    assertEquals(ex("a < b == c"), "(== (< a b) c)");
    assertEquals(ex("a & b ^ c | d"), "(| (^ (& a b) c) d)");
    assertEquals(ex("a || b && c | d"), "(|| a (&& b (| c d)))");
    assertEquals(ex("-a * !b + ~c"), "(+ (* (- a) (! b)) (~ c))");
    assertEquals(ex("x % 3 / 2"), "(/ (% x 3) 2)");
  });

  await t.step("assignments are right associative and include <<< and .=", () => {
    assertEquals(ex("a = b = 1"), "(= a (= b 1))");
    assertEquals(ex('s .= "x"'), '(.= s "x")');
    assertEquals(ex("st[k] <<< v * 2"), "(<<< (index st k) (* v 2))");
    for (const op of ["+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="]) {
      assertEquals(ex(`a ${op} 1`), `(${op} a 1)`);
    }
  });

  await t.step("ternary binds looser than ||, its else part is a ternary", () => {
    assertEquals(ex("x = a || b ? 1 : c ? 2 : 3"), "(= x (? (|| a b) 1 (? c 2 3)))");
  });

  await t.step("in, with single and bracketed keys and * wildcards", () => {
    assertEquals(ex("if_ = k in arr"), "(= if_ (in [k] arr))");
    assertEquals(ex("x = [a, b+1] in arr"), "(= x (in [a (+ b 1)] arr))");
    assertEquals(ex("x = [a, *] in arr"), "(= x (in [a *] arr))");
    assertEquals(ex("x = !(k in arr)"), "(= x (! (in [k] arr)))");
  });

  await t.step("regular expression matches take a literal pattern", () => {
    assertEquals(ex('x = s =~ "^a.*b$"'), '(= x (=~ s "^a.*b$"))');
    assertEquals(ex('x = s !~ "c"'), '(= x (!~ s "c"))');
  });

  await t.step("increments and decrements", () => {
    assertEquals(ex("a++"), "(++post a)");
    assertEquals(ex("--a[1]"), "(--pre (index a 1))");
  });

  await t.step("calls, arrays and print functions", () => {
    assertEquals(ex("f(1, g())"), "(call f 1 (call g))");
    assertEquals(ex('a[1, "x"] = 2'), '(= (index a 1 "x") 2)');
    assertEquals(ex('printf("%d %s\\n", 1, s)'), '(printf "%d %s\\n" 1 s)');
    assertEquals(ex('printd(",", a, b)'), '(printd "," a b)');
    assertEquals(ex("println()"), "(println)");
    assertEquals(ex("x = sprint(1)"), "(= x (sprint 1))");
    assertEquals(ex("print(@hist_log(s))"), "(print (@hist_log s))");
    assertEquals(ex("println(@hist_linear(s, 0, 100, 10))"), "(println (@hist_linear s 0 100 10))");
    assertEquals(ex("print(@hist_log(s)[3])"), "(print (index (@hist_log s) 3))");
  });

  await t.step("aggregates", () => {
    assertEquals(
      ex("x = @count(s) + @sum(s) + @min(s) + @max(s) + @avg(s[k])"),
      "(= x (+ (+ (+ (+ (@count s) (@sum s)) (@min s)) (@max s)) (@avg (index s k))))",
    );
    assertEquals(ex("x = @variance(s, 2)"), "(= x (@variance s 2))");
    assertEquals(ex("x = @count(s[*, 1])"), "(= x (@count (index s * 1)))");
  });

  await t.step("literals: decimal, hex, octal, 64-bit wrap, adjacent strings", () => {
    assertEquals(ex("x = 10 + 0x1f + 017"), "(= x (+ (+ 10 31) 15))");
    assertEquals(ex("x = 0xffffffffffffffff"), "(= x -1)");
    assertEquals(ex('x = "a" "b"'), '(= x "ab")');
    assertEquals(decodeEscapes(String.raw`a\n\t\101\x41\\`), "a\n\tAA\\");
  });

  await t.step("target variables, @cast, @var, autocast and pretty printing", () => {
    assertEquals(ex("x = $fd"), "(= x $fd)");
    assertEquals(ex("x = $file->f_path->dentry"), "(= x $file->f_path->dentry)");
    assertEquals(ex("x = $argv[1]"), "(= x $argv[1])");
    assertEquals(ex("x = &$var->f"), "(= x &$var->f)");
    assertEquals(ex("x = $var$"), "(= x $var$)");
    assertEquals(ex("x = $var$$"), "(= x $var$$)");
    assertEquals(ex("x = $var->field$"), "(= x $var->field$)");
    assertEquals(ex("x = $$parms"), "(= x $$parms)");
    assertEquals(ex("x = $$vars$"), "(= x $$vars$)");
    assertEquals(ex("x = $$return"), "(= x $$return)");
    assertEquals(
      ex('x = @cast(p, "task_struct", "kernel")->pid'),
      "(= x @cast(p,task_struct,kernel)->pid)",
    );
    assertEquals(ex('x = @var("jiffies@kernel/time.c")'), "(= x @var(jiffies@kernel/time.c))");
    assertEquals(ex("x = task()->mm"), "(= x auto((call task))->mm)");
    assertEquals(ex("x = (p)->f[0]"), "(= x auto(p)->f[0])");
  });

  await t.step("@entry, @defined, @perf, @uregister, @probewrite", () => {
    assertEquals(ex("x = @entry($fd)"), "(= x (@entry $fd))");
    assertEquals(ex("x = @defined($fd) ? $fd : 0"), "(= x (? (@defined $fd) $fd 0))");
    assertEquals(ex('x = @perf("cycles")'), "(= x (@perf cycles))");
    assertEquals(ex("x = @uregister(3)"), "(= x (@uregister 3))");
    assertEquals(ex("x = @uderef(4, p)"), "(= x (@uderef 4 p))");
    assertEquals(ex("x = @probewrite(v)"), "(= x (@probewrite v))");
  });

  await t.step("tapset macros expand (@choose_defined)", () => {
    assertEquals(
      ex("x = @choose_defined($a, 1)", { libraryMacros: libraryMacros(null) }),
      "(= x (? (@defined $a) $a 1))",
    );
    assertEquals(errorsOf("probe begin { x = @choose_defined($a, 1) }"), [
      "1:19 unknown operator @choose_defined",
    ]);
  });

  await t.step("guru-only forms", () => {
    assertEquals(ex("x = %{ 1 %}", { guru: true }), "(= x %{ 1 %})");
    assertEquals(ex('x = @const("HZ")', { guru: true }), "(= x (@const HZ))");
    assertEquals(ex("x = @kregister(0)", { guru: true }), "(= x (@kregister 0))");
    assertEquals(
      errorsOf("probe begin { x = @kregister(0) }")[0],
      "1:19 using @kregister operator not permitted; need stap -g",
    );
    assertEquals(
      errorsOf('probe begin { x = @const("HZ") }')[0],
      "1:19 using @const operator not permitted; need stap -g",
    );
  });
});

Deno.test("parser: statements", async (t) => {
  await t.step("if/else, while, for, blocks, null statements", () => {
    const s = stmt("if (a) b = 1 else { c = 2; ; }") as A.IfStatement;
    assertEquals([s.kind, sx(s.condition), s.then.kind, s.otherwise?.kind], [
      "if",
      "a",
      "expr_statement",
      "block",
    ]);
    const w = stmt("while (i < 3) i++") as A.WhileStatement;
    assertEquals([w.kind, sx(w.condition)], ["while", "(< i 3)"]);
    const f = stmt("for (i = 0; i < 10; i++) {}") as A.ForStatement;
    assertEquals([sx(f.init), sx(f.condition), sx(f.step)], ["(= i 0)", "(< i 10)", "(++post i)"]);
    const g = stmt("for (;;) break") as A.ForStatement;
    assertEquals([g.init, g.condition, g.step, g.body.kind], [null, null, null, "break"]);
  });

  await t.step("foreach: keys, value, sort marks, limit, slices, histograms", () => {
    const a = stmt("foreach (k in arr) {}") as A.ForeachStatement;
    assertEquals([a.keys.map((k) => k.name), a.value, a.sortColumn, a.sortDirection], [["k"], null, null, 0]);
    const b = stmt("foreach ([k1, k2-] in arr limit 10) {}") as A.ForeachStatement;
    assertEquals([b.keys.length, b.sortColumn, b.sortDirection, sx(b.limit)], [2, 2, -1, "10"]);
    const c = stmt("foreach (v = [k] in arr+) {}") as A.ForeachStatement;
    assertEquals([c.value?.name, c.sortColumn, c.sortDirection], ["v", 0, 1]);
    const d = stmt("foreach (v- = [a, b] in arr[*, 3]) {}") as A.ForeachStatement;
    assertEquals([d.sortColumn, d.sortDirection, d.slice?.map(sx)], [0, -1, ["*", "3"]]);
    const e = stmt("foreach (k+ in arr) {}") as A.ForeachStatement;
    assertEquals([e.sortColumn, e.sortDirection], [1, 1]);
    const h = stmt("foreach (b in @hist_log(s)) {}") as A.ForeachStatement;
    assertEquals(h.array.kind, "histogram");
    const s = stmt("foreach (k in st @sum-) {}") as A.ForeachStatement;
    assertEquals([s.sortAggregate, s.sortColumn, s.sortDirection], ["sum", 0, -1]);
    assertEquals(errorsOf("probe begin { foreach ([a+, b-] in x) {} }"), ["1:30 multiple sort directives"]);
  });

  await t.step("delete, next, continue, try/catch", () => {
    assertEquals(sx((stmt("delete a[1, *]") as A.DeleteStatement).target), "(index a 1 *)");
    assertEquals(stmt("next").kind, "next");
    assertEquals(stmt("while (1) continue").kind, "while");
    const t1 = stmt('try { error("x") } catch (msg) { println(msg) }') as A.TryStatement;
    assertEquals([t1.kind, t1.catchVar?.name, t1.handler.statements.length], ["try", "msg", 1]);
    const t2 = stmt("try { } catch { }") as A.TryStatement;
    assertEquals(t2.catchVar, null);
  });

  await t.step("return only inside functions", () => {
    const fn = parseOk("function f:long (x:long, s) { return x + 1 }").functions[0];
    const body = fn.body as A.Block;
    assertEquals(sx((body.statements[0] as A.ReturnStatement).value), "(+ x 1)");
    assertEquals(errorsOf("probe begin { return 1 }"), ["1:15 found 'return' not in function context"]);
  });
});

Deno.test("parser: declarations", async (t) => {
  await t.step("probes: lists, components with arguments, wildcards, ?, !, if", () => {
    const p = parseOk(
      'probe kernel.function("vfs_*").return?, syscall.*!, timer.ms(100), begin(-1) if (enabled) { }',
    ).probes[0];
    const show = p.points.map((pp) =>
      pp.components.map((c) =>
        c.name + (c.arg ? `(${c.arg.kind === "number" ? c.arg.value : c.arg.value})` : "")
      )
        .join(".") +
      (pp.sufficient ? "!" : pp.optional ? "?" : "") + (pp.condition ? " if " + sx(pp.condition) : "")
    );
    assertEquals(show, [
      "kernel.function(vfs_*).return?",
      "syscall.*!",
      "timer.ms(100)",
      "begin(-1) if enabled",
    ]);
    assertEquals(parseOk("probe sys_*_at.call {}").probes[0].points[0].components.map((c) => c.name), [
      "sys_*_at",
      "call",
    ]);
  });

  await t.step("brace groups multiply out", () => {
    const p = parseOk("probe {a, b}.{c, d} {}").probes[0];
    assertEquals(p.points.map((pp) => pp.components.map((c) => c.name).join(".")), [
      "a.c",
      "a.d",
      "b.c",
      "b.d",
    ]);
  });

  await t.step("aliases: prologue, epilogue, combined", () => {
    const s = parseOk(
      'probe my.read = kernel.function("vfs_read") { n = 1 } probe my.w += begin { } probe x = y { } , { }',
    );
    assertEquals(s.aliases.map((a) => [a.names[0].components.map((c) => c.name).join("."), a.style]), [
      ["my.read", "prologue"],
      ["my.w", "epilogue"],
      ["x", "prologue"],
    ]);
    assert(s.aliases[2].epilogueBody);
  });

  await t.step("globals: initialisers, sizes, wrap, private", () => {
    const s = parseOk('global a = -5, b = "s", c[100], d%[10], e%\nprivate global f\nprivate g');
    assertEquals(
      s.globals.map((g) => [g.name, g.init ? String(g.init.value) : null, g.size, g.wrap, g.private]),
      [
        ["a", "-5", null, false, false],
        ["b", "s", null, false, false],
        ["c", null, 100, false, false],
        ["d", null, 10, true, false],
        ["e", null, null, true, false],
        ["f", null, null, false, true],
        ["g", null, null, false, true],
      ],
    );
    // stap names no place for this one (the size token is already used up).
    assertEquals(errorsOf("global a[0]"), ["0:0 array size out of range"]);
    assertEquals(errorsOf("global a, a"), ["1:11 duplicate global name"]);
  });

  await t.step("functions: types, private, priorities, embedded bodies", () => {
    const s = parseOk(
      "function f:string (a:long, b:string) { } private function g() { } function h() : 3 { }",
    );
    assertEquals(
      s.functions.map((f) => [f.name, f.returnType, f.params.map((p) => `${p.name}:${p.type}`), f.private]),
      [
        ["f", "string", ["a:long", "b:string"], false],
        ["g", null, [], true],
        ["h", null, [], false],
      ],
    );
    assertEquals(s.functions[2].priority, 3);
    const g = parseOk("%{ #include <x.h> %} function k:long () %{ STAP_RETURN(1); %}", { guru: true });
    assertEquals([g.embeds.length, g.functions[0].body.kind], [1, "embedded_code"]);
  });

  await t.step("every node has a location", () => {
    const s = parseOk("probe begin {\n  x = 1 +\n    f(2)\n}");
    const e = (s.probes[0].body.statements[0] as A.ExprStatement).expr as A.AssignmentExpr;
    assertEquals(e.loc, { file: "<input>", line: 2, column: 5 });
    assertEquals((e.value as A.BinaryExpr).right.loc, { file: "<input>", line: 3, column: 5 });
    assertEquals(s.probes[0].loc, { file: "<input>", line: 1, column: 1 });
  });
});

Deno.test("parser: errors as stap reports them", async (t) => {
  await t.step("message, place and the offending token", () => {
    const src = "probe begin { x = 1 +; }";
    const r = parseScript(src);
    assertEquals(
      formatDiagnostics(r.errors, new Map([["<input>", src]])),
      "parse error: expected literal string or number\n" +
        "        saw: operator ';' at <input>:1:22\n" +
        "     source: probe begin { x = 1 +; }\n" +
        "                                  ^\n",
    );
  });

  await t.step("end of file", () => {
    const r = parseScript("probe begin { x = 1 ", { file: "a.stp" });
    assertEquals(
      formatDiagnostics(r.errors, new Map()),
      "parse error: expected statement\n        saw: a.stp EOF\n",
    );
  });

  await t.step("embedded code needs guru mode", () => {
    assertEquals(errorsOf("%{ x %} probe begin {}"), [
      "1:1 embedded code in unprivileged script; need stap -g",
    ]);
    assertEquals(errorsOf("probe begin { %{ x %} }"), [
      "1:15 embedded expression code in unprivileged script; need stap -g",
      "1:15 embedded code in unprivileged script; need stap -g",
      "1:23 expected 'probe', 'global', 'private', 'function', or '%{'",
    ]);
  });

  await t.step("missing arguments, bad numbers, unclosed strings", () => {
    assertEquals(errorsOf("probe begin { print($1) }"), ["1:21 command line argument out of range [1-0]"]);
    assertEquals(errorsOf("probe begin { x = 08 }"), ["1:19 number invalid or out of range"]);
    assertEquals(errorsOf('probe begin { x = "abc }'), ["1:19 Could not find matching closing quote"]);
  });

  await t.step("recovery goes on at the next declaration", () => {
    assertEquals(errorsOf("probe begin { if }\nprobe end { x = }\nfunction f( {}"), [
      "1:18 expected '('",
      "2:17 expected literal string or number",
      "3:13 expected identifier",
    ]);
  });

  await t.step("printf formats are checked", () => {
    assertEquals(formatError("%d %5.2s %-x %lu %*d %%"), null);
    assertEquals(formatError("%q"), "invalid or missing conversion specifier");
    assertEquals(formatError("%5"), "trailing incomplete print format conversion");
    assertEquals(errorsOf('probe begin { printf("%z\\n", 1) }'), [
      "1:28 invalid or missing conversion specifier",
    ]);
  });

  await t.step("stap 4.8 has no @include: it is an unknown token at the top level", () => {
    assertEquals(errorsOf('@include "x.stp"'), [
      "1:1 expected 'probe', 'global', 'private', 'function', or '%{'",
    ]);
  });

  await t.step("a macro named like a built-in operator draws a warning", () => {
    const r = parseScript("@define count %( 1 %) probe begin { x = @count }");
    assertEquals(r.warnings.map((w) => `${w.line}:${w.column} ${w.message}`), [
      "1:9 macro redefines built-in operator '@count'",
    ]);
  });

  await t.step("an empty file and one emptied by preprocessing", () => {
    assertEquals(parseScript("# nothing").empty, "empty");
    assertEquals(parseScript('%( arch == "none" %? probe begin {} %)').empty, "empty_after_preprocessing");
  });
});
