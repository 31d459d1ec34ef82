/**
 * What README.md and docs/ say about the command line agrees with the declarations (lib/declarations/declarations.ts)
 * and the knobs (lib/knobs.ts):
 *
 * - the README's command reference is the one generated from the declarations (`deno task reference`);
 * - every flag of every `stapfr …` command line they show (in `sh` and `ini` blocks and in inline code) is
 *   declared for that command (or is a global option);
 * - every default they state for a flag or a knob (`--interval` (default 1s), `STAPFR_IDLE_MS`, default
 *   2500 ms) is the declared one;
 * - every `STAPFR_` variable they name is a knob (or one of the variables of the tests and benchmarks).
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { COMMANDS, GLOBAL_FLAGS } from "../../lib/declarations/declarations.ts";
import type { FlagDeclaration } from "../../lib/declarations/declaration.ts";
import { withReference } from "../../lib/cli/reference.ts";
import { KNOBS } from "../../lib/knobs.ts";
import { parseDuration, parseSize } from "../../lib/units.ts";
import { shellWords } from "../support/shell_words.ts";

const ROOT = new URL("../..", import.meta.url);
/** The variables of the tests and benchmarks, which the README names as such. */
const NOT_KNOBS = new Set([
  "STAPFR_BIN",
  "STAPFR_BENCH_DUMP_MIB",
  "STAPFR_BENCH_SHIP_MIB",
  "STAPFR_KERNEL_LAB",
  "STAPFR_REAL_STAP",
]);

/** README.md and every docs/*.md, by name. */
async function documents(): Promise<Map<string, string>> {
  const names = ["README.md", ...[...Deno.readDirSync(new URL("docs/", ROOT))].map((e) => `docs/${e.name}`)]
    .filter((n) => n.endsWith(".md")).sort();
  return new Map(
    await Promise.all(names.map(async (n) => [n, await Deno.readTextFile(new URL(n, ROOT))] as const)),
  );
}

/** A command line found in a document: where, and its words after `stapfr`. */
interface Line {
  where: string;
  words: string[];
}

/** The `stapfr …` command lines of a document: shell blocks, unit files, inline code. */
function commandLines(file: string, text: string): Line[] {
  const out: Line[] = [];
  const lines = text.split("\n");
  let fence: string | null = null;
  /** Each command of a pipeline or a list (`a | stapfr …`, `source <(stapfr …)`) that runs stapfr. */
  const add = (where: string, all: string[]) => {
    const words = all.map((w) => w.replace(/^[<$]\(/, "").replace(/\)$/, ""));
    let start = 0;
    for (let i = 0; i <= words.length; i++) {
      if (i < words.length && !["|", "||", "&&", ";"].includes(words[i])) continue;
      const part = words.slice(start, i);
      const at = part.findIndex((w) => w === "stapfr" || w.endsWith("/stapfr"));
      if (at >= 0) out.push({ where, words: part.slice(at + 1) });
      start = i + 1;
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const where = `${file}:${i + 1}`;
    const open = /^```(\w*)/.exec(lines[i]);
    if (open) {
      fence = fence === null ? open[1] : null;
      continue;
    }
    if (fence === "sh") {
      let command = lines[i];
      while (command.endsWith("\\") && i + 1 < lines.length) command = command.slice(0, -1) + lines[++i];
      add(where, shellWords(command));
    } else if (fence === "ini") {
      const m = /^Exec\w*=(.*)$/.exec(lines[i]);
      if (m) add(where, shellWords(m[1]));
    } else if (fence === null) {
      for (const m of lines[i].matchAll(/`(stapfr [^`]*)`/g)) {
        for (const part of m[1].replaceAll("\\|", "|").split(/ \| |&&|<\(|\$\(/)) {
          add(where, shellWords(part));
        }
      }
    }
  }
  return out;
}

/** The flags of a command line that its command does not declare (empty when every one is declared). */
function undeclared(words: readonly string[]): string[] {
  const bad: string[] = [];
  const global = new Map(GLOBAL_FLAGS.flatMap((f) => spellings(f).map((s) => [s, f] as const)));
  // Usage notation around the words: [--data [-o FILE]], (A | B), ARGS….
  const clean = words.map((w) => w.replace(/^[[(]+|[\])…,]+$/g, "")).filter((w) => w !== "" && w !== "|");
  let i = 0;
  const skipGlobal = (): boolean => {
    const flag = global.get(clean[i]?.split("=")[0]);
    if (!flag) return false;
    i += flag.value && !clean[i].includes("=") ? 2 : 1;
    return true;
  };
  while (i < clean.length && skipGlobal());
  const command = COMMANDS[clean[i]];
  // No command, a placeholder for one (`stapfr COMMAND --help`), or `stapfr --version`.
  if (!command) return /^[A-Z_]+$|^-|^$/.test(clean[i] ?? "") ? [] : [`command "${clean[i]}"`];
  if (command.passThrough) return [];
  i++;
  const keyword = clean[i];
  const forms = command.forms.some((f) => f.keyword === keyword)
    ? command.forms.filter((f) => f.keyword === keyword)
    : command.forms.filter((f) => !f.keyword);
  const flags = [
    ...forms.flatMap((f) => f.flags),
    ...(command.flagsFrom ?? []).flatMap((c) => COMMANDS[c].forms[0].flags),
  ];
  const find = (word: string) => flags.find((f) => spellings(f).includes(word));
  for (; i < clean.length; i++) {
    const word = clean[i];
    if (word === "--") break;
    if (!word.startsWith("-") || word === "-" || skipGlobal() && i-- >= 0) continue;
    const flag = find(word.split("=")[0]);
    if (!flag) {
      bad.push(word.split("=")[0]);
      continue;
    }
    if (word.includes("=") || flag.value === undefined) continue;
    const next = clean[i + 1];
    if (flag.optionalPrefix !== undefined && !next?.startsWith(flag.optionalPrefix) && next !== "URL") {
      continue;
    }
    i++;
    if (!flag.choices) continue;
    // A trigger: its words up to the next flag, and its own flags (`--on exit-status --interval D`).
    const own = flag.choices.find((c) => c.word === clean[i])?.flags ?? [];
    while (i + 1 < clean.length && !clean[i + 1].startsWith("--")) i++;
    while (own.some((f) => clean[i + 1] === `--${f.long}`)) {
      i += 2;
      while (i + 1 < clean.length && !clean[i + 1].startsWith("--")) i++;
    }
  }
  return bad;
}

function spellings(f: FlagDeclaration): string[] {
  return [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])];
}

