/**
 * What the command line says about itself, made from the declarations (lib/declarations/declarations.ts): the usage
 * line of a command (after a usage error, and in its help), `stapfr COMMAND --help` and `stapfr --help`.
 * Loaded only to print help or a usage error.
 * @module
 */
import type {
  CommandDeclaration,
  FlagDeclaration,
  FormDeclaration,
  PositionalDeclaration,
} from "../declarations/declaration.ts";
import { COMMANDS, GLOBAL_FLAGS } from "../declarations/declarations.ts";

/** The usage of the options before the command name. */
export const GLOBAL_USAGE = "stapfr [--sim] [--state-dir DIR] [--json] COMMAND …";

/** A flag as the usage writes it: its short form when it has one, and its value. */
function spelled(flag: FlagDeclaration): string {
  const name = flag.short ? `-${flag.short}` : `--${flag.long}`;
  if (flag.value === undefined) return name;
  const value = flag.choices?.some((c) => c.args) ? `${flag.value} ARGS…` : flag.value;
  return flag.optionalPrefix !== undefined ? `${name} [${value}]` : `${name} ${value}`;
}

function positional(p: PositionalDeclaration): string {
  const text = p.choices ? p.choices.join("|") : p.variadic ? `${p.name}…` : p.name;
  return p.optional ? `[${text}]` : text;
}

/** A flag in the usage, with the flags that need it nested inside its brackets. */
function flagUsage(flag: FlagDeclaration, form: FormDeclaration): string {
  const children = form.flags.filter((f) => f.needs === flag.long).map((f) => ` ${flagUsage(f, form)}`);
  const text = `${spelled(flag)}${children.join("")}`;
  return flag.required ? text : `[${text}]${flag.multiple ? "…" : ""}`;
}

/**
 * One form of a command as the usage writes it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { COMMANDS } from "../declarations/declarations.ts";
 * assertEquals(formUsage(COMMANDS.tail, COMMANDS.tail.forms[0]), "tail NAME [-n N] [-f] [--raw]");
 * ```
 */
export function formUsage(command: CommandDeclaration, form: FormDeclaration): string {
  const words = [command.name, ...(form.keyword ? [form.keyword] : [])];
  const group = new Set(form.oneOf ?? []);
  const groupText = form.oneOf
    ? `(${
      form.oneOf.map((m) => {
        const flag = form.flags.find((f) => f.long === m);
        return flag ? spelled(flag) : m;
      }).join(" | ")
    })`
    : "";
  let grouped = false;
  for (const p of form.positionals) {
    if (!group.has(p.name)) words.push(positional(p));
    else if (!grouped) {
      words.push(groupText);
      grouped = true;
    }
  }
  if (form.oneOf && !grouped) words.push(groupText);
  const own = new Set(form.flags.map((f) => f.long));
  for (const flag of form.flags) {
    if (group.has(flag.long) || (flag.needs !== undefined && own.has(flag.needs))) continue;
    words.push(flagUsage(flag, form));
  }
  for (const from of command.flagsFrom ?? []) words.push(`[${from.toUpperCase()}_FLAGS…]`);
  if (form.rest) words.push(`[-- ${form.rest.name}]`);
  return words.join(" ");
}

/**
 * A command's usage, on one line: its forms joined by `|`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { COMMANDS } from "../declarations/declarations.ts";
 * assertEquals(usageOf(COMMANDS.gc), "gc [--unload-orphans [--yes]]");
 * ```
 */
export function usageOf(command: CommandDeclaration): string {
  return command.forms.map((f) => formUsage(command, f)).join(" | ");
}

