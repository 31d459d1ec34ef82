/**
 * Text bound for a terminal, made inert: control characters and the bytes that start terminal escape
 * sequences (ESC, CSI, OSC: retitling, clearing the screen, colours, moving the cursor) are printed as visible
 * escapes instead of being sent as they are. Arguments, trigger reasons, log lines and file names reach the
 * operator's terminal, and any of them may come from someone else (a line written to a followed log, a reason
 * given by another user of the state directory, a file name in a shared store). Data commands (`dump`,
 * `attach`, `tail`, `snapshots show --data`) pass their bytes on untouched: that output is the data itself.
 * @module
 */

// C0 controls, DEL, C1 controls (U+0080–U+009F: 8-bit CSI and OSC), and the Unicode controls that reorder or
// hide text (bidirectional overrides and isolates, the line and paragraph separators).
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e" };

function escape(ch: string): string {
  const code = ch.codePointAt(0)!;
  return NAMED[ch] ??
    (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
}

/**
 * One line of text, safe to print on a terminal: every control character is shown as an escape (`\e`, `\n`,
 * `\x07`, `\u{202e}`), newlines included, so one value stays one line.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(terminalText("\x1b]0;owned\x07 ERROR"), "\\e]0;owned\\x07 ERROR");
 * assertEquals(terminalText("two\nlines"), "two\\nlines");
 * ```
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/**
 * Several lines of text, safe to print on a terminal: as {@linkcode terminalText}, but newlines stay newlines
 * (for text that is meant to have several lines, like a usage).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(terminalLines("a\x1b[2J\nb"), "a\\e[2J\nb");
 * ```
 */
export function terminalLines(text: string): string {
  return text.split("\n").map(terminalText).join("\n");
}
