import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../errors.ts";
import { type Flags, parseCommandArgs } from "./args.ts";

const FLAGS: Flags = { output: { type: "string", short: "o" }, bulk: { type: "boolean" } };

Deno.test("flags, positionals and everything after -- are separated", () => {
  const p = parseCommandArgs(["rec", "-o", "F", "--bulk", "--", "-v", "--x"], FLAGS, 1);
  assertEquals(p, { values: { output: "F", bulk: true }, positionals: ["rec"], rest: ["-v", "--x"] });
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
