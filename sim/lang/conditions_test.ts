import { assert, assertEquals } from "@std/assert";
import { DEFAULT_TARGET, evalCondition, fnmatch, strverscmp, type TargetOptions } from "./conditions.ts";
import { Lexer, type Token } from "./lexer.ts";
import { FatalError, ParseError } from "./parse_error.ts";

const TARGET: TargetOptions = {
  ...DEFAULT_TARGET,
  kernelRelease: "5.10.0-21-amd64",
  config: { CONFIG_SMP: "y", CONFIG_NR_CPUS: "64", CONFIG_HZ: "250", CONFIG_NAME: "abc" },
};

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
