import { assert, assertEquals } from "@std/assert";
import { COMMANDS, GLOBAL_FLAGS } from "./declarations.ts";
import { LOADERS } from "../cli/loaders.ts";
import { parseDuration, parseSize } from "../units.ts";
import { runMain } from "../../tests/support/in_process.ts";

Deno.test("every declared command has a loader, and every loader a declaration", () => {
  assertEquals(Object.keys(LOADERS), Object.keys(COMMANDS));
  for (const [key, command] of Object.entries(COMMANDS)) assertEquals(command.name, key);
});

Deno.test("the declarations hold together: unique spellings, needs and oneOf that exist, defaults in range", () => {
  for (const command of Object.values(COMMANDS)) {
    const inherited = (command.flagsFrom ?? []).flatMap((c) => COMMANDS[c].forms[0].flags.map((f) => f.long));
    for (const form of command.forms) {
      const where = `${command.name}${form.keyword ? ` ${form.keyword}` : ""}`;
      const longs = form.flags.map((f) => f.long);
      const shorts = form.flags.flatMap((f) => f.short ? [f.short] : []);
      assertEquals(new Set(longs).size, longs.length, `${where}: a long name twice`);
      assertEquals(new Set(shorts).size, shorts.length, `${where}: a short name twice`);
      for (const long of [...longs, ...GLOBAL_FLAGS.map((f) => f.long)]) {
        assert(/^[a-z][a-z0-9-]*$/.test(long), `${where}: "--${long}"`);
      }
      for (const name of form.oneOf ?? []) {
        assert(
          longs.includes(name) || form.positionals.some((p) => p.name === name),
          `${where}: oneOf "${name}"`,
        );
      }
      const variadic = form.positionals.findIndex((p) => p.variadic);
      assert(
        variadic < 0 || variadic === form.positionals.length - 1,
        `${where}: a variadic positional last`,
      );
      for (const flag of form.flags) {
        const what = `${where} --${flag.long}`;
        if (flag.needs !== undefined) {
          assert(
            longs.includes(flag.needs) || inherited.includes(flag.needs),
            `${what}: needs "${flag.needs}"`,
          );
        }
        assert(flag.help.length > 0 && !flag.help.endsWith("."), `${what}: help in one phrase, no period`);
        assert(flag.default === undefined || flag.value !== undefined, `${what}: a default for a switch`);
        assert(!(flag.default !== undefined && flag.defaultText !== undefined), `${what}: two defaults`);
        if (flag.default === undefined) continue;
        const value = flag.kind === "duration"
          ? parseDuration(flag.default, what)
          : flag.kind === "size"
          ? parseSize(flag.default, what)
          : flag.kind === "count"
          ? Number(flag.default)
          : undefined;
        if (value === undefined) continue;
        assert(flag.min === undefined || value >= flag.min, `${what}: default below its range`);
        assert(flag.max === undefined || value <= flag.max, `${what}: default above its range`);
      }
    }
  }
});

Deno.test("each command's parser takes every flag its declaration lists", async () => {
  // An empty simulated world: a flag that gets past the parser finds nothing to act on.
  const root = await Deno.makeTempDir({ prefix: "stapfr-declared-" });
  const env = { STAPFR_SIM: "1", STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: `${root}/state` };
  try {
    let checked = 0;
    for (const command of Object.values(COMMANDS)) {
      if (command.passThrough || command.name === "demo") continue;
      for (const form of command.forms) {
        for (const flag of form.flags) {
          const needed = form.flags.find((f) => f.long === flag.needs);
          const words = [
            command.name,
            ...(form.keyword ? [form.keyword] : []),
            ...(needed ? [`--${needed.long}`, ...(needed.value && !needed.optionalPrefix ? ["x"] : [])] : []),
            `--${flag.long}`,
            ...(flag.value && !flag.optionalPrefix ? ["x"] : []),
          ];
          const r = await runMain(words, env);
          assert(
            !/Unknown option|takes no value|Missing value|needs "/.test(r.stderr),
            `"stapfr ${words.join(" ")}" is not parsed as its declaration says: ${r.stderr}`,
          );
          checked++;
        }
      }
    }
    assert(checked > 60, `only ${checked} flags checked`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
