/**
 * The bundle's eager functions (docs/architecture.md "Start-up"). V8 compiles a function the first time it
 * runs, and Deno's code cache keeps only what V8 compiled when it first loaded the script: the top level, and
 * the functions it compiles eagerly, which are those written in parentheses (V8 takes `(function …)` and
 * `(() => …)` for a function about to be called). Every other function that a quick command runs is compiled
 * again at every start of stapfr.
 *
 * This step runs the bundle's quick commands once with coverage (`deno run --coverage`), which names every
 * function they ran by its offsets in the bundle, and writes those functions in parentheses: an arrow function
 * or a function expression as it is, and a function declaration at the top level as `var NAME=(function
 * NAME…);`, moved to the top of the bundle, where its hoisting put it before. Methods stay as they are.
 * Then it runs the same commands on the result and fails unless each prints the same and exits the same.
 * @module
 */
import { denoRunFlags, PERMISSIONS } from "../lib/self.ts";
import { writeSampleRecorders } from "./sample_recorders.ts";

/** A function's place in a script: UTF-16 offsets, as V8 counts them, `end` exclusive. */
export interface FunctionRange {
  start: number;
  end: number;
}

/** What {@linkcode eagerSource} did. */
export interface EagerResult {
  text: string;
  /** Functions now in parentheses. */
  eager: number;
  /** Functions left as they were: methods, class bodies, declarations inside other functions. */
  left: number;
}

/**
 * `text` with the functions at `ranges` in parentheses, where that leaves the program's meaning alone.
 * `ranges` may hold every function the script has (the coverage of a run does): those that contain another
 * tell which declarations are inside a function.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const text = "function f(a){return a}var g=n=>f(n);";
 * const { text: eager } = eagerSource(text, [{ start: 0, end: 23 }, { start: 29, end: 36 }]);
 * assertEquals(eager, "var f=(function f(a){return a});\nvar g=(n=>f(n));");
 * ```
 */
export function eagerSource(text: string, ranges: readonly FunctionRange[], all = ranges): EagerResult {
  const edits: { at: number; insert: string; order: number; declaration?: "open" | "close" }[] = [];
  let eager = 0;
  let left = 0;
  const seen = new Set<number>();
  for (const { start, end } of ranges) {
    if (seen.has(start)) continue;
    seen.add(start);
    const head = text.slice(start, start + 200);
    const fn = /^(?:async\s+)?function\s*\*?\s*([\w$]*)/.exec(head);
    // At one offset, inner functions close before outer ones.
    const open = { at: start, order: start };
    const close = { at: end, order: -start };
    const where = fn ? place(text, start) : "expression";
    if (fn && where === "declaration") {
      if (!fn[1] || all.some((r) => r.start < start && end <= r.end && r.end - r.start < text.length)) {
        left++;
        continue;
      }
      edits.push({ ...open, insert: `var ${fn[1]}=(`, declaration: "open" });
      edits.push({ ...close, insert: ");\n", declaration: "close" });
    } else if (fn ? where === "expression" : arrow(text, start)) {
      edits.push({ ...open, insert: "(" }, { ...close, insert: ")" });
    } else {
      left++;
      continue;
    }
    eager++;
  }
  edits.sort((a, b) => a.at - b.at || a.order - b.order);
  let out = "";
  let at = 0;
  // Where each declaration, now a var, ended up: it moves to the top, where its hoisting had put it (code
  // before it may call it: esbuild keeps a module's own order).
  const moved: [number, number][] = [];
  for (const edit of edits) {
    out += text.slice(at, edit.at);
    if (edit.declaration === "open") moved.push([out.length, -1]);
    out += edit.insert;
    if (edit.declaration === "close") moved[moved.length - 1][1] = out.length;
    at = edit.at;
  }
  out += text.slice(at);
  let hoisted = "";
  let rest = "";
  let from = 0;
  for (const [a, b] of moved) {
    hoisted += out.slice(a, b);
    rest += out.slice(from, a);
    from = b;
  }
  rest += out.slice(from);
  // After the first line when it is `#!…`, which must stay first.
  const top = rest.startsWith("#!") ? rest.indexOf("\n") + 1 : 0;
  return { text: rest.slice(0, top) + hoisted + rest.slice(top), eager, left };
}

/**
 * Where the `function` at `start` stands: at the start of a statement (a declaration), in an expression, or
 * after something this does not read (a comment, a keyword other than `return`), where it is left alone.
 */
function place(text: string, start: number): "declaration" | "expression" | "unknown" {
  let i = start - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  if (i < 0 || ";{}".includes(text[i])) return "declaration";
  if ("(,=:?[!&|+-*%<>~^".includes(text[i])) return "expression";
  return /(?:^|[^\w$])return$/.test(text.slice(Math.max(0, i - 6), i + 1)) ? "expression" : "unknown";
}

