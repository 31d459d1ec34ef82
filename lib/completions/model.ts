/**
 * What the shell completions know, read from the command table (lib/cli/flags.ts): every command, its flags
 * (those taking a value, and which of those values are paths or directories), the words a flag's value may be,
 * the literal words of its usage, and whether it takes a recorder name.
 * @module
 */
import { COMMANDS } from "../cli/commands.ts";
import { commandShape } from "../cli/flags.ts";

/** One command as the completions see it. */
export interface CommandCompletion {
  name: string;
  /** Every flag, long and short forms. */
  flags: string[];
  /** The flags that take a value. */
  valueFlags: string[];
  /** The flags whose value is a file (`PATH`, `FILE`, `FILE.ko`). */
  fileFlags: string[];
  /** The flags whose value is a directory (`DIR`). */
  dirFlags: string[];
  /** The words a flag's value may be. */
  choices: Record<string, string[]>;
  /** Literal words of the usage, completed as the first positional (`show`, `bash`). */
  keywords: string[];
  /** Recorder names complete the first positional. */
  takesName: boolean;
}

/** The options before the command name. */
export const GLOBAL_FLAGS: readonly string[] = ["--sim", "--state-dir", "--json", "--help", "--version"];

/** Every command of the table, for completion. */
export function completionModel(): CommandCompletion[] {
  return Object.entries(COMMANDS).map(([name, info]) => {
    const rows = [info, ...(info.flagsFrom ?? []).map((c) => COMMANDS[c])];
    const c: CommandCompletion = {
      name,
      flags: [],
      valueFlags: [],
      fileFlags: [],
      dirFlags: [],
      choices: {},
      keywords: commandShape(info).keywords,
      takesName: commandShape(info).takesName,
    };
    // `sim` passes its arguments to stap and staprun: their flags are theirs, not the table's.
    if (name === "sim") return c;
    for (const row of rows) {
      for (const flag of commandShape(row).flags) {
        for (const form of [flag.long, flag.short]) {
          if (!form || c.flags.includes(form)) continue;
          c.flags.push(form);
          if (!flag.value) continue;
          c.valueFlags.push(form);
          if (/^(PATH|FILE|FILE\.ko)$/.test(flag.value)) c.fileFlags.push(form);
          if (flag.value === "DIR") c.dirFlags.push(form);
        }
      }
      for (const [flag, words] of Object.entries(row.choices ?? {})) c.choices[flag] ??= words;
    }
    return c;
  });
}
