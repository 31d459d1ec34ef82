import { assert, assertEquals } from "@std/assert";
import { checkScript } from "./check.ts";

Deno.test("checkScript", async (t) => {
  await t.step("a good script is ok and comes with its tree", () => {
    const r = checkScript('probe begin { printf("hi\\n"); exit() }', { tapsetDir: null });
    assertEquals([r.ok, r.errors, r.text], [true, [], ""]);
    assertEquals(r.script.probes.length, 1);
  });

  await t.step("errors come with places and stap's text", () => {
    const r = checkScript("probe begin { x = 1 +; }\nprobe end { y = }", { file: "s.stp", tapsetDir: null });
    assertEquals(r.ok, false);
    // The second error repeats the first message: stap counts it but does not show it.
    assertEquals(r.errors, [{
      file: "s.stp",
      line: 1,
      column: 22,
      message: "expected literal string or number",
    }]);
    assertEquals(
      r.text,
      "parse error: expected literal string or number\n" +
        "        saw: operator ';' at s.stp:1:22\n" +
        "     source: probe begin { x = 1 +; }\n" +
        "                                  ^\n" +
        "2 parse errors.\n" +
        "Pass 1: parse failed.  [man error::pass1]\n" +
        "Number of similar error messages suppressed: 1.\n" +
        "Rerun with -v to see them.\n",
    );
  });

  await t.step("embedded C needs guru mode", () => {
    assertEquals(checkScript("%{ %} probe begin {}", { tapsetDir: null }).ok, false);
    assertEquals(checkScript("%{ %} probe begin {}", { tapsetDir: null, guru: true }).ok, true);
  });

  await t.step("empty scripts are rejected like stap does", () => {
    assertEquals(
      checkScript("", { tapsetDir: null }).text,
      "Input file '<input>' is empty.\nPass 1: parse failed.  [man error::pass1]\n",
    );
    const r = checkScript('%( arch == "sparc" %? probe begin {} %)', { tapsetDir: null });
    assertEquals(r.errors[0].message, "Input file '<input>' is empty after preprocessing.");
  });

  await t.step("positional arguments and target options", () => {
    assertEquals(checkScript("probe timer.ms($1) {}", { tapsetDir: null }).ok, false);
    assertEquals(checkScript("probe timer.ms($1) {}", { tapsetDir: null, args: ["100"] }).ok, true);
    const src = '%( kernel_v >= "6.0" %? probe begin {} %: probe end {} %)';
    const names = (release: string): string =>
      checkScript(src, { tapsetDir: null, kernelRelease: release }).script.probes[0].points[0].components[0]
        .name;
    assertEquals([names("6.1.0-13-amd64"), names("5.10.0")], ["begin", "end"]);
  });

  await t.step("built-in tapset macros when no tapset is installed", () => {
    const r = checkScript('probe begin { x = @choose_defined($x, 0) + @cast_sizeof("struct foo") }', {
      tapsetDir: null,
    });
    assertEquals(r.errors, []);
    const missing = checkScript("probe begin { x = @choose_defined($x, 0) }", {
      tapsetDir: "/nonexistent/dir",
    });
    assert(missing.ok, "a missing tapset directory falls back to the built-in macros");
  });

  await t.step("the unsupported hook runs on parsed scripts only", () => {
    const hook = () => [{ file: "<input>", line: 1, column: 7, message: "probe point is not simulated" }];
    assertEquals(
      checkScript('probe kprobe.function("x") {}', { tapsetDir: null, unsupported: hook }).unsupported,
      hook(),
    );
    assertEquals(checkScript("probe {", { tapsetDir: null, unsupported: hook }).unsupported, []);
  });

  await t.step("bad lexical cast stops everything, as in stap", () => {
    const r = checkScript("%( guru_mode == 0x0 %? probe begin {} %)", { tapsetDir: null });
    assertEquals([r.ok, r.text], [false, "bad lexical cast\n"]);
  });
});