/** Whether the function at `start` is an arrow function: `x=>`, `(…)=>`, `async x=>`, `async(…)=>`. */
function arrow(text: string, start: number): boolean {
  let i = start;
  const asyncPrefix = /^async(?=[\s(])\s*/.exec(text.slice(i, i + 20));
  if (asyncPrefix) i += asyncPrefix[0].length;
  if (text[i] !== "(") return /^[\w$]+\s*=>/.test(text.slice(i, i + 200));
  const close = closingParen(text, i);
  return close >= 0 && /^\s*=>/.test(text.slice(close + 1, close + 20));
}

/** The offset of the `)` that closes the `(` at `open`, past strings and template literals; -1 if none. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      i = stringEnd(text, i);
      if (i < 0) return -1;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** The offset of the quote that ends the string or template literal starting at `open`. */
function stringEnd(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
    else if (quote === "`" && text[i] === "$" && text[i + 1] === "{") {
      // A substitution: up to its closing brace, past nested strings.
      let depth = 0;
      for (i++; i < text.length; i++) {
        const c = text[i];
        if (c === '"' || c === "'" || c === "`") i = stringEnd(text, i);
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) break;
        if (i < 0) return -1;
      }
    }
  }
  return -1;
}

/** The quick commands whose functions are made eager, as a user runs them. */
const TRAINING: readonly string[][] = [
  ["--version"],
  ["--help"],
  ["--sim", "list"],
  ["--sim", "list", "--json"],
  ["--sim", "status", "io"],
  ["--sim", "status", "vfs"],
  ["list"],
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the training commands on `bundle`, with coverage into `coverageDir` when given. */
async function runTraining(bundle: string, root: string, coverageDir?: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const args of TRAINING) {
    const flags = [...denoRunFlags("bundle"), ...PERMISSIONS];
    if (coverageDir) flags.push(`--coverage=${coverageDir}`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...flags, bundle, ...args],
      env: { STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: `${root}/state`, NO_COLOR: "1", TZ: "UTC" },
      clearEnv: true,
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    outcomes.push({ code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) });
  }
  return outcomes;
}

/** The functions the coverage in `dir` says ran in `bundle`, and every function it names there. */
async function coveredFunctions(
  dir: string,
  bundle: string,
): Promise<{ ran: FunctionRange[]; all: FunctionRange[] }> {
  const url = new URL(`file://${bundle}`).href;
  const ran: FunctionRange[] = [];
  const all: FunctionRange[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const report = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    if (report.url !== url) continue;
    for (
      const fn of report.functions as {
        ranges: { startOffset: number; endOffset: number; count: number }[];
      }[]
    ) {
      const [whole] = fn.ranges;
      const range = { start: whole.startOffset, end: whole.endOffset };
      all.push(range);
      if (whole.count > 0 && whole.startOffset > 0) ran.push(range);
    }
  }
  return { ran, all };
}

/**
 * Makes the functions the quick commands run eager in the bundle at `bundle` (an absolute path), in place.
 * Throws, leaving the file as it was, when no coverage names the bundle or when the result behaves otherwise.
 */
export async function makeEager(bundle: string): Promise<EagerResult> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-eager-" });
  try {
    await writeSampleRecorders(`${root}/state`, root, "2026-01-01T00:00:00.000Z");
    const before = await runTraining(bundle, root, `${root}/coverage`);
    const { ran, all } = await coveredFunctions(`${root}/coverage`, bundle);
    if (ran.length === 0) throw new Error(`No coverage of ${bundle}: its functions stay lazy`);
    const original = await Deno.readTextFile(bundle);
    const result = eagerSource(original, ran, all);
    const candidate = `${root}/eager.js`;
    await Deno.writeTextFile(candidate, result.text);
    const after = await runTraining(candidate, root);
    TRAINING.forEach((args, i) => {
      const [a, b] = [before[i], after[i]];
      // The program's own path appears in messages only through lib/self.ts: the same words either way.
      const same = (x: string, y: string) =>
        x.replaceAll(bundle, "BUNDLE") === y.replaceAll(candidate, "BUNDLE");
      if (a.code !== b.code || !same(a.stdout, b.stdout) || !same(a.stderr, b.stderr)) {
        throw new Error(
          `stapfr ${args.join(" ")} behaves otherwise once its functions are eager ` +
            `(exit ${a.code} then ${b.code}):\n${b.stderr || b.stdout}`,
        );
      }
    });
    await Deno.writeTextFile(bundle, result.text);
    return result;
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
