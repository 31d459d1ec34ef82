/**
 * Parses a command's arguments by its declaration (lib/declarations/declarations.ts), strictly: an unknown flag, a
 * missing value, a value given to a switch, a flag without the one it needs, a missing required flag and an
 * extra argument are each one-line usage errors. Flags are `--long`, `--long=VALUE`, `--long VALUE`, `-s`,
 * `-s VALUE`, `-sVALUE` and grouped switches (`-fn 5`); a word after a literal `--` is the command's `rest`.
 * @module
 */
import type { FlagDeclaration, FormDeclaration } from "../declarations/declaration.ts";
import { UsageError } from "../errors.ts";

/** What {@linkcode parseForm} found. */
export interface Parsed {
  /**
   * Each flag given, by long name: its value (a string), `true` for a switch or a flag given without its
   * optional value, the values of a multiple flag, or its declared default.
   */
  values: Record<string, string | true | string[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--` (only for a form that declares `rest`). */
  rest: string[];
}

/**
 * Parses `args` (the words after the command name, and after the subcommand word for a subcommand) by a form
 * of a command's declaration.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const form = {
 *   positionals: [{ name: "NAME" }],
 *   flags: [{ long: "lines", short: "n", value: "N", default: "10", help: "" }, { long: "follow", short: "f", help: "" }],
 * };
 * assertEquals(parseForm(["io", "-f"], form), { values: { lines: "10", follow: true }, positionals: ["io"], rest: [] });
 * assertEquals(parseForm(["-n5", "io"], form).values.lines, "5");
 * ```
 */
export function parseForm(args: readonly string[], form: FormDeclaration): Parsed {
  const byLong = new Map(form.flags.map((f) => [f.long, f]));
  const byShort = new Map(form.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const values: Parsed["values"] = {};
  // How each flag was spelled, for messages ("-o" needs "--data").
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  const dash = args.indexOf("--");
  const head = dash < 0 ? args : args.slice(0, dash);
  const rest = dash < 0 ? [] : args.slice(dash + 1);
  if (rest.length > 0 && !form.rest) {
    throw new UsageError(
      `Unexpected argument "${rest[0]}" after "--": this command takes no command or stap arguments`,
    );
  }

  const set = (flag: FlagDeclaration, word: string, value: string | true): void => {
    if (flag.optionalPrefix !== undefined && spelled.has(flag.long)) {
      throw new UsageError(`"--${flag.long}" given twice`);
    }
    spelled.set(flag.long, word);
    if (flag.multiple) {
      const list = values[flag.long];
      values[flag.long] = [...(Array.isArray(list) ? list : []), value as string];
    } else values[flag.long] = value;
  };
  /** The value of a flag that takes one, from the next word; `i` is the flag's index. */
  const next = (flag: FlagDeclaration, i: number): string | undefined => {
    const word = head[i + 1];
    if (flag.optionalPrefix !== undefined) return word?.startsWith(flag.optionalPrefix) ? word : undefined;
    if (word === undefined || word === "") throw new UsageError(`Missing value for "--${flag.long}"`);
    // A word that looks like an option is the next option, and the value is missing; a negative number is
    // the value (the command's own check then says what is wrong with it).
    if (word.startsWith("-") && word !== "-" && !/^-\d/.test(word)) {
      throw new UsageError(
        `Missing value for "--${flag.long}" ("${word}" is an option; write "--${flag.long}=${word}" if it is ` +
          "the value)",
      );
    }
    return word;
  };

  for (let i = 0; i < head.length; i++) {
    const arg = head[i];
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const word = eq < 0 ? arg : arg.slice(0, eq);
      const flag = byLong.get(word.slice(2));
      if (!flag) throw new UsageError(`Unknown option "${word}"`);
      if (eq >= 0) {
        const value = arg.slice(eq + 1);
        if (flag.value === undefined) throw new UsageError(`Option "--${flag.long}" takes no value`);
        if (value === "") throw new UsageError(`Missing value for "--${flag.long}"`);
        set(flag, word, value);
      } else if (flag.value === undefined) set(flag, word, true);
      else {
        const value = next(flag, i);
        if (value !== undefined) i++;
        set(flag, word, value ?? true);
      }
    } else if (arg.startsWith("-") && arg !== "-") {
      // One short flag, or several switches grouped, the last of which may take a value (`-fn 5`, `-n5`).
      for (let j = 1; j < arg.length; j++) {
        const flag = byShort.get(arg[j]);
        if (!flag) {
          const previous = j > 1 ? byShort.get(arg[j - 1]) : undefined;
          // `-f5`: a value given to a switch.
          if (previous && !/[A-Za-z]/.test(arg[j])) {
            throw new UsageError(`Option "--${previous.long}" takes no value`);
          }
          throw new UsageError(`Unknown option "-${arg[j]}"`);
        }
        if (flag.value === undefined) {
          set(flag, `-${arg[j]}`, true);
          continue;
        }
        const inline = arg.slice(j + 1);
        if (inline !== "") set(flag, `-${arg[j]}`, inline);
        else {
          const value = next(flag, i);
          if (value !== undefined) i++;
          set(flag, `-${arg[j]}`, value ?? true);
        }
        break;
      }
    } else positionals.push(arg);
  }

  const last = form.positionals.at(-1);
  const max = last?.variadic ? Infinity : form.positionals.length;
  if (positionals.length > max) throw new UsageError(`Unexpected argument "${positionals[max]}"`);
  for (const flag of form.flags) {
    if (flag.needs !== undefined && spelled.has(flag.long) && !spelled.has(flag.needs)) {
      throw new UsageError(`"${spelled.get(flag.long)}" needs "--${flag.needs}"`);
    }
    if (flag.required && !spelled.has(flag.long)) {
      throw new UsageError(`Missing "--${flag.long}${flag.value ? ` ${flag.value}` : ""}"`);
    }
    if (flag.default !== undefined && !spelled.has(flag.long)) values[flag.long] = flag.default;
  }
  return { values, positionals, rest };
}
