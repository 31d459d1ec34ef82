/**
 * Stands in for `@std/cli` (JSR is unreachable from our build machines): `parseArgs`, with the standard library's
 * minimist-style behaviour, written here by hand. `deno.json` maps `@std/cli` to this file; pointing it at
 * `jsr:@std/cli` instead changes nothing for the code that imports it.
 *
 * What it does, as std's does: flags before the first `--` are parsed, everything after it goes to `_` (or to
 * `["--"]` with the `"--"` option). `--key=value`, `--key value` (unless `value` starts with `-` or the key is a
 * boolean), `--no-key` (for `negatable` keys), short groups `-abc`, `-n5`, `-k=value`, `-k value`. Values that look
 * like numbers become numbers unless the key is a `string`. Booleans default to `false`. Unknown flags and every
 * positional are passed to `unknown`, which drops them by returning `false`. Dotted keys (`a.b`) nest.
 * @module
 */

/** The value {@linkcode parseArgs} returns: the flags by name, `_` the positionals, `"--"` what came after `--`. */
export type Args = {
  // deno-lint-ignore no-explicit-any
  [key: string]: any;
  /** The arguments that are neither flags nor flag values. */
  _: Array<string | number>;
  /** With the `"--"` option: everything after the first `--`. */
  "--"?: string[];
};

/** Options of {@linkcode parseArgs}, as `@std/cli` names them. */
export interface ParseOptions {
  /** Put everything after `--` into `["--"]` instead of `_`. */
  "--"?: boolean;
  /** Other names of a key (`{ output: "o" }`); a value set under one name is set under all of them. */
  alias?: Record<string, string | readonly string[]>;
  /** Keys that are booleans (never take the next argument); `true` makes every `--key` without `=` a boolean. */
  boolean?: boolean | string | readonly string[];
  /** Values of keys that were not given. */
  default?: Record<string, unknown>;
  /** Stop parsing at the first positional: it and everything after it go to `_`. */
  stopEarly?: boolean;
  /** Keys whose values stay strings (`"_"`: positionals too); given without a value they are `""`. */
  string?: string | readonly string[];
  /** Keys whose values are collected into an array. */
  collect?: string | readonly string[];
  /** Keys that `--no-KEY` sets to false. */
  negatable?: string | readonly string[];
  /** Called with each unknown flag (`arg`, `key`, `value`) and each positional (`arg` alone); `false` drops it. */
  unknown?: (arg: string, key?: string, value?: unknown) => unknown;
}

type Nested = Record<string, unknown>;

const listOf = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === "string" ? [value] : value;

/** Whether text reads as a finite number (and is not blank), as std decides it. */
function numeric(text: string): boolean {
  return /\S/.test(text) && Number.isFinite(Number(text));
}

function setNested(target: Nested, keys: string[], value: unknown, collect: boolean): void {
  let object = target;
  for (const key of keys.slice(0, -1)) object = (object[key] ??= {}) as Nested;
  const last = keys[keys.length - 1];
  if (collect) {
    const previous = object[last];
    if (Array.isArray(previous)) {
      previous.push(value);
      return;
    }
    value = previous ? [previous, value] : [value];
  }
  object[last] = value;
}

function hasNested(target: Nested, keys: string[]): boolean {
  let object: unknown = target;
  for (const key of keys) {
    if (object === null || object === undefined || !Object.hasOwn(object as object, key)) return false;
    object = (object as Nested)[key];
  }
  return true;
}

/**
 * Parses command-line arguments the way `@std/cli`'s `parseArgs` does.
 *
 * @example
 * ```ts
 * import { parseArgs } from "@std/cli";
 * import { assertEquals } from "@std/assert";
 * assertEquals(parseArgs(["--foo", "--bar=baz", "./quux.txt"]), { foo: true, bar: "baz", _: ["./quux.txt"] });
 * assertEquals(
 *   parseArgs(["-o", "out", "--bulk", "7", "--", "-v"], { string: ["output"], boolean: ["bulk"], alias: { output: "o" }, "--": true }),
 *   { o: "out", output: "out", bulk: true, _: [7], "--": ["-v"] },
 * );
 * ```
 */
