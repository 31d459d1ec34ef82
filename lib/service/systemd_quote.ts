/**
 * Writing values into a systemd unit file so that systemd reads back exactly what was meant: the command-line
 * syntax of `Exec*=` (systemd.service(5) "Command lines": whitespace splits words, double quotes group them,
 * C-style backslash escapes, `%` starts a specifier and `$` an environment substitution) and the plain settings
 * (`Description=`, `Environment=`, paths), where specifiers apply but `$` does not.
 * @module
 */

// Words that systemd reads back as they are: no whitespace, quote, backslash, `%`, `$` or `;`.
const BARE = /^[A-Za-z0-9_@+=:,./-]+$/;

const C_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\v": "\\v",
};

function escapeChars(text: string, dollar: boolean): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (C_ESCAPES[ch]) out += C_ESCAPES[ch];
    else if (ch === "%") out += "%%";
    else if (ch === "$" && dollar) out += "$$";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out;
}

/**
 * One argument of an `Exec*=` line: bare when systemd reads it back unchanged, else double-quoted with `\`,
 * `"` and control characters C-escaped, `%` written `%%` and `$` written `$$`. A lone `;` is quoted (bare, it
 * would separate two commands).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(execArg("--buffer"), "--buffer");
 * assertEquals(execArg('printf("%d $x\\n")'), '"printf(\\"%%d $$x\\\\n\\")"');
 * assertEquals(execArg(""), '""');
 * ```
 */
export function execArg(word: string): string {
  return BARE.test(word) ? word : `"${escapeChars(word, true)}"`;
}

/** A whole `Exec*=` command line: the executable and its arguments, each written by {@linkcode execArg}. */
export function execLine(argv: readonly string[]): string {
  if (argv.length === 0 || !argv[0].startsWith("/")) {
    throw new RangeError("A unit's command line starts with an absolute executable path");
  }
  return argv.map(execArg).join(" ");
}

/**
 * A value for a setting that takes space-separated words without `$` substitution (`Environment=`,
 * `RequiresMountsFor=`): bare when safe, else double-quoted with C escapes and `%` written `%%`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(settingWord("STAPFR_SIM_ROOT=/tmp/a b"), '"STAPFR_SIM_ROOT=/tmp/a b"');
 * ```
 */
export function settingWord(word: string): string {
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `"${escapeChars(word, false)}"`;
}

/**
 * Free text for a setting read as one line (`Description=`): specifiers escaped (`%%`) and every control
 * character (a newline would end the setting) shown as `?`.
 */
export function settingText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, "?").replaceAll("%", "%%").trim();
}
