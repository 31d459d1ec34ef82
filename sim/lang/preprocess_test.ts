import { assert, assertEquals } from "@std/assert";
import { Lexer, type Token } from "./lexer.ts";
import {
  DEFAULT_TARGET,
  evalCondition,
  FatalError,
  fnmatch,
  ParseError,
  Preprocessor,
  strverscmp,
  type TargetOptions,
} from "./preprocess.ts";

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

/** Evaluates one condition written as source text. */
function cond(text: string, target: TargetOptions = TARGET): boolean {
  const toks: Token[] = [];
  const lexer = new Lexer(text, "t.stp");
  for (let t = lexer.scan(); t; t = lexer.scan()) toks.push(t);
  return evalCondition(target, toks[0], toks[1], toks[2]);
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

Deno.test("strverscmp orders versions like glibc", () => {
  assert(strverscmp("2.6.9", "2.6.10") < 0);
  assert(strverscmp("5.10.0", "5.9") > 0);
  assertEquals(strverscmp("4.8", "4.8"), 0);
  assert(strverscmp("000", "00") < 0);
  assert(strverscmp("1.01", "1.1") < 0);
  assert(strverscmp("a", "b") < 0);
});

Deno.test("fnmatch handles *, ? and brackets without escapes", () => {
  assert(fnmatch("i?86", "i686"));
  assert(fnmatch("x86*", "x86_64"));
  assert(fnmatch("[ym]", "m"));
  assert(!fnmatch("[!ym]", "y"));
  assert(fnmatch("a\\b", "a\\b"));
  assert(!fnmatch("x86", "x86_64"));
});

Deno.test("preprocessor conditions", async (t) => {
  await t.step("kernel_v is the release without its suffix, compared as a version", () => {
    assert(cond('kernel_v >= "2.6.30"'));
    assert(cond('kernel_v == "5.10.0"'));
    assert(!cond('kernel_v == "5.10.0-21-amd64"'));
    assert(cond('kernel_vr == "5.10.0-21-amd64"'));
    assert(cond('kernel_v < "5.10.1"'));
    assert(cond('kernel_v > "5.9.99"'));
    assert(cond('kernel_v != "5.9"'));
    assert(cond('kernel_vr == "*-amd64"'));
    assertEquals(
      errorOf(() => cond('kernel_v >= "5.*"')),
      "wildcard not allowed with order comparison operators",
    );
    assertEquals(errorOf(() => cond("kernel_v >= 5")), "expected string literal");
  });

  await t.step("arch, runtime and privilege compare with == and != only", () => {
    assert(cond('arch == "x86_64"'));
    assert(cond('arch != "i?86"'));
    assert(cond('runtime == "kernel"'));
    assert(cond('systemtap_privilege == "stapdev"'));
    assert(!cond('systemtap_privilege == "stapusr"', { ...TARGET, privilege: "stapsys" }));
    assertEquals(errorOf(() => cond('arch < "x"')), "expected '==' or '!='");
  });

  await t.step("systemtap_v and guru_mode", () => {
    assert(cond('systemtap_v >= "4.0"'));
    assert(!cond('systemtap_v < "1.3"'));
    assert(cond("guru_mode == 0"));
    assert(cond("guru_mode == 1", { ...TARGET, guru: true }));
    assertEquals(errorOf(() => cond("guru_mode == 2")), "expected 0 or 1");
    assertEquals(errorOf(() => cond("guru_mode == 0x0")), "bad lexical cast");
  });

  await t.step("CONFIG_ options as strings, numbers or against each other", () => {
    assert(cond('CONFIG_SMP == "y"'));
    assert(cond('CONFIG_MISSING == ""'));
    assert(cond('CONFIG_SMP == "[ym]"'));
    assert(cond("CONFIG_NR_CPUS >= 32"));
    assert(cond("CONFIG_NR_CPUS > CONFIG_HZ") === false);
    assert(cond("CONFIG_HZ > CONFIG_SMP") === false); // not both numbers: compared as strings
    assertEquals(errorOf(() => cond("CONFIG_SMP == 1")), "Config option value not a number");
  });

  await t.step("literals compare with each other", () => {
    assert(cond('"abc" < "abd"'));
    assert(cond("2 > 1"));
    assertEquals(errorOf(() => cond('1 == "1"')), "expected number literal as right value");
    assertEquals(
      errorOf(() => cond("foo == 1")).split("\n")[0],
      "expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v',",
    );
  });
});

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
