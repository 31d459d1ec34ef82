/**
 * Resolves a script's probe points against what the simulator can fire: `begin`/`end`/`error`/`never`,
 * `timer.*`, `procfs("NAME").read` (its `$value` becomes a local the module host reads after each run), the
 * workload's catalogue (`vfs.*`, `syscall.*`, `nd_syscall.*`, `kernel.function("…")`,
 * `kernel.trace("…")`, `process("…").function("…")`, `scheduler.*`), and the script's own aliases.
 * Wildcards match per component, as in stap. A point that matches nothing is reported as unsupported unless
 * it is optional (`?`, `!`), in which case it is skipped as stap skips a point absent from the kernel.
 * @module
 */
import type * as A from "./ast.ts";
import { CATALOGUE, type CataloguePoint, sourceFileOf } from "../workload/catalogue.ts";
import type { Unsupported } from "../kernel/program.ts";

/** When a timer probe fires. */
export interface TimerSpec {
  /** Period in ns. */
  periodNs: number;
  /** `.randomize(N)`: ± this many ns of jitter per period. */
  randomizeNs: number;
  /** `timer.profile` (and `.tick`): on every CPU; otherwise on CPU 0. */
  perCpu: boolean;
}

/**
 * The local that stands for a procfs read probe's `$value` (a name no script can write: `$` is not allowed in
 * identifiers). The handler's frame holds the file's text in it when the probe has run.
 */
export const PROCFS_VALUE = "$value";

/** One resolved probe point with the bodies that run for it (alias prologues, the body, alias epilogues). */
export interface ResolvedPoint {
  kind: "begin" | "end" | "error" | "never" | "timer" | "event" | "procfs";
  /** `begin(N)`/`end(N)` order. */
  sequence: number;
  timer?: TimerSpec;
  /** procfs: the file's name under `/proc/systemtap/MODULE/`. */
  procfs?: string;
  event?: CataloguePoint;
  /** What pp() returns. */
  pp: string;
  /** What pn() returns (the alias name as written for aliases). */
  pn: string;
  bodies: A.Block[];
  /** `if (…)` conditions on the point (all must hold). */
  conditions: A.Expr[];
  decl: A.ProbeDecl;
  /** The point as written (for messages). */
  point: A.ProbePoint;
}

/** Glob match of stap's wildcards (`*` any run, `?` one char, `[…]` classes) on one component. */
export function globMatch(pattern: string, text: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === text;
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(re + "$").test(text);
}

function componentsText(p: A.ProbePoint): string {
  return p.components.map((c) =>
    c.arg === null
      ? c.name
      : `${c.name}(${c.arg.kind === "string" ? JSON.stringify(c.arg.value) : c.arg.text})`
  ).join(".");
}

function argString(c: A.ProbePointComponent): string | null {
  if (c.arg === null) return null;
  return c.arg.kind === "string" ? c.arg.value : c.arg.text;
}

function argNumber(c: A.ProbePointComponent): number | null {
  if (c.arg === null || c.arg.kind !== "number") return null;
  return Number(c.arg.value);
}

/** Matches a written point against a catalogue point. */
function matchesCatalogue(point: A.ProbePoint, cat: CataloguePoint): boolean {
  let comps = point.components;
  // `.call` and `.exported` only narrow function probes; the simulated functions are all non-inline.
  if (
    comps.length > 0 &&
    (comps[comps.length - 1].name === "call" || comps[comps.length - 1].name === "exported")
  ) {
    comps = comps.slice(0, -1);
  }
  if (comps.length !== cat.components.length) return false;
  for (let i = 0; i < comps.length; i++) {
    // kprobe.function("f") probes the same functions as kernel.function("f"), without debuginfo.
    if (
      i === 0 && comps[0].name === "kprobe" && cat.components[0].name === "kernel" &&
      cat.components[1]?.name === "function"
    ) {
      continue;
    }
    const w = comps[i], c = cat.components[i];
    if (!globMatch(w.name, c.name)) return false;
    const wa = argString(w);
    if (wa === null) {
      if (c.arg !== null) return false;
      continue;
    }
    if (c.arg === null) return false;
    let pattern = wa;
    if (c.name === "function") {
      // function("name@file[:line]"): the file part must match the function's source file.
      const at = pattern.indexOf("@");
      if (at >= 0) {
        const filePattern = pattern.slice(at + 1).replace(/[:+].*$/, "");
        pattern = pattern.slice(0, at);
        const file = sourceFileOf(cat);
        if (!globMatch(filePattern, file) && !globMatch(`*/${filePattern}`, `/${file}`)) return false;
      } else {
        const colon = pattern.indexOf(":");
        if (colon >= 0) pattern = pattern.slice(0, colon);
      }
    }
    const target = String(c.arg);
    if (c.name === "process") {
      if (!globMatch(pattern, target) && !globMatch(pattern, target.slice(target.lastIndexOf("/") + 1))) {
        return false;
      }
    } else if (!globMatch(pattern, target)) return false;
  }
  return true;
}

