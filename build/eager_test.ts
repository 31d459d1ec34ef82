import { assertEquals } from "@std/assert";
import { eagerSource, type FunctionRange } from "./eager.ts";

/** The ranges of the functions that start with each of `heads` in `text` and end just before each of `tails`. */
function ranges(text: string, spans: [string, string][]): FunctionRange[] {
  return spans.map(([head, tail]) => {
    const start = text.indexOf(head);
    const end = text.indexOf(tail, start) + tail.length;
    if (start < 0 || end < tail.length) throw new Error(`no ${head}…${tail} in ${text}`);
    return { start, end };
  });
}

/** What a module's `run` export returns, loaded from its text. */
async function run(text: string): Promise<unknown> {
  const module = await import(`data:text/javascript,${encodeURIComponent(text)}`);
  return module.run();
}

Deno.test("eagerSource puts arrows and function expressions in parentheses, as they are", () => {
  const text = 'var a=n=>n+1,b=async(n,e="(x)")=>n,c=function(){return 1},d=async n=>n;';
  const { text: out, eager, left } = eagerSource(
    text,
    ranges(text, [["n=>n+1", "n+1"], ['async(n,e="(x)")', ")=>n"], ["function(){", "1}"], [
      "async n=>",
      "=>n",
    ]]),
  );
  assertEquals(out, 'var a=(n=>n+1),b=(async(n,e="(x)")=>n),c=(function(){return 1}),d=(async n=>n);');
  assertEquals([eager, left], [4, 0]);
});

Deno.test("eagerSource moves a top-level declaration to the top as a var, where its hoisting had it", async () => {
  // `before` calls f before its declaration, as a module's code may.
  const text =
    "export function run(){return before}const before=f(2);function f(n){return g(n)*2}function g(n){return n}";
  const result = eagerSource(text, ranges(text, [["function f(n)", "*2}"], ["function g(n)", "return n}"]]));
  assertEquals(
    result.text,
    "var f=(function f(n){return g(n)*2});\nvar g=(function g(n){return n});\n" +
      "export function run(){return before}const before=f(2);",
  );
  assertEquals(await run(result.text), await run(text));
});

Deno.test("eagerSource leaves alone what it cannot put in parentheses, or cannot tell", async () => {
  const text = "export function run(){function inner(){return 1}return new K().m()+inner()+h()}" +
    "class K{m(){return 2}}\n// a comment\nfunction h(){return 3}";
  const spans: [string, string][] = [["function inner", "return 1}"], ["m(){", "2}"], ["function h", "3}"]];
  // The whole of run contains inner: a declaration inside a function stays one (its hoisting is the function's).
  const all = [...ranges(text, spans), ...ranges(text, [["function run", "h()}"]])];
  const result = eagerSource(text, ranges(text, spans), all);
  assertEquals(result.text, text);
  assertEquals([result.eager, result.left], [0, 3]);
  assertEquals(await run(result.text), 6);
});

Deno.test("eagerSource keeps a #! line first, and closes inner functions before outer ones", () => {
  const text = "#!/usr/bin/env deno\nvar f=a=>b=>a+b;";
  const outer = { start: text.indexOf("a=>"), end: text.indexOf(";") };
  const inner = { start: text.indexOf("b=>"), end: text.indexOf(";") };
  assertEquals(eagerSource(text, [outer, inner]).text, "#!/usr/bin/env deno\nvar f=(a=>(b=>a+b));");
});

Deno.test("eagerSource wraps a function after return, and counts a function once however often it ran", () => {
  const text = "function run(){return function(){return 1}}";
  const expression = ranges(text, [["function(){", "1}"]]);
  const result = eagerSource(text, [...expression, ...expression], [...expression]);
  assertEquals(result.text, "function run(){return (function(){return 1})}");
  assertEquals(result.eager, 1);
});
