import { assertEquals } from "@std/assert";
import { Lexer } from "./lexer.ts";
import { DEFAULT_TARGET, FatalError, ParseError, Preprocessor, type TargetOptions } from "./preprocess.ts";

const TARGET: TargetOptions = {
  ...DEFAULT_TARGET,
  kernelRelease: "5.10.0-21-amd64",
  config: { CONFIG_SMP: "y", CONFIG_NR_CPUS: "64", CONFIG_HZ: "250", CONFIG_NAME: "abc" },
};

/** The preprocessed token texts of a source. */
function pp(source: string, target: TargetOptions = TARGET, args: string[] = []): string[] {
  const p = new Preprocessor(new Lexer(source, "t.stp", args), target);
  const out: string[] = [];
  for (let t = p.scan(); t; t = p.scan()) out.push(t.content);
  return out;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ParseError || e instanceof FatalError) return e.message;
    throw e;
  }
  return "";
}

Deno.test("preprocessor conditionals and macros", async (t) => {
  await t.step("then and else branches, nested, with && and ||", () => {
    assertEquals(pp('%( arch == "x86_64" %? a %: b %)'), ["a"]);
    assertEquals(pp('%( arch == "arm" %? a %: b %)'), ["b"]);
    assertEquals(pp('%( arch == "arm" %? a %)'), []);
    assertEquals(pp('%( arch == "x86_64" %? %( kernel_v < "3" %? x %: y %) %: z %)'), ["y"]);
    assertEquals(pp('%( arch == "arm" || arch == "x86_64" && kernel_v > "9" %? a %: b %)'), ["b"]);
    assertEquals(pp('%( arch == "x86_64" && kernel_v > "5" || arch == "arm" %? a %: b %)'), ["a"]);
  });

  await t.step("positional arguments count in conditions", () => {
    assertEquals(pp("%( $# > 1 %? two %: fewer %)", TARGET, ["a", "b"]), ["two"]);
    assertEquals(pp('%( @1 == "x" %? yes %: no %)', TARGET, ["x"]), ["yes"]);
  });

  await t.step("malformed conditionals", () => {
    assertEquals(errorOf(() => pp('%( arch == "x" a %)')), "expected '%?' marker for conditional");
    assertEquals(errorOf(() => pp("a %: b")), "incomplete conditional - missing '%('");
    assertEquals(errorOf(() => pp('%( arch == "x86_64" %? a')), "incomplete conditional at end of file");
    assertEquals(
      errorOf(() => pp('%( arch == "x86_64" %? a %: b %: c %)')),
      "invalid conditional - duplicate '%:'",
    );
    assertEquals(errorOf(() => pp("%( arch")), "incomplete condition after '%('");
  });

  await t.step("macros with and without parameters, nested", () => {
    assertEquals(pp("@define two %( 2 %) x = @two"), ["x", "=", "2"]);
    assertEquals(pp("@define add(a, b) %( (@a + @b) %) @add(1, f(2, 3))"), [
      "(",
      "1",
      "+",
      "f",
      "(",
      "2",
      ",",
      "3",
      ")",
      ")",
    ]);
    assertEquals(pp("@define inner(x) %( [@x] %) @define outer(y) %( @inner(@y) %) @outer(7)"), [
      "[",
      "7",
      "]",
    ]);
    assertEquals(pp('@define c %( %( arch == "x86_64" %? yes %: no %) %) @c'), ["yes"]);
  });

  await t.step("unknown @words pass through", () => {
    assertEquals(pp("@count(x)"), ["@count", "(", "x", ")"]);
  });

  await t.step("macro errors", () => {
    assertEquals(
      errorOf(() => pp("@define a %( 1 %) @define a %( 2 %)")),
      "attempt to redefine macro '@a' in the same file",
    );
    assertEquals(
      errorOf(() => pp("@define f(a) %( @a %) @f")),
      "expected '(' in invocation of macro '@f' taking 1 parameter",
    );
    assertEquals(
      errorOf(() => pp("@define f(a, b) %( @a %) @f(1)")),
      "too few parameters for macro '@f' (expected 2)",
    );
    assertEquals(
      errorOf(() => pp("@define f(a) %( @a %) @f(1, 2)")),
      "too many parameters for macro '@f' (expected 1)",
    );
    assertEquals(errorOf(() => pp("@define f %( 1 ")), "incomplete macro definition - missing '%)'");
    assertEquals(errorOf(() => pp("@define f x")), "expected '%(' or '('");
  });
});
