import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../errors.ts";
import type { FormDeclaration } from "../declarations/declaration.ts";
import { parseForm } from "./parse.ts";

const FORM: FormDeclaration = {
  positionals: [{ name: "NAME" }],
  flags: [
    { long: "output", short: "o", value: "FILE", help: "" },
    { long: "bulk", help: "" },
  ],
};
const WITH_REST: FormDeclaration = { ...FORM, rest: { name: "STAP_ARGS…", help: "" } };

Deno.test("flags, positionals and everything after -- are separated", () => {
  assertEquals(parseForm(["rec", "-o", "F", "--bulk", "--", "-v", "--x"], WITH_REST), {
    values: { output: "F", bulk: true },
    positionals: ["rec"],
    rest: ["-v", "--x"],
  });
});

Deno.test("words after -- are refused by a form that takes none (a bare -- is harmless)", () => {
  assertThrows(() => parseForm(["rec", "--", "-v"], FORM), UsageError, 'Unexpected argument "-v" after "--"');
  assertEquals(parseForm(["rec", "--"], FORM).rest, []);
});

Deno.test("parse errors become one-line usage errors", () => {
  const cases: [string[], string][] = [
    [["--bogus"], 'Unknown option "--bogus"'],
    [["--bogus=3"], 'Unknown option "--bogus"'],
    [["-q"], 'Unknown option "-q"'],
    [["-o"], 'Missing value for "--output"'],
    [["--output"], 'Missing value for "--output"'],
    [["--output="], 'Missing value for "--output"'],
    [["--bulk=3"], 'Option "--bulk" takes no value'],
    [["--no-bulk"], 'Unknown option "--no-bulk"'],
    [["a", "b"], 'Unexpected argument "b"'],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseForm(args, FORM), UsageError).message, message, args.join(" "));
  }
});

Deno.test("values hold the flags given (by long name), declared defaults, and collected flags", () => {
  const form: FormDeclaration = {
    positionals: [{ name: "X", optional: true }],
    flags: [
      { long: "lines", short: "n", value: "N", default: "10", help: "" },
      { long: "follow", short: "f", help: "" },
      { long: "tag", value: "T", multiple: true, help: "" },
    ],
  };
  assertEquals(parseForm([], form), { values: { lines: "10" }, positionals: [], rest: [] });
  assertEquals(parseForm(["-f", "-n", "5", "--tag", "a", "--tag=b", "7"], form), {
    values: { lines: "5", follow: true, tag: ["a", "b"] },
    positionals: ["7"],
    rest: [],
  });
  // Grouped switches, the last taking a value; a value joined to its short flag.
  assertEquals(parseForm(["-fn", "3"], form).values, { lines: "3", follow: true });
  assertEquals(parseForm(["-n3"], form).values, { lines: "3" });
});

Deno.test("a flag that got no value, or a value it takes none of, is a usage error", () => {
  const form: FormDeclaration = {
    positionals: [],
    flags: [{ long: "lines", short: "n", value: "N", help: "" }, { long: "follow", short: "f", help: "" }],
  };
  const cases: [string[], string][] = [
    [["--lines", ""], 'Missing value for "--lines"'],
    [["-f5"], 'Option "--follow" takes no value'],
    [["--follow=yes"], 'Option "--follow" takes no value'],
    [["-x", "-f"], 'Unknown option "-x"'],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseForm(args, form), UsageError).message, message);
  }
});

Deno.test("a value that starts with a dash: a negative number is the value, anything else a missing value", () => {
  const form: FormDeclaration = {
    positionals: [{ name: "R", optional: true }],
    flags: [{ long: "lines", short: "n", value: "N", help: "" }, { long: "follow", short: "f", help: "" }],
  };
  assertEquals(parseForm(["r", "-n", "-5"], form).values, { lines: "-5" });
  assertEquals(parseForm(["--lines", "-5", "r"], form).values, { lines: "-5" });
  assertEquals(parseForm(["-n", "3", "-f"], form).values, { lines: "3", follow: true });
  assertEquals(
    assertThrows(() => parseForm(["-o", "--bulk"], FORM), UsageError).message,
    'Missing value for "--output" ("--bulk" is an option; write "--output=--bulk" if it is the value)',
  );
});

Deno.test("a value that may be left out is the next word only when it has its prefix; given twice is refused", () => {
  const form: FormDeclaration = {
    positionals: [{ name: "NAME" }],
    flags: [{ long: "ship", value: "URL", optionalPrefix: "s3://", help: "" }],
  };
  assertEquals(parseForm(["io", "--ship", "s3://b/p"], form).values, { ship: "s3://b/p" });
  assertEquals(parseForm(["--ship", "io"], form), { values: { ship: true }, positionals: ["io"], rest: [] });
  assertEquals(parseForm(["io", "--ship=s3://b"], form).values, { ship: "s3://b" });
  assertThrows(() => parseForm(["io", "--ship", "--ship"], form), UsageError, '"--ship" given twice');
});

Deno.test("a flag without the one it needs, and a required flag left out, are refused by name", () => {
  const form: FormDeclaration = {
    positionals: [],
    flags: [
      { long: "data", help: "" },
      { long: "output", short: "o", value: "FILE", needs: "data", help: "" },
      { long: "window", value: "DURATION", required: true, help: "" },
    ],
  };
  const cases: [string[], string][] = [
    [["--window", "1m", "-o", "f"], '"-o" needs "--data"'],
    [["--window", "1m", "--output=f"], '"--output" needs "--data"'],
    [["--data"], 'Missing "--window DURATION"'],
  ];
  for (const [args, message] of cases) {
    assertEquals(assertThrows(() => parseForm(args, form), UsageError).message, message);
  }
  assertEquals(parseForm(["--window", "1m", "--data", "-o", "f"], form).values, {
    window: "1m",
    data: true,
    output: "f",
  });
});