export function parseArgs(args: string[], options: ParseOptions = {}): Args {
  const {
    "--": splitDoubleDash = false,
    alias = {},
    boolean: booleans = false,
    default: defaults = {},
    stopEarly = false,
    unknown = (arg: string): unknown => arg,
  } = options;

  const aliases = new Map<string, Set<string>>();
  for (const [key, value] of Object.entries(alias)) {
    if (value === undefined) throw new TypeError("Alias value must be defined");
    const names = listOf(value);
    aliases.set(key, new Set(names));
    for (const name of names) aliases.set(name, new Set([key, ...names.filter((other) => other !== name)]));
  }
  const withAliases = (keys: readonly string[]): Set<string> => {
    const set = new Set<string>();
    for (const key of keys.filter(Boolean)) {
      set.add(key);
      for (const other of aliases.get(key) ?? []) set.add(other);
    }
    return set;
  };
  const allBooleans = booleans === true;
  const booleanSet = withAliases(typeof booleans === "boolean" ? [] : listOf(booleans));
  const stringSet = withAliases(listOf(options.string));
  const collectSet = withAliases(listOf(options.collect));
  const negatableSet = withAliases(listOf(options.negatable));
  // A key whose other names include a boolean is a boolean too.
  const isBoolean = (key: string): boolean =>
    booleanSet.has(key) || [...(aliases.get(key) ?? [])].some((other) => booleanSet.has(other));

  const argv: Args = { _: [] };

  const set = (key: string, value: string | number | boolean, arg: string, collect: boolean): void => {
    const known = booleanSet.has(key) || stringSet.has(key) || aliases.has(key) ||
      (allBooleans && /^--[^=]+$/.test(arg));
    if (!known && unknown(arg, key, value) === false) return;
    if (typeof value === "string" && !stringSet.has(key) && numeric(value)) value = Number(value);
    const collectable = collect && collectSet.has(key);
    setNested(argv, key.split("."), value, collectable);
    for (const other of aliases.get(key) ?? []) setNested(argv, other.split("."), value, collectable);
  };

  const dash = args.indexOf("--");
  const afterDash = dash < 0 ? [] : args.slice(dash + 1);
  const flags = dash < 0 ? args : args.slice(0, dash);

  tokens: for (let i = 0; i < flags.length; i++) {
    const arg = flags[i];
    const next = flags[i + 1];

    if (arg.length > 2 && arg.startsWith("--")) {
      let body = arg.slice(2);
      // "--no-" negates only when a key follows it.
      const negated = body.length > 3 && body.startsWith("no-");
      if (negated) body = body.slice(3);
      // The first "=" after at least one character of key, with at least one character after it.
      const eq = body.indexOf("=", 1);
      if (eq > 0 && eq < body.length - 1) {
        const key = body.slice(0, eq);
        const text = body.slice(eq + 1);
        set(key, booleanSet.has(key) ? text !== "false" : text, arg, true);
        continue;
      }
      let key = body;
      if (negated) {
        if (negatableSet.has(key)) {
          set(key, false, arg, false);
          continue;
        }
        key = `no-${key}`;
      }
      if (next) {
        if (!booleanSet.has(key) && !allBooleans && !next.startsWith("-") && !isBoolean(key)) {
          set(key, next, arg, true);
          i++;
          continue;
        }
        if (next === "true" || next === "false") {
          set(key, next === "true", arg, true);
          i++;
          continue;
        }
      }
      set(key, stringSet.has(key) ? "" : true, arg, true);
      continue;
    }

    if (arg.length > 1 && arg.startsWith("-")) {
      // A group of short flags: every letter but the last, then the last, which may take the next argument.
      const letters = arg.slice(1, -1);
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j];
        const rest = arg.slice(j + 2);
        if (rest === "-") {
          set(letter, rest, arg, true);
          continue;
        }
        if (/[A-Za-z]/.test(letter)) {
          const inline = /=(.+)/.exec(rest);
          if (inline) {
            set(letter, inline[1], arg, true);
            continue tokens;
          }
          if (/-?\d+(\.\d*)?(e-?\d+)?$/.test(rest)) {
            set(letter, rest, arg, true);
            continue tokens;
          }
        }
        if (/\W/.test(letters[j + 1] ?? "")) {
          set(letter, rest, arg, true);
          continue tokens;
        }
        set(letter, stringSet.has(letter) ? "" : true, arg, true);
      }
      const key = arg.slice(-1);
      if (key === "-") continue;
      if (next) {
        if (!/^(-|--)[^-]/.test(next) && !booleanSet.has(key) && !isBoolean(key)) {
          set(key, next, arg, true);
          i++;
          continue;
        }
        if (next === "true" || next === "false") {
          set(key, next === "true", arg, true);
          i++;
          continue;
        }
      }
      set(key, stringSet.has(key) ? "" : true, arg, true);
      continue;
    }

    if (unknown(arg) !== false) argv._.push(stringSet.has("_") || !numeric(arg) ? arg : Number(arg));
    if (stopEarly) {
      argv._.push(...flags.slice(i + 1));
      break;
    }
  }

  for (const [key, value] of Object.entries(defaults)) {
    if (hasNested(argv, key.split("."))) continue;
    setNested(argv, key.split("."), value, false);
    for (const other of aliases.get(key) ?? []) setNested(argv, other.split("."), value, false);
  }
  for (const key of booleanSet) {
    if (!hasNested(argv, key.split("."))) {
      setNested(argv, key.split("."), collectSet.has(key) ? [] : false, false);
    }
  }
  for (const key of stringSet) {
    if (!hasNested(argv, key.split(".")) && collectSet.has(key)) setNested(argv, key.split("."), [], false);
  }
  if (splitDoubleDash) argv["--"] = afterDash;
  else argv._.push(...afterDash);
  return argv;
}
