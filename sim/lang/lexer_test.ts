import { assertEquals } from "@std/assert";
import { Lexer, quoteArgument, type Token } from "./lexer.ts";

function lex(source: string, args: string[] = []): Token[] {
  const lexer = new Lexer(source, "t.stp", args);
  const out: Token[] = [];
  for (let t = lexer.scan(); t; t = lexer.scan()) out.push(t);
  return out;
}

function kinds(source: string, args: string[] = []): string[] {
  return lex(source, args).map((t) => `${t.type}:${t.content}`);
}

Deno.test("lexer", async (t) => {
  await t.step("identifiers, keywords, @words and $vars", () => {
    assertEquals(kinds("probe foo_1 @count $var $$parms $x$"), [
      "keyword:probe",
      "identifier:foo_1",
      "operator:@count",
      "identifier:$var",
      "identifier:$$parms",
      "identifier:$x$",
    ]);
  });

  await t.step("numbers are digit-led alphanumeric runs (checked later)", () => {
    assertEquals(kinds("10 0x1F 017 08 1abc"), [
      "number:10",
      "number:0x1F",
      "number:017",
      "number:08",
      "number:1abc",
    ]);
  });

  await t.step("operators match longest first", () => {
    assertEquals(
      kinds("a <<< b >>= c .= d -> e %( %? %: %) !~ =~ ++ >>>").filter((k) => k.startsWith("operator")),
      [
        "operator:<<<",
        "operator:>>=",
        "operator:.=",
        "operator:->",
        "operator:%(",
        "operator:%?",
        "operator:%:",
        "operator:%)",
        "operator:!~",
        "operator:=~",
        "operator:++",
        "operator:>>>",
      ],
    );
  });

  await t.step("comments of three kinds are skipped", () => {
    assertEquals(kinds("a # x\nb // y\nc /* z\n */ d"), [
      "identifier:a",
      "identifier:b",
      "identifier:c",
      "identifier:d",
    ]);
  });

  await t.step("string escapes stay as written, except those C does not know", () => {
    assertEquals(lex(String.raw`"a\n\t\\\"\q\101"`)[0].content, String.raw`a\n\t\\"q\101`);
  });

  await t.step("unclosed strings and embedded code are junk", () => {
    assertEquals(lex('x = "abc\n').map((t) => t.junk ?? t.type), [
      "identifier",
      "operator",
      "unclosed_quote",
    ]);
    assertEquals(lex("%{ int x;").map((t) => t.junk ?? t.type), ["unclosed_embedded"]);
  });

  await t.step("embedded code keeps its text", () => {
    const [t0] = lex("%{ int x; %}");
    assertEquals([t0.type, t0.content], ["embedded-code", " int x; "]);
  });

  await t.step("positional arguments are pasted in and keep their place", () => {
    const toks = lex("x = $1 + @2 . @#", ["42", 'a"b']);
    assertEquals(toks.map((t) => `${t.type}:${t.content}`), [
      "identifier:x",
      "operator:=",
      "number:42",
      "operator:+",
      'string:a"b',
      "operator:.",
      "string:2",
    ]);
    assertEquals(toks[2].loc, { file: "t.stp", line: 1, column: 5 });
    assertEquals(toks[3].loc, { file: "t.stp", line: 1, column: 8 });
    assertEquals(quoteArgument('a"b\\'), '"a\\"b\\\\"');
  });

  await t.step("a missing positional argument is junk", () => {
    assertEquals(lex("$1").map((t) => t.junk), ["invalid_arg"]);
    assertEquals(lex("$0", ["a"]).map((t) => t.junk), ["invalid_arg"]);
  });

  await t.step("locations are 1-based lines and columns", () => {
    const toks = lex("probe\n  begin {\n}");
    assertEquals(toks.map((t) => [t.loc.line, t.loc.column]), [[1, 1], [2, 3], [2, 9], [3, 1]]);
  });

  await t.step("spaceBefore tells adjacent tokens apart", () => {
    assertEquals(lex("sys_* a").map((t) => t.spaceBefore), [false, false, true]);
  });

  await t.step("characters outside ASCII are junk", () => {
    assertEquals(lex("\u00e9").map((t) => `${t.type}:${t.junk}`), ["junk:unknown"]);
  });
});
