/**
 * GNU `getopt_long` as the SystemTap tools use it: short options from an optstring (`x` flag, `x:` value,
 * `x::` optional attached value), grouped flags (`-vvA`), attached values (`-ofile`), long options
 * (`--name`, `--name=value`, `--name value`), `--` ending the options, and permutation: options after
 * positionals are still options (`staprun -A m -L` sees `-L`).
 *
 * It stops at the first error, as the tools do (they print the usage and exit at once), and returns the
 * options in the order given, because the tools validate values in that order.
 * @module
 */

/** One option occurrence: its letter (or long name) and its value if it takes one. */
export interface Opt {
  name: string;
  value?: string;
}

/** A parse: the options in order, the positionals, and the first error if any. */
export interface GetoptResult {
  opts: Opt[];
  positionals: string[];
  /** GNU's message without the program name, e.g. `invalid option -- 'Q'`. */
  error?: string;
}

/** Long options: the name and whether it takes a value ("required", "optional" or "none"). */
export type LongOptions = Record<string, "none" | "required" | "optional">;

function parseOptstring(optstring: string): Map<string, "none" | "required" | "optional"> {
  const spec = new Map<string, "none" | "required" | "optional">();
  for (let i = 0; i < optstring.length; i++) {
    const c = optstring[i];
    if (c === "+" || c === "-") continue;
    if (optstring[i + 1] === ":" && optstring[i + 2] === ":") {
      spec.set(c, "optional");
      i += 2;
    } else if (optstring[i + 1] === ":") {
      spec.set(c, "required");
      i += 1;
    } else spec.set(c, "none");
  }
  return spec;
}

/**
 * Parses `args` like GNU getopt_long.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const r = getopt(["-vvA", "mod", "-ofile"], "vAo:");
 * assertEquals(r.opts.map((o) => o.name + (o.value ?? "")), ["v", "v", "A", "ofile"]);
 * assertEquals(r.positionals, ["mod"]);
 * assertEquals(getopt(["-Q"], "v").error, "invalid option -- 'Q'");
 * ```
 */
export function getopt(args: string[], optstring: string, longOptions: LongOptions = {}): GetoptResult {
  const spec = parseOptstring(optstring);
  const opts: Opt[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const given = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const matches = Object.keys(longOptions).filter((n) => n === given || n.startsWith(given));
      const name = matches.includes(given) ? given : matches.length === 1 ? matches[0] : undefined;
      if (name === undefined) {
        const error = matches.length > 1 ? `option '${arg}' is ambiguous` : `unrecognized option '${arg}'`;
        return { opts, positionals, error };
      }
      const kind = longOptions[name];
      if (kind === "none") {
        if (eq >= 0) return { opts, positionals, error: `option '--${name}' doesn't allow an argument` };
        opts.push({ name });
      } else if (eq >= 0) opts.push({ name, value: arg.slice(eq + 1) });
      else if (kind === "required") {
        if (i + 1 >= args.length) {
          return { opts, positionals, error: `option '--${name}' requires an argument` };
        }
        opts.push({ name, value: args[++i] });
      } else opts.push({ name });
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j];
      const kind = spec.get(c);
      if (kind === undefined || c === ":") return { opts, positionals, error: `invalid option -- '${c}'` };
      if (kind === "none") {
        opts.push({ name: c });
        continue;
      }
      const attached = arg.slice(j + 1);
      if (attached !== "") opts.push({ name: c, value: attached });
      else if (kind === "optional") opts.push({ name: c });
      else if (i + 1 < args.length) opts.push({ name: c, value: args[++i] });
      else return { opts, positionals, error: `option requires an argument -- '${c}'` };
      break;
    }
  }
  return { opts, positionals };
}

/** C's `strtoul(text, NULL, 10)` as far as the tools use it: leading digits, 0 when there are none. */
export function strtoul(text: string): number {
  const m = /^\s*([+-]?)(\d+)/.exec(text);
  if (!m) return 0;
  const n = Number(m[2]);
  return m[1] === "-" ? (2 ** 64 - n) : n;
}
