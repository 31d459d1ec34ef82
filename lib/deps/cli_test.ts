import { assertEquals, assertThrows } from "@std/assert";
import { parseArgs } from "@std/cli";

// Expected values below are those of jsr:@std/cli's parseArgs for the same calls.

Deno.test("parseArgs: flags, values and positionals as std parses them", () => {
  assertEquals(parseArgs(["--foo", "--bar=baz", "./quux.txt"]), { foo: true, bar: "baz", _: ["./quux.txt"] });
  assertEquals(parseArgs(["--foo", "--bar", "baz"], { boolean: ["foo"], string: ["bar"] }), {
    foo: true,
    bar: "baz",
    _: [],
  });
  assertEquals(parseArgs(["-n", "5", "-x", "3", "7", "007"], { string: ["n"] }), { n: "5", x: 3, _: [7, 7] });
  assertEquals(parseArgs(["007", "1e3"], { string: ["_"] }), { _: ["007", "1e3"] });
});

Deno.test("parseArgs: short groups", () => {
  assertEquals(parseArgs(["-abc"]), { a: true, b: true, c: true, _: [] });
  assertEquals(parseArgs(["-n5"]), { n: 5, _: [] });
  assertEquals(parseArgs(["-k=v"]), { k: "v", _: [] });
  assertEquals(parseArgs(["-o/tmp/x"]), { o: "/tmp/x", _: [] });
  assertEquals(parseArgs(["-fn", "x"]), { f: true, n: "x", _: [] });
  assertEquals(parseArgs(["-a-"]), { a: "-", _: [] });
});

Deno.test("parseArgs: a string flag takes no argument that starts with a dash, and is then empty", () => {
  assertEquals(parseArgs(["--out", "-v"], { string: ["out"] }), { out: "", v: true, _: [] });
  assertEquals(parseArgs(["-o", "-1"], { string: ["o"] }), { o: "", 1: true, _: [] });
  assertEquals(parseArgs(["-o"], { string: ["o"] }), { o: "", _: [] });
  assertEquals(parseArgs(["--out", ""], { string: ["out"] }), { out: "", _: [""] });
  assertEquals(parseArgs(["--out="], { string: ["out"] }), { "out=": true, _: [] });
});

Deno.test("parseArgs: booleans default to false and read true/false", () => {
  assertEquals(parseArgs([], { boolean: ["b"] }), { b: false, _: [] });
  assertEquals(parseArgs(["--b", "false", "x"], { boolean: ["b"] }), { b: false, _: ["x"] });
  assertEquals(parseArgs(["--b=3"], { boolean: ["b"] }), { b: true, _: [] });
  assertEquals(parseArgs(["--b=false"], { boolean: ["b"] }), { b: false, _: [] });
  assertEquals(parseArgs(["--x", "--y"], { boolean: true }), { x: true, y: true, _: [] });
});

Deno.test("parseArgs: aliases, collect, negatable, defaults", () => {
  assertEquals(parseArgs(["-o", "F"], { string: ["output"], alias: { output: "o" } }), {
    o: "F",
    output: "F",
    _: [],
  });
  assertEquals(parseArgs(["--foo", "bar", "--foo", "baz"], { collect: ["foo"] }), {
    foo: ["bar", "baz"],
    _: [],
  });
  assertEquals(parseArgs([], { string: ["foo"], collect: ["foo"] }), { foo: [], _: [] });
  assertEquals(parseArgs(["--no-foo"], { boolean: ["foo"], negatable: ["foo"] }), { foo: false, _: [] });
  assertEquals(parseArgs(["--no-foo"]), { "no-foo": true, _: [] });
  assertEquals(parseArgs([], { default: { n: "10" }, alias: { n: "lines" } }), {
    n: "10",
    lines: "10",
    _: [],
  });
  assertEquals(parseArgs(["--a.b", "1"]), { a: { b: 1 }, _: [] });
  assertThrows(() => parseArgs([], { alias: { a: undefined as unknown as string } }), TypeError);
});

Deno.test("parseArgs: --, stopEarly and unknown", () => {
  assertEquals(parseArgs(["a", "--", "-v", "--x"], { "--": true }), { _: ["a"], "--": ["-v", "--x"] });
  assertEquals(parseArgs(["a", "--", "-v"]), { _: ["a", "-v"] });
  assertEquals(parseArgs(["a", "--b", "c"], { stopEarly: true }), { _: ["a", "--b", "c"] });
  const seen: unknown[][] = [];
  const parsed = parseArgs(["pos", "--known", "k", "--odd=1", "-q", "v"], {
    string: ["known"],
    unknown: (...args) => {
      seen.push(args);
      return args[1] === undefined;
    },
  });
  assertEquals(parsed, { known: "k", _: ["pos"] });
  // An unknown short flag takes the next argument as its value, as std does.
  assertEquals(seen, [["pos"], ["--odd=1", "odd", "1"], ["-q", "q", "v"]]);
});
