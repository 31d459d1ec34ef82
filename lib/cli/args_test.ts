import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../errors.ts";
import { type Flags, parseCommandArgs } from "./args.ts";

const FLAGS: Flags = { output: { type: "string", short: "o" }, bulk: { type: "boolean" } };

Deno.test("flags, positionals and everything after -- are separated", () => {
  const p = parseCommandArgs(["rec", "-o", "F", "--bulk", "--", "-v", "--x"], FLAGS, 1, { rest: true });
  assertEquals(p, { values: { output: "F", bulk: true }, positionals: ["rec"], rest: ["-v", "--x"] });
});

Deno.test("words after -- are refused by a command that takes none (a bare -- is harmless)", () => {
  assertThrows(
    () => parseCommandArgs(["rec", "--", "-v"], FLAGS, 1),
    UsageError,
    'Unexpected argument "-v" after "--"',
  );
  assertEquals(parseCommandArgs(["rec", "--"], FLAGS, 1).rest, []);
});

Deno.test("parse errors become one-line usage errors", () => {
  const cases: [string[], string][] = [
    [["--bogus"], 'Unknown option "--bogus"'],
    [["-q"], 'Unknown option "-q"'],
    [["-o"], 'Missing value for "--output"'],
    [["--output"], 'Missing value for "--output"'],
    [["--bulk=3"], 'Option "--bulk" takes no value'],
    [["a", "b"], 'Unexpected argument "b"'],
  ];
  for (const [args, message] of cases) {
    const err = assertThrows(() => parseCommandArgs(args, FLAGS, 1), UsageError);
    assertEquals(err.message, message);
  }
});

Deno.test("values hold the flags given (by long name), defaults, and collected flags", () => {
  const flags: Flags = {
    lines: { type: "string", short: "n", default: "10" },
    follow: { type: "boolean", short: "f" },
    tag: { type: "string", multiple: true },
  };
  assertEquals(parseCommandArgs(["rec"], flags), { values: { lines: "10" }, positionals: ["rec"], rest: [] });
  assertEquals(parseCommandArgs(["-f", "-n", "5", "--tag", "a", "--tag=b", "7"], flags), {
    values: { lines: "5", follow: true, tag: ["a", "b"] },
    positionals: ["7"],
    rest: [],
  });
});

Deno.test("a flag that got no value, or a value it takes none of, is a usage error", () => {
  const flags: Flags = { lines: { type: "string", short: "n" }, follow: { type: "boolean", short: "f" } };
  const cases: [string[], string][] = [
    [["--lines", ""], 'Missing value for "--lines"'],
    [["-f5"], 'Option "--follow" takes no value'],
    [["--follow=yes"], 'Option "--follow" takes no value'],
    [["-x", "-f"], 'Unknown option "-x"'],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseCommandArgs(args, flags), UsageError).message, message);
  }
});

Deno.test("a value that starts with a dash: a negative number is the value, anything else a missing value", () => {
  const lines: Flags = { lines: { type: "string", short: "n" }, follow: { type: "boolean", short: "f" } };
  assertEquals(parseCommandArgs(["r", "-n", "-5"], lines, 1).values, { lines: "-5" });
  assertEquals(parseCommandArgs(["--lines", "-5", "r"], lines, 1).values, { lines: "-5" });
  assertEquals(parseCommandArgs(["-n", "3", "-f"], lines).values, { lines: "3", follow: true });
  const err = assertThrows(() => parseCommandArgs(["-o", "--bulk"], FLAGS, 1), UsageError);
  assertEquals(
    err.message,
    'Missing value for "--output" ("--bulk" is an option; write "--output=--bulk" if it is the value)',
  );
});
