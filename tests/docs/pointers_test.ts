/**
 * Every pointer into `docs/` resolves. Code, tests and Markdown cite the documentation as
 * `docs/systemtap-4.8.md 2.3` (a numbered section; lists and ranges: "sections 2.1, 2.3–2.5 and 5", "2.3 to
 * 2.5", "2.1/2.3"; items: "6 item 4", "section 6, item 4"; "open question 6", the numbered items under the
 * heading "Open questions"), `docs/architecture.md "The simulator"` (a heading), or `docs/<page>.md` alone. This
 * test finds them all (in `docs/` too) and checks that each page, section, item and heading exists, in whatever
 * `docs/<page>.md` it names. It also fails on a pointer to the team's notes, which are not in the repository.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { walk } from "@std/fs";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SELF = new URL(import.meta.url).pathname;

/** One pointer into the documentation. */
interface Pointer {
  /** `docs/<page>.md`. */
  page: string;
  /** Section numbers ("2.3"), a range expanded to each number in it. */
  sections: string[];
  /** Numbered items: of a section ("6"), or of the open questions ("open questions"). */
  items: { of: string; item: number }[];
  /** Quoted headings. */
  headings: string[];
  /** Where: `file:line`. */
  where: string;
}

const NUMBER = String.raw`\d+(?:\.\d+)*`;

/** Expands "4.2–4.4" to 4.2, 4.3, 4.4 (and "2–4" to 2, 3, 4); anything else to its two ends. */
function expandRange(from: string, to: string): string[] {
  const a = from.split(".");
  const b = to.split(".");
  const head = a.slice(0, -1).join(".");
  if (a.length !== b.length || head !== b.slice(0, -1).join(".")) return [from, to];
  const [first, last] = [Number(a[a.length - 1]), Number(b[b.length - 1])];
  if (last < first) return [from, `${to} (a range that runs backwards)`];
  return Array.from({ length: last - first + 1 }, (_, i) => (head ? `${head}.` : "") + (first + i));
}

/** Reads the section list that follows a page's name: numbers, ranges, items and open questions. */
function parseSpec(text: string): Pick<Pointer, "sections" | "items" | "headings"> {
  const result: Pick<Pointer, "sections" | "items" | "headings"> = { sections: [], items: [], headings: [] };
  // A space before the quote: `docs/x.md", …` is the end of a string that mentions the page, not a heading.
  const heading = /^,?\s+"([^"\n]{1,100})"/.exec(text);
  if (heading) {
    result.headings.push(heading[1]);
    return result;
  }
  let rest = text;
  const eat = (pattern: RegExp): RegExpExecArray | null => {
    const m = pattern.exec(rest);
    if (m) rest = rest.slice(m[0].length);
    return m;
  };
  if (!/^\s/.test(rest)) return result;
  while (true) {
    eat(/^\s*(?:sections?\s+)?/);
    const question = eat(/^open questions?\s+(\d+)/);
    if (question) {
      result.items.push({ of: "open questions", item: Number(question[1]) });
    } else {
      const number = eat(new RegExp(`^(${NUMBER})`));
      if (!number) break;
      const range = eat(new RegExp(String.raw`^\s*(?:–|-|to)\s*(${NUMBER})`));
      if (range) result.sections.push(...expandRange(number[1], range[1]));
      else result.sections.push(number[1]);
      const item = eat(/^,?\s*items?\s+(\d+)/);
      if (item) result.items.push({ of: number[1], item: Number(item[1]) });
    }
    if (!eat(/^\s*(?:,|\/|\band\b)(?=\s*(?:sections?\s+|open questions?\s+)?\d)/)) break;
  }
  return result;
}