const TIMER_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  sec: 1e9,
  msec: 1e6,
  usec: 1e3,
  nsec: 1,
};
const HZ = 250;

function resolveTimer(point: A.ProbePoint): TimerSpec | string {
  const comps = point.components;
  const unit = comps[1];
  if (!unit) return "timer probe needs a unit";
  const rnd = comps[2];
  let randomizeNs = 0;
  if (unit.name === "profile") {
    if (comps.length > 2 && !(comps.length === 3 && comps[2].name === "tick")) {
      return "unknown timer.profile form";
    }
    return { periodNs: 1e9 / HZ, randomizeNs: 0, perCpu: true };
  }
  const n = argNumber(unit);
  if (n === null || n <= 0) return `timer.${unit.name} needs a positive number`;
  let periodNs: number;
  if (unit.name === "hz") periodNs = 1e9 / n;
  else if (unit.name === "jiffies") periodNs = (n * 1e9) / HZ;
  else if (TIMER_UNITS[unit.name] !== undefined) periodNs = n * TIMER_UNITS[unit.name];
  else return `unknown timer unit "${unit.name}"`;
  if (rnd) {
    const r = argNumber(rnd);
    if (rnd.name !== "randomize" || r === null || comps.length > 3) return "unknown timer probe form";
    randomizeNs = unit.name === "jiffies"
      ? (r * 1e9) / HZ
      : unit.name === "hz"
      ? 0
      : r * (TIMER_UNITS[unit.name] ?? 1);
  }
  return { periodNs, randomizeNs, perCpu: false };
}

interface Expansion {
  kind: ResolvedPoint["kind"];
  sequence: number;
  timer?: TimerSpec;
  procfs?: string;
  event?: CataloguePoint;
  pp: string;
  pn: string | null;
  prologues: A.Block[];
  epilogues: A.Block[];
  conditions: A.Expr[];
}

/**
 * `procfs("NAME").read` or `procfs.read` (the file `command`), with an optional `.maxsize(N)`: the file's
 * name; null for other forms (`.write` is not simulated).
 */
function resolveProcfs(point: A.ProbePoint): string | null {
  const [procfs, op, size] = point.components;
  if (procfs.arg !== null && procfs.arg.kind !== "string") return null;
  if (op?.name !== "read" || op.arg !== null) return null;
  if (size !== undefined && (size.name !== "maxsize" || point.components.length > 3)) return null;
  return procfs.arg === null ? "command" : procfs.arg.value;
}

/** Turns a procfs read probe's `$value` into the local {@linkcode PROCFS_VALUE}, where the host reads it. */
function valueAsLocal(node: unknown): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const x of node) valueAsLocal(x);
    return;
  }
  const n = node as Record<string, unknown>;
  if (n.kind === "target_symbol" && n.name === "$value") {
    const loc = n.loc;
    for (const k of Object.keys(n)) delete n[k];
    Object.assign(n, { kind: "symbol", name: PROCFS_VALUE, loc });
    return;
  }
  for (const [k, v] of Object.entries(n)) {
    if (k !== "loc" && v !== null && typeof v === "object") valueAsLocal(v);
  }
}

