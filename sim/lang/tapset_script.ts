/**
 * Tapset functions that the real tapsets write in the script language (indent.stp, ansi.stp), kept as script
 * source and merged into a user script when it calls them, as stap's pass 2 pulls tapset functions in; and the
 * same for the tapsets of `stap -I DIR` (parsed by {@linkcode parseTapsets}), whose functions take precedence.
 * An `-I` tapset function with an embedded-C body runs only where the simulator answers it natively
 * (sim/lang/tapset_natives.ts: stapfr's own counters).
 * @module
 */
import type * as A from "./ast.ts";
import { parseScript } from "./parser.ts";
import { NATIVE_FOR } from "./tapset_natives.ts";

/** The script source of the functions (4.8's indent.stp, indent-default.stp and ansi.stp). */
export const TAPSET_SCRIPT = `
global __indent_counters, __indent_timestamps

function __indent_timestamp() { return gettimeofday_us() }

function _generic_indent_depth:long (idx, delta)
{
  x = __indent_counters[idx] + (delta > 0 ? delta : 0)
  __indent_counters[idx] += delta
  return (x>0 ? x-1 : 0)
}

function _generic_indent (idx, desc, delta)
{
  ts = __indent_timestamp ()
  if (! __indent_counters[idx]) __indent_timestamps[idx] = ts
  depth = _generic_indent_depth(idx, delta)
  return sprintf("%6d %s:%-*s", (ts - __indent_timestamps[idx]), desc, depth, "")
}

function thread_indent:string (delta:long)
{
  return _generic_indent (tid(), sprintf("%s(%d)", execname(), tid()), delta)
}

function thread_indent_depth:long (delta:long)
{
  return _generic_indent_depth (tid(), delta)
}

function indent:string (delta:long)
{
  return _generic_indent(-1, "",  delta)
}

function indent_depth:long (delta:long)
{
  return _generic_indent_depth (-1, delta)
}

function ansi_clear_screen() { print("\\033[1;1H\\033[J") }
function ansi_set_color(fg:long) { printf("\\033[%dm", fg) }
function ansi_set_color2(fg:long, bg:long) { printf("\\033[%d;%dm", bg, fg) }
function ansi_set_color3(fg:long, bg:long, attr:long) {
  attr_str = attr ? sprintf(";%dm", attr) : "m"
  printf("\\033[%d;%d%s", bg, fg, attr_str)
}
function ansi_reset_color() { ansi_set_color3(0, 0, 0) }
function ansi_new_line() { printf("\\12") }
function ansi_cursor_hide() { print("\\033[>5h") }
function ansi_cursor_show() { print("\\033[>5l") }
function ansi_cursor_move(x:long, y:long) { printf("\\033[%d;%dH", y, x) }
`;

let parsed: A.Script | null = null;

function library(): A.Script {
  if (parsed === null) {
    const r = parseScript(TAPSET_SCRIPT, { file: "<tapset>" });
    if (r.errors.length > 0) throw new Error(`Built-in tapset script does not parse: ${r.errors[0].message}`);
    parsed = r.script;
  }
  return parsed;
}

/** Tapset functions overloaded by arity in ansi.stp, named apart here: name → arity → internal name. */
const BY_ARITY: Record<string, Record<number, string>> = {
  ansi_set_color: { 2: "ansi_set_color2", 3: "ansi_set_color3" },
};

function calls(node: unknown, out: Set<string>): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const x of node) calls(x, out);
    return;
  }
  const n = node as { kind?: string; name?: string; args?: unknown[] };
  if (n.kind === "call" && typeof n.name === "string") {
    const renamed = BY_ARITY[n.name]?.[n.args?.length ?? 0];
    if (renamed) n.name = renamed;
    out.add(n.name);
  }
  for (const [k, v] of Object.entries(node)) {
    if (k !== "loc" && v !== null && typeof v === "object") calls(v, out);
  }
}

/** A tapset file of `stap -I DIR`. */
export interface TapsetFile {
  file: string;
  source: string;
}

/**
 * Parses the tapsets of `-I` directories (a tapset may hold embedded C without guru mode). Throws a message
 * naming the file when one does not parse, as stap fails pass 1 on a broken tapset.
 */
export function parseTapsets(files: readonly TapsetFile[]): A.Script[] {
  return files.map(({ file, source }) => {
    const r = parseScript(source, { file, guru: true });
    if (r.errors.length > 0) {
      const e = r.errors[0];
      throw new Error(`${e.file}:${e.line}:${e.column}: parse error: ${e.message}`);
    }
    return r.script;
  });
}

/** stapfr's embedded-C tapset function with a body that calls its native counterpart instead. */
function nativeDecl(decl: A.FunctionDecl): A.FunctionDecl {
  const native = NATIVE_FOR[decl.name];
  if (!native || decl.body.kind === "block" || decl.params.length !== 0) return decl;
  const r = parseScript(`function ${decl.name}:${native.ret} () { return ${native.native}() }`, {
    file: decl.loc.file,
  });
  return { ...r.script.functions[0], loc: decl.loc };
}

/**
 * The script plus the library functions (and their globals) it calls and does not define itself: the built-in
 * ones and those of `tapsets` (which win over a built-in one of the same name).
 */
export function withTapsetFunctions(script: A.Script, tapsets: readonly A.Script[] = []): A.Script {
  const own = new Set(script.functions.map((f) => f.name));
  const wanted = new Set<string>();
  calls(script.probes, wanted);
  calls(script.functions, wanted);
  calls(script.aliases, wanted);
  const builtin = library();
  const lib = {
    functions: [...builtin.functions, ...tapsets.flatMap((t) => t.functions.map(nativeDecl))],
    globals: [...builtin.globals, ...tapsets.flatMap((t) => t.globals)],
  };
  const byName = new Map(lib.functions.map((f) => [f.name, f]));
  const added: A.FunctionDecl[] = [];
  const queue = [...wanted].filter((n) => !own.has(n) && byName.has(n));
  const seen = new Set(queue);
  while (queue.length > 0) {
    const f = byName.get(queue.pop()!)!;
    added.push(f);
    const inner = new Set<string>();
    calls(f.body, inner);
    for (const n of inner) {
      if (!own.has(n) && byName.has(n) && !seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  if (added.length === 0) return script;
  const globals = lib.globals.filter((g) => !script.globals.some((x) => x.name === g.name));
  return { ...script, functions: [...script.functions, ...added], globals: [...script.globals, ...globals] };
}