/** The pointers in one file's text. A pointer may run on over comment lines (` * `, `// `, `# `). */
export function findPointers(text: string, file: string): Pointer[] {
  const pointers: Pointer[] = [];
  for (const m of text.matchAll(/\bdocs\/([\w.-]+\.md)\b/g)) {
    const line = text.slice(0, m.index).split("\n").length;
    const after = text.slice(m.index! + m[0].length, m.index! + m[0].length + 300)
      .replace(/[ \t]*\n[ \t]*(?:\*(?!\/)|\/\/+|#+)?[ \t]*/g, " ");
    pointers.push({ page: `docs/${m[1]}`, where: `${file}:${line}`, ...parseSpec(after) });
  }
  return pointers;
}

/** A page's headings: their text, their section number if they start with one, and the numbered items below. */
interface Outline {
  numbers: Set<string>;
  titles: Set<string>;
  /** Items per section number, and per lower-cased title. */
  items: Map<string, Set<number>>;
}

/** The outline of a Markdown page (fenced code is skipped). */
export function outline(markdown: string): Outline {
  const result: Outline = { numbers: new Set(), titles: new Set(), items: new Map() };
  let fenced = false;
  let current: Set<number> | undefined;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      const title = heading[1];
      current = new Set();
      const number = new RegExp(`^(${NUMBER})\\.?(?:\\s|$)`).exec(title);
      const bare = number ? title.slice(number[0].length).trim() : title;
      result.titles.add(title).add(bare);
      result.items.set(bare.toLowerCase(), current);
      if (number) {
        result.numbers.add(number[1]);
        result.items.set(number[1], current);
      }
      continue;
    }
    const item = /^ {0,3}(\d+)[.)]\s/.exec(line);
    if (item && current) current.add(Number(item[1]));
  }
  return result;
}

/** What is wrong with a pointer, given the pages that exist (name → text); empty when it resolves. */
export function problems(pointer: Pointer, pages: ReadonlyMap<string, string>): string[] {
  const text = pages.get(pointer.page);
  if (text === undefined) return [`${pointer.where}: ${pointer.page} does not exist`];
  const o = outline(text);
  const found: string[] = [];
  for (const section of pointer.sections) {
    if (!o.numbers.has(section)) found.push(`${pointer.where}: ${pointer.page} has no section ${section}`);
  }
  for (const { of, item } of pointer.items) {
    if (!o.items.get(of)?.has(item)) {
      found.push(`${pointer.where}: ${pointer.page} has no item ${item} in ${of}`);
    }
  }
  for (const heading of pointer.headings) {
    if (!o.titles.has(heading)) found.push(`${pointer.where}: ${pointer.page} has no heading "${heading}"`);
  }
  return found;
}

/** Pointers at notes that are not in the repository. */
const OUTSIDE = [
  /\bDESIGN\.md\b/,
  /\.\.\/shared\//,
  /\/work\/shared\b/,
  /(?<![\w/])reference\/[\w.-]+\.md\b/,
  /\breference\/stapio-harness\b/,
];

