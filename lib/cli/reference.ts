/**
 * The README's command reference, made from the declarations (lib/declarations/declarations.ts): every form of every
 * command as its usage says it, then what it does. `deno task reference` writes it into README.md between its
 * markers; tests/docs/declarations_test.ts fails when the README holds anything else.
 * @module
 */
import { COMMANDS } from "../declarations/declarations.ts";
import { formUsage, GLOBAL_USAGE } from "./help.ts";

/** The line before the reference in README.md. */
export const BEGIN =
  "<!-- commands: generated from lib/declarations/declarations.ts by `deno task reference` -->";
/** The line after it. */
export const END = "<!-- end of commands -->";

/**
 * The reference: a fenced block of every command's forms, each followed by what it does.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "@std/assert";
 * assertStringIncludes(commandReference(), "tail NAME [-n N] [-f] [--raw]\n    Last lines of a recorder");
 * ```
 */
export function commandReference(): string {
  const lines = ["```", GLOBAL_USAGE, ""];
  for (const command of Object.values(COMMANDS)) {
    for (const [i, form] of command.forms.entries()) {
      if (form.internal) continue;
      const summary = i === 0 ? command.summary : form.summary;
      lines.push(formUsage(command, form), ...(summary ? [`    ${summary}`] : []));
    }
  }
  lines.push("```");
  return lines.join("\n");
}

/** README.md's text with the reference between its markers replaced by {@linkcode commandReference}. */
export function withReference(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no "${BEGIN}" … "${END}"`);
  return `${readme.slice(0, begin + BEGIN.length)}\n\n${commandReference()}\n\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const path = new URL("../../README.md", import.meta.url);
  const before = await Deno.readTextFile(path);
  const after = withReference(before);
  if (after !== before) await Deno.writeTextFile(path, after);
  console.log(after === before ? "README.md: the reference is up to date" : "README.md: reference rewritten");
}
