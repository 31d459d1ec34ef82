/**
 * What the shell completions know, read from the declarations (lib/declarations/declarations.ts): every command, its
 * flags (those taking a value, and which of those values are files or directories), the words a flag's value
 * may be, the words its first positional may be (subcommands like `show`, choices like `bash`), and whether it
 * takes a recorder name or a file.
 * @module
 */
import { COMMANDS, GLOBAL_FLAGS } from "../declarations/declarations.ts";
import type { FlagDeclaration } from "../declarations/declaration.ts";

/** One command as the completions see it. */
export interface CommandCompletion {
  name: string;
  /** What it does, for the shells that show it (fish). */
  summary: string;
  /** Every flag, long and short forms. */
  flags: string[];
  /** The flags that take a value (the next word). */
  valueFlags: string[];
  /** The flags whose value is a file or a path. */
  fileFlags: string[];
  /** The flags whose value is a directory. */
  dirFlags: string[];
  /** The words a flag's value may be. */
  choices: Record<string, string[]>;
  /** Words completed as the first positional: subcommands (`show`) and choices (`bash`). */
  keywords: string[];
  /** Recorder names complete the first positional. */
  takesName: boolean;
  /** Files complete its positionals (`SCRIPT_FILE`). */
  takesFile: boolean;
}

/** Every spelling of the options before the command name. */
export const GLOBAL_WORDS: readonly string[] = GLOBAL_FLAGS.map((f) => `--${f.long}`);

function spellings(flag: FlagDeclaration): string[] {
  return [`--${flag.long}`, ...(flag.short ? [`-${flag.short}`] : [])];
}

/**
 * Every command of the declarations, for completion.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "@std/assert";
 * const start = completionModel().find((c) => c.name === "start")!;
 * assert(start.valueFlags.includes("--buffer") && start.takesName);
 * assertEquals(completionModel().find((c) => c.name === "completions")!.keywords, ["bash", "zsh", "fish"]);
 * ```
 */
export function completionModel(): CommandCompletion[] {
  return Object.values(COMMANDS).map((command) => {
    const forms = command.forms.filter((f) => !f.internal);
    const c: CommandCompletion = {
      name: command.name,
      summary: command.summary,
      flags: [],
      valueFlags: [],
      fileFlags: [],
      dirFlags: [],
      choices: {},
      keywords: [...new Set(forms.flatMap((f) => [...(f.keyword ? [f.keyword] : [])]))],
      takesName: forms.some((f) => !f.keyword && f.positionals[0]?.kind === "recorder"),
      takesFile: forms.some((f) => f.positionals.some((p) => p.kind === "file")),
    };
    for (const f of forms) if (!f.keyword) c.keywords.push(...(f.positionals[0]?.choices ?? []));
    // `sim` passes its arguments to stap and staprun: their flags are theirs, not the declarations'.
    if (command.passThrough) return c;
    const flags = [
      ...forms.flatMap((f) => f.flags),
      ...(command.flagsFrom ?? []).flatMap((name) => COMMANDS[name].forms[0].flags),
    ];
    for (const flag of flags) {
      for (const form of spellings(flag)) {
        if (c.flags.includes(form)) continue;
        c.flags.push(form);
        // A value that may be left out (`--ship [URL]`) is not taken for granted.
        if (flag.value === undefined || flag.optionalPrefix !== undefined) continue;
        c.valueFlags.push(form);
        if (flag.kind === "file" || flag.kind === "path") c.fileFlags.push(form);
        if (flag.kind === "dir") c.dirFlags.push(form);
        if (flag.choices) c.choices[form] ??= flag.choices.map((choice) => choice.word);
      }
    }
    return c;
  });
}