/** Every declared default of a flag (or a trigger's flag) of this long name, as written. */
function declaredDefaults(long: string): string[] {
  const all = Object.values(COMMANDS).flatMap((c) => c.forms.flatMap((f) => f.flags));
  const flags = [...all, ...all.flatMap((f) => f.choices?.flatMap((c) => c.flags ?? []) ?? [])]
    .filter((f) => f.long === long);
  return flags.flatMap((f) => {
    const text = f.default ?? f.defaultText;
    return text === undefined ? [] : [text.split(/[,;]/)[0].trim()];
  });
}

/** Whether two defaults say the same value: as durations, as sizes, or as text. */
function same(a: string, b: string): boolean {
  const compact = (s: string) => s.replace(/\s+/g, "").replace(/MiB$/, "M");
  for (const parse of [parseDuration, parseSize]) {
    try {
      return parse(compact(a), "") === parse(compact(b), "");
    } catch {
      // not this kind
    }
  }
  return compact(a) === compact(b);
}

/** The defaults a document states, each with the flag or knob mentioned last before it in its sentence. */
function statedDefaults(text: string): { subject: string; value: string; sentence: string }[] {
  const out: { subject: string; value: string; sentence: string }[] = [];
  const prose = text.replace(/^```[\s\S]*?^```/gm, "").replace(/\n/g, " ");
  for (const sentence of prose.split(/(?<=[.:])\s+(?=[A-Z`*(])|\|/)) {
    for (const m of sentence.matchAll(/\bdefault:? `?(\d[\d.]*(?: ?(?:ms|s|m|h|d|MiB|[KMG]))?)\b/g)) {
      const before = sentence.slice(0, m.index);
      const mentions = [...before.matchAll(/(--[a-z][a-z0-9-]*|STAPFR_[A-Z0-9_]+)/g)];
      const subject = mentions.at(-1)?.[1];
      if (subject) out.push({ subject, value: m[1], sentence: sentence.trim() });
    }
  }
  return out;
}

Deno.test("the README's command reference is the one the declarations make", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  assert(
    withReference(readme) === readme,
    'README.md\'s command reference is stale: run "deno task reference"',
  );
});

Deno.test("every flag of a stapfr command line in README.md and docs/ is declared for its command", async () => {
  const found: string[] = [];
  let checked = 0;
  for (const [file, text] of await documents()) {
    for (const line of commandLines(file, text)) {
      checked++;
      const bad = undeclared(line.words);
      if (bad.length > 0) found.push(`${line.where}: stapfr ${line.words.join(" ")}: ${bad.join(", ")}`);
    }
  }
  assert(checked > 100, `only ${checked} command lines found`);
  assertEquals(found, []);
});

Deno.test("every default README.md and docs/ state for a flag or a knob is the declared one", async () => {
  const found: string[] = [];
  let checked = 0;
  for (const [file, text] of await documents()) {
    for (const { subject, value, sentence } of statedDefaults(text)) {
      checked++;
      const knob = Object.values(KNOBS).find((k) => k.name === subject);
      const declared = knob ? [knob.defaultText] : declaredDefaults(subject.slice(2));
      // A knob in milliseconds says its default as a number (`STAPFR_IDLE_MS`: 2500 ms).
      const stated = knob && subject.endsWith("_MS") ? value.replace(/\s*ms$/, "") : value;
      if (!declared.some((d) => same(d, stated))) {
        found.push(
          `${file}: "${subject}" default ${value}, declared ${declared.join(" or ") || "none"}: ${sentence}`,
        );
      }
    }
  }
  assert(checked >= 8, `only ${checked} defaults found`);
  assertEquals(found, []);
});

Deno.test("every STAPFR_ variable README.md and docs/ name is a knob of lib/knobs.ts, or a test's", async () => {
  const knobs = new Set(Object.values(KNOBS).map((k) => k.name));
  const found: string[] = [];
  for (const [file, text] of await documents()) {
    for (const m of text.matchAll(/STAPFR_[A-Z0-9_]*[A-Z0-9]/g)) {
      if (!knobs.has(m[0]) && !NOT_KNOBS.has(m[0]) && !found.includes(`${file}: ${m[0]}`)) {
        found.push(`${file}: ${m[0]}`);
      }
    }
  }
  assertEquals(found, []);
});