/** Resolves every probe of a script; what cannot be resolved goes to `unsupported`. */
export function resolveProbes(script: A.Script, unsupported: Unsupported[]): ResolvedPoint[] {
  const out: ResolvedPoint[] = [];
  const report = (node: { loc: A.SourceLoc }, message: string) =>
    unsupported.push({ file: node.loc.file, line: node.loc.line, column: node.loc.column, message });

  const expand = (point: A.ProbePoint, depth: number): Expansion[] | string => {
    const comps = point.components;
    const first = comps[0]?.name ?? "";
    const text = componentsText(point);
    const conditions = point.condition ? [point.condition] : [];
    // The script's own aliases come first, as stap searches them with the tapsets.
    const viaAlias: Expansion[] = [];
    if (depth < 10) {
      for (const alias of script.aliases) {
        for (const name of alias.names) {
          if (name.components.length !== comps.length) continue;
          const ok = name.components.every((c, i) =>
            globMatch(comps[i].name, c.name) && argString(comps[i]) === argString(c)
          );
          if (!ok) continue;
          for (const target of alias.points) {
            const r = expand(target, depth + 1);
            if (typeof r === "string") {
              if (target.optional) continue;
              return r;
            }
            for (const x of r) {
              const bodies = alias.style === "prologue"
                ? {
                  prologues: [alias.body, ...x.prologues],
                  epilogues: [...x.epilogues, ...(alias.epilogueBody ? [alias.epilogueBody] : [])],
                }
                : { prologues: x.prologues, epilogues: [...x.epilogues, alias.body] };
              viaAlias.push({
                ...x,
                ...bodies,
                pn: componentsText(name),
                conditions: [...x.conditions, ...conditions],
              });
            }
            if (target.sufficient && r.length > 0) break;
          }
        }
      }
    }
    if (viaAlias.length > 0) return viaAlias;
    if (comps.length === 1 && ["begin", "end", "error"].includes(first)) {
      const seq = argNumber(comps[0]) ?? 0;
      return [{
        kind: first as "begin",
        sequence: seq,
        pp: text,
        pn: text,
        prologues: [],
        epilogues: [],
        conditions,
      }];
    }
    if (comps.length === 1 && first === "never") {
      return [{
        kind: "never",
        sequence: 0,
        pp: "never",
        pn: "never",
        prologues: [],
        epilogues: [],
        conditions,
      }];
    }
    if (first === "timer") {
      const t = resolveTimer(point);
      if (typeof t === "string") return t;
      return [{
        kind: "timer",
        sequence: 0,
        timer: t,
        pp: text,
        pn: text,
        prologues: [],
        epilogues: [],
        conditions,
      }];
    }
    if (first === "procfs") {
      const name = resolveProcfs(point);
      if (name === null) {
        return `probe point '${text}' is not available in the simulator (only procfs("NAME").read is)`;
      }
      return [{
        kind: "procfs",
        sequence: 0,
        procfs: name,
        pp: text,
        pn: text,
        prologues: [],
        epilogues: [],
        conditions,
      }];
    }
    const matches = CATALOGUE.filter((c) => matchesCatalogue(point, c));
    if (matches.length === 0) {
      return `probe point '${text}' is not available in the simulator (no match in its catalogue)`;
    }
    const kprobe = first === "kprobe";
    return matches.map((c) => ({
      kind: "event" as const,
      sequence: 0,
      event: c,
      pp: kprobe ? `kprobe.function("${c.func}")${c.isReturn ? ".return" : ""}` : c.pp,
      pn: kprobe ? `kprobe.function("${c.func}")${c.isReturn ? ".return" : ""}` : c.text,
      prologues: [],
      epilogues: [],
      conditions,
    }));
  };

  for (const decl of script.probes) {
    let resolvedAny = false;
    for (const point of decl.points) {
      if (resolvedAny && decl.points[decl.points.indexOf(point) - 1]?.sufficient) break;
      const r = expand(point, 0);
      if (typeof r === "string") {
        if (!point.optional) report(point, r);
        continue;
      }
      resolvedAny = r.length > 0;
      for (const x of r) {
        if (x.kind === "procfs") valueAsLocal([...x.prologues, decl.body, ...x.epilogues]);
        out.push({
          kind: x.kind,
          sequence: x.sequence,
          timer: x.timer,
          event: x.event,
          procfs: x.procfs,
          pp: x.pp,
          pn: x.pn ?? x.pp,
          bodies: [...x.prologues, decl.body, ...x.epilogues],
          conditions: x.conditions,
          decl,
          point,
        });
      }
    }
  }
  return out;
}