async function repositoryFiles(exts: string[]): Promise<{ path: string; text: string }[]> {
  const files = [];
  for await (
    const entry of walk(ROOT, {
      includeDirs: false,
      exts,
      skip: [/\/\.git\//, /\/node_modules\//, /\/dist\//, /\/coverage\//, /\/\.deno\//],
    })
  ) {
    if (entry.path === SELF) continue; // its fixtures point at sections that do not exist, on purpose
    files.push({ path: entry.path.slice(ROOT.length + 1), text: await Deno.readTextFile(entry.path) });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

async function docsPages(): Promise<Map<string, string>> {
  const pages = new Map<string, string>();
  for await (const entry of walk(`${ROOT}/docs`, { includeDirs: false, exts: ["md"] })) {
    pages.set(entry.path.slice(ROOT.length + 1), await Deno.readTextFile(entry.path));
  }
  return pages;
}

// The resolver, on a small fixture.

const FIXTURE = new Map([[
  "docs/x.md",
  [
    "# X",
    "## 1. One",
    "### 1.1 A",
    "### 1.2 B",
    "```",
    "## 7. inside a code block",
    "```",
    "## 2. Two",
    "1. first",
    "2. second",
    "## 9. Open questions",
    "1. why",
    "## The simulator",
  ].join("\n"),
]]);

const check = (source: string): string[] =>
  findPointers(source, "f.ts").flatMap((p) => problems(p, FIXTURE)).map((m) => m.replace(/^f\.ts:\d+: /, ""));

Deno.test("pointers: sections, lists, ranges, items, open questions and headings that exist resolve", () => {
  const good = [
    "(docs/x.md 1.1)",
    "(docs/x.md sections 1, 1.1–1.2 and 2).",
    "(docs/x.md 1.1 to 1.2; other text 7.7)",
    "docs/x.md 1.1/1.2/2: with 3 words after",
    "(docs/x.md 2 item 2)",
    "(docs/x.md section 2, item 1)",
    "(docs/x.md 1.2, open question 1)",
    '(docs/x.md "The simulator")',
    '(docs/x.md, "The simulator")',
    'test("the commands of docs/x.md", async () => { f("1.9"); })',
    "docs/x.md, in prose",
    " * (docs/x.md 1.1,\n * 1.2) over two comment lines",
    "// docs/x.md 1.1, 2\n// item 1",
  ];
  for (const source of good) assertEquals(check(source), [], source);
});

Deno.test("pointers: a missing page, section, item, question or heading is reported", () => {
  assertEquals(check("(docs/nope.md 1.1)"), ["docs/nope.md does not exist"]);
  assertEquals(check("(docs/x.md 1.3)"), ["docs/x.md has no section 1.3"]);
  assertEquals(check("(docs/x.md 7)"), ["docs/x.md has no section 7"]);
  assertEquals(check("(docs/x.md sections 1, 1.1–1.3)"), ["docs/x.md has no section 1.3"]);
  assertEquals(check("(docs/x.md 1.1 to 1.3)"), ["docs/x.md has no section 1.3"]);
  assertEquals(check("(docs/x.md 2 item 3)"), ["docs/x.md has no item 3 in 2"]);
  assertEquals(check("(docs/x.md 1 item 1)"), ["docs/x.md has no item 1 in 1"]);
  assertEquals(check("(docs/x.md 2.5, open question 2)"), [
    "docs/x.md has no section 2.5",
    "docs/x.md has no item 2 in open questions",
  ]);
  assertEquals(check('(docs/x.md "The emulator")'), ['docs/x.md has no heading "The emulator"']);
  assertEquals(check(" * (docs/x.md 1.1,\n * 4) wrapped"), ["docs/x.md has no section 4"]);
});

// The repository.

Deno.test("every pointer into docs/ from the code, the tests and the Markdown resolves", async () => {
  const pages = await docsPages();
  assert(pages.has("docs/systemtap-4.8.md") && pages.has("docs/architecture.md"), "the two main pages exist");
  // docs/ itself included: its pages point at each other the same way.
  const files = await repositoryFiles(["ts", "md", "c", "py", "sh"]);
  const pointers = files.flatMap((f) => findPointers(f.text, f.path));
  assert(pointers.length > 50, `only ${pointers.length} pointers found: is the search broken?`);
  assertEquals(pointers.flatMap((p) => problems(p, pages)), []);
});

Deno.test("nothing points at the team's notes, which are not in the repository", async () => {
  const files = await repositoryFiles(["ts", "md", "c", "py", "sh", "yml", "yaml", "json"]);
  const found = files.flatMap((f) =>
    f.text.split("\n").flatMap((line, i) =>
      OUTSIDE.filter((re) => re.test(line)).map(() => `${f.path}:${i + 1}: ${line.trim()}`)
    )
  );
  assertEquals(found, []);
});

Deno.test("tests/README.md names every test file in tests/, and only those", async () => {
  // A file is named by its path under tests/ (`recording/memory_test.ts`); a folder named as a whole
  // (`kernel/`) covers the files under it. support/'s tests are unit tests beside the code they test.
  const dir = new URL("../", import.meta.url);
  const files: string[] = [];
  const support = /\/tests\/support\//;
  for await (const e of walk(dir, { includeDirs: false, match: [/_test\.ts$/], skip: [support] })) {
    files.push(e.path.slice(dir.pathname.length));
  }
  const readme = await Deno.readTextFile(new URL("README.md", dir));
  const named = [...readme.matchAll(/^- `((?:[a-z0-9_]+\/)*(?:[a-z0-9_]+_test\.ts)?)`/gm)].map((m) => m[1]);
  const folders = named.filter((n) => n.endsWith("/"));
  for (const folder of folders) assert(files.some((f) => f.startsWith(folder)), `${folder} holds no test`);
  const listed = files.filter((f) => !folders.some((folder) => f.startsWith(folder)));
  assertEquals(named.filter((n) => !n.endsWith("/")).toSorted(), listed.toSorted());
});