/** A duration in its largest whole unit (`24d`, `500ms`). */
function span(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A size in its largest whole binary unit (`4095M`). */
function size(bytes: number): string {
  for (const [unit, n] of [["G", 1 << 30], ["M", 1 << 20], ["K", 1 << 10]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return `${bytes}`;
}

/**
 * A value of a flag in its unit, as people write it: a duration (`24d`), a size (`4095M`) or a number.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(inUnit({ long: "hold", value: "D", kind: "duration", help: "" }, 86_400_000), "1d");
 * ```
 */
export function inUnit(flag: FlagDeclaration, value: number): string {
  if (flag.kind === "duration" && value > 0) return span(value);
  if (flag.kind === "size" && value > 0) return size(value);
  return String(value);
}

/** What help says after a flag's own words: its default and its range. */
function facts(flag: FlagDeclaration): string {
  const out: string[] = [];
  const given = flag.default ?? flag.defaultText;
  if (given !== undefined) out.push(`default ${given}`);
  if (flag.min !== undefined && flag.max !== undefined) {
    out.push(`${inUnit(flag, flag.min)} to ${inUnit(flag, flag.max)}`);
  }
  return out.length > 0 ? ` (${out.join("; ")})` : "";
}

/** The rows of a form's options: left column and help. */
function rows(form: FormDeclaration): [string, string][] {
  const out: [string, string][] = [];
  for (const flag of form.flags) {
    if (flag.choices && flag.choices.some((c) => c.help)) {
      for (const c of flag.choices) {
        const own = (c.flags ?? []).map((f) => `; --${f.long} ${f.value}: ${f.help}${facts(f)}`);
        out.push([`--${flag.long} ${c.word}${c.args ? ` ${c.args}` : ""}`, `${c.help}${own.join("")}`]);
      }
      continue;
    }
    const name = `${flag.short ? `-${flag.short}, ` : ""}--${flag.long}`;
    const value = flag.value === undefined
      ? ""
      : flag.optionalPrefix !== undefined
      ? ` [${flag.value}]`
      : ` ${flag.value}`;
    out.push([`${name}${value}`, `${flag.help}${facts(flag)}`]);
  }
  if (form.rest) out.push([`-- ${form.rest.name}`, form.rest.help]);
  return out;
}

/** The width help is written to (as the source: deno.json's fmt lineWidth). */
const WIDTH = 110;

/** Words filled into lines of at most {@linkcode WIDTH} characters, each after `indent`. */
function fill(text: string, indent: string, first = indent): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/ +/)) {
    if (line.length > indent.length && line !== first && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent + word;
    } else line += (line === first ? "" : " ") + word;
  }
  lines.push(line);
  return lines.join("\n");
}

/** Rows as two columns; a left column too wide for the first puts its help on the next line. */
function columns(list: readonly [string, string][]): string {
  const width = Math.min(32, Math.max(0, ...list.map(([l]) => l.length)));
  const indent = " ".repeat(width + 4);
  return list.map(([left, right]) =>
    left.length <= width
      ? fill(right, indent, `  ${left.padEnd(width)}  `)
      : `  ${left}\n${fill(right, indent)}`
  ).join("\n");
}

/**
 * `stapfr COMMAND --help`: the summary, the usage, the options (each form's, for a command with subcommands)
 * and the notes.
 */
export function commandHelp(command: CommandDeclaration): string {
  const parts = [command.summary, `Usage: stapfr ${usageOf(command)}`];
  if (command.passThrough) {
    parts.push(`Its arguments go to the stand-in as they are ("stapfr sim stap --help" is stap's own help).`);
  } else if (command.forms.length === 1) {
    const list = rows(command.forms[0]);
    if (list.length > 0) parts.push(`Options:\n${columns(list)}`);
  } else {
    for (const form of command.forms) {
      const list = rows(form);
      parts.push(
        `${formUsage(command, form)}\n  ${form.summary ?? command.summary}${
          list.length ? `\n${columns(list)}` : ""
        }`,
      );
    }
  }
  for (const from of command.flagsFrom ?? []) {
    parts.push(`The flags of "stapfr ${from}" (see "stapfr ${from} --help") go to its ${from} line.`);
  }
  parts.push(...(command.notes ?? []).map((note) => note.split("\n").map((l) => fill(l, "")).join("\n")));
  return parts.join("\n\n") + "\n";
}

/** `stapfr --help`: every command with its summary, the global options, exit codes and environment. */
export function topHelp(version: string): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const commands = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`);
  const global = GLOBAL_FLAGS.map((f): [string, string] => [
    `${f.short ? `-${f.short}, ` : ""}--${f.long}${f.value ? ` ${f.value}` : ""}`,
    `${f.help}${facts(f)}`,
  ]);
  return `stapfr ${version}: a flight-recorder manager for SystemTap

Usage: ${GLOBAL_USAGE}

Commands:
${commands.join("\n")}

Options:
${columns(global)}

Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted. With --json, an error is also a JSON object on
stdout: {"error": {"code", "message", "hint", "exit_code"}}.

Environment: STAPFR_* knobs (README, "Environment"), checked at startup; a bad one is a usage error.
`;
}
