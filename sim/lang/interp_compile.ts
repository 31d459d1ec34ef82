/**
 * Compiles a typed script to JS closures once per instance: every expression becomes `(frame) => value`
 * and every statement `(frame) => completion`, with variables resolved to frame slots or global slots at
 * compile time, so a probe hit walks no tree and looks nothing up by name. Frames are preallocated (one per
 * handler, one per function and nesting depth), so a hit allocates nothing beyond its output record.
 * @module
 */
import type * as A from "./ast.ts";
import { CATALOGUE, type CataloguePoint, type ContextVar } from "../workload/catalogue.ts";
import type { WorkloadEvent } from "../workload/event.ts";
import {
  add,
  band,
  bnot,
  bor,
  bxor,
  clampString,
  div,
  type Long,
  longToString,
  mod,
  mul,
  neg,
  type Scalar,
  shl,
  shr,
  sub,
  toByteString,
  toNumber,
  ushr,
} from "./values.ts";
import { formatHistogram, type HistogramSpec, linearBuckets, Stat } from "./aggregates.ts";
import {
  type Conversion,
  formatLong,
  formatMemory,
  formatNumber,
  formatString,
  parseFormat,
  SPECIAL,
} from "./format.ts";
import { MapFullError, type MapValue, StapMap } from "./values_map.ts";
import { AbortSignal_, type Node, type Runtime, ScriptRuntimeError } from "./interp_runtime.ts";
import { TAPSET, userMemory } from "./tapset.ts";
import { functionKey, type TypeEnv, type VarType } from "./interp_types.ts";

/** Statement completions. */
export const NORMAL = 0, BREAK = 1, CONTINUE = 2, RETURN = 3, NEXT = 4;

type Frame = unknown[];
// Values are dynamically typed at run time (long or string, checked by inference at compile time).
// deno-lint-ignore no-explicit-any
type ExprFn = (f: Frame) => any;
type StmtFn = (f: Frame) => number;

/** A problem found while compiling (becomes a compile error or an unsupported entry). */
export class CompileProblem extends Error {
  constructor(message: string, readonly node: { loc: A.SourceLoc }, readonly unsupported: boolean) {
    super(message);
  }
}

/** What the compiler knows about a global. */
export interface GlobalInfo {
  name: string;
  slot: number;
  decl: A.GlobalDecl | null;
  arity: number;
  type: VarType;
  keyTypes: VarType[];
  hist: HistogramSpec;
  /** `@variance(s, N)` shift. */
  shift: number;
}

/** One body's variable scope. */
export class Scope {
  readonly slots = new Map<string, number>();
  readonly contextVars = new Map<string, ContextVar>();
  readonly targets = new Map<string, ContextVar>();
  constructor(readonly key: string, readonly fn: A.FunctionDecl | null) {}

  slot(name: string): number {
    let s = this.slots.get(name);
    if (s === undefined) {
      s = this.slots.size;
      this.slots.set(name, s);
    }
    return s;
  }
}

/** A compiled user function. */
export interface CompiledFunction {
  decl: A.FunctionDecl;
  /** name/arity: the overload set it belongs to. */
  key: string;
  scope: Scope;
  body: StmtFn | null;
  frames: Frame[];
  defaults: Scalar[];
  ret: VarType;
}

/** Decimal texts of small non-negative numbers (pids, cpus, counts), made once. */
const SMALL_INTS = 1 << 16;
const SMALL_INT_TEXT: string[] = [];

function defaultOf(t: VarType | undefined): Scalar {
  return t === "string" ? "" : 0;
}

function truthy(v: unknown): boolean {
  return v !== 0 && v !== "";
}

function cmp(a: Scalar, b: Scalar): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The compiler of one script instance. */
export class Compiler {
  /** Overload sets by name/arity, in priority order. */
  readonly functions = new Map<string, CompiledFunction[]>();
  readonly globalValues: unknown[];
  /** The catalogue point of the handler being compiled (for @entry), if any. */
  currentPoint: CataloguePoint | undefined = undefined;
  /** Code to run at entry points on behalf of @entry in return handlers: by catalogue id. */
  readonly entryHooks = new Map<number, ((e: WorkloadEvent) => void)[]>();

  constructor(
    readonly rt: Runtime,
    readonly env: TypeEnv,
    readonly globals: Map<string, GlobalInfo>,
    readonly functionDecls: Map<string, A.FunctionDecl[]>,
  ) {
    this.globalValues = [];
    for (const g of globals.values()) this.globalValues[g.slot] = this.initialGlobal(g);
  }

  private initialGlobal(g: GlobalInfo): unknown {
    if (g.arity > 0) {
      const cap = g.decl?.size ?? this.rt.limits.MAXMAPENTRIES;
      return new StapMap(g.arity, cap, g.decl?.wrap ?? false);
    }
    if (g.type === "stats") return new Stat(g.hist, g.shift);
    if (g.decl?.init) {
      const init = g.decl.init;
      return init.kind === "string" ? toByteString(init.value) : fromBigLiteral(init.value);
    }
    return defaultOf(g.type);
  }

  typeOfVar(sc: Scope, name: string): VarType | undefined {
    const g = this.globals.get(name);
    if (g) return g.type;
    return this.env.get(`${sc.key}:${name}`);
  }

  /** The type an expression has (after inference). */
  typeOf(sc: Scope, e: A.Expr): VarType {
    switch (e.kind) {
      case "string":
      case "concat":
        return "string";
      case "symbol":
        return this.typeOfVar(sc, e.name) ?? "long";
      case "array_index":
        return e.base.kind === "symbol" ? this.globals.get(e.base.name)?.type ?? "long" : "long";
      case "call": {
        const fk = functionKey(e.name, e.args.length);
        if (this.functionDecls.has(fk)) return this.env.get(`r:${fk}`) ?? "long";
        const t = TAPSET[e.name];
        return t && t.ret === "string" ? "string" : "long";
      }
      case "print_format":
        return e.returnsString ? "string" : "long";
      case "ternary":
        return this.typeOf(sc, e.then);
      case "assignment":
        return e.op === "=" ? this.typeOf(sc, e.value) : e.op === ".=" ? "string" : "long";
      case "target_symbol": {
        if (e.name.startsWith("$$")) return "string";
        const v = sc.targets.get(e.name);
        return v ? v.type : "long";
      }
      case "entry":
        return this.typeOf(sc, e.expr);
      default:
        return "long";
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Expressions

  expr(sc: Scope, e: A.Expr): ExprFn {
    const rt = this.rt;
    switch (e.kind) {
      case "number": {
        const v = fromBigLiteral(e.value);
        return () => v;
      }
      case "string": {
        const v = toByteString(e.value);
        return () => v;
      }
      case "symbol":
        return this.readVar(sc, e);
      case "target_symbol": {
        if (e.name.startsWith("$$") && e.components.length === 0 && !e.addressOf && e.pretty === 0) {
          const all = this.contextSummary(sc, e);
          if (all !== null) return all;
        }
        const t = sc.targets.get(e.name);
        if (!t || e.components.length > 0 || e.addressOf || e.pretty) {
          throw new CompileProblem(
            `target variable '${e.name}' is not available in the simulator here`,
            e,
            true,
          );
        }
        const get = t.get;
        return () => get(rt.ev);
      }
      case "array_index":
        return this.readIndex(sc, e);
      case "call":
        return this.call(sc, e);
      case "print_format":
        return this.printFormat(sc, e);
      case "unary": {
        const a = this.expr(sc, e.operand);
        switch (e.op) {
          case "-":
            return (f) => neg(a(f));
          case "+":
            return a;
          case "!":
            return (f) => (truthy(a(f)) ? 0 : 1);
          case "~":
            return (f) => bnot(a(f));
        }
        break;
      }
      case "incdec":
        return this.incdec(sc, e);
      case "binary":
        return this.binary(sc, e);
      case "logical": {
        const l = this.expr(sc, e.left), r = this.expr(sc, e.right);
        return e.op === "&&"
          ? (f) => (truthy(l(f)) && truthy(r(f)) ? 1 : 0)
          : (f) => (truthy(l(f)) || truthy(r(f)) ? 1 : 0);
      }
      case "comparison": {
        const l = this.expr(sc, e.left), r = this.expr(sc, e.right);
        switch (e.op) {
          case "==":
            return (f) => (l(f) === r(f) ? 1 : 0);
          case "!=":
            return (f) => (l(f) !== r(f) ? 1 : 0);
          case "<":
            return (f) => (l(f) < r(f) ? 1 : 0);
          case "<=":
            return (f) => (l(f) <= r(f) ? 1 : 0);
          case ">":
            return (f) => (l(f) > r(f) ? 1 : 0);
          case ">=":
            return (f) => (l(f) >= r(f) ? 1 : 0);
        }
        break;
      }
      case "concat": {
        const l = this.expr(sc, e.left), r = this.expr(sc, e.right);
        return (f) => {
          const s = (l(f) as string) + (r(f) as string);
          return s.length < 512 ? s : clampString(s);
        };
      }
      case "regex_match": {
        const l = this.expr(sc, e.left);
        let re: RegExp;
        try {
          // POSIX extended regular expressions, unanchored; JS syntax covers the common subset.
          re = new RegExp(e.pattern.value);
        } catch {
          throw new CompileProblem(
            `regular expression '${e.pattern.value}' is not supported by the simulator`,
            e,
            true,
          );
        }
        const want = e.op === "=~";
        return (f) => (re.test(l(f) as string) === want ? 1 : 0);
      }
      case "ternary": {
        // @defined(…) ? a : b is decided at compile time, as stap does: the dead branch is not compiled.
        const known = this.staticCondition(sc, e.condition);
        if (known !== null) return this.expr(sc, known ? e.then : e.otherwise);
        const c = this.expr(sc, e.condition), a = this.expr(sc, e.then), b = this.expr(sc, e.otherwise);
        return (f) => (truthy(c(f)) ? a(f) : b(f));
      }
      case "assignment":
        return this.assignment(sc, e);
      case "in":
        return this.inExpr(sc, e);
      case "stat_op":
        return this.statOp(sc, e);
      case "entry":
        return this.entry(sc, e);
      case "defined": {
        const ok = this.isDefined(sc, e.expr) ? 1 : 0;
        return () => ok;
      }
      default:
        break;
    }
    throw new CompileProblem(
      `${e.kind.replace(/_/g, " ")} expressions are not supported by the simulator`,
      e,
      true,
    );
  }

  /**
   * `@entry(expr)` in a return probe: like stap, evaluate expr when the matching entry point fires and keep
   * it (per thread) until the return.
   */
  private entry(_sc: Scope, e: A.EntryExpr): ExprFn {
    const point = this.currentPoint;
    const entryPoint = point?.isReturn
      ? CATALOGUE.find((p) => p.text === point.text.replace(/\.return$/, ""))
      : undefined;
    if (!point || !entryPoint) throw new CompileProblem("@entry is only valid in .return probes", e, false);
    const entryScope = new Scope(`entry${point.id}`, null);
    for (const [n, v] of Object.entries(entryPoint.targets)) entryScope.targets.set(n, v);
    const saved = this.currentPoint;
    this.currentPoint = entryPoint;
    const inner = this.expr(entryScope, e.expr);
    this.currentPoint = saved;
    const frame: Frame = [];
    const values = new Map<number, unknown>();
    const rt = this.rt;
    const hooks = this.entryHooks.get(entryPoint.id) ?? [];
    hooks.push((ev) => {
      rt.ev = ev;
      rt.now = ev.time;
      try {
        values.set(ev.task.tid, inner(frame));
      } catch (err) {
        if (!(err instanceof ScriptRuntimeError)) throw err;
        rt.reportError(err.text());
      }
    });
    this.entryHooks.set(entryPoint.id, hooks);
    const dflt = defaultOf(this.typeOf(_sc, e.expr));
    return () => {
      const tid = rt.ev.task.tid;
      const v = values.get(tid);
      values.delete(tid);
      return v === undefined ? dflt : v;
    };
  }

  /**
   * `$$parms`, `$$vars`, `$$locals`, `$$return`: "name=0x…" pairs of the point's target variables, each
   * printed with %#x as the translator does for scalars (the simulated points have no locals).
   */
  private contextSummary(sc: Scope, e: A.TargetSymbol): ExprFn | null {
    const rt = this.rt;
    const names = e.name === "$$return"
      ? (sc.targets.has("$return") ? ["$return"] : [])
      : e.name === "$$parms" || e.name === "$$vars"
      ? [...sc.targets.keys()].filter((n) => n !== "$return")
      : e.name === "$$locals"
      ? []
      : null;
    if (names === null) return null;
    if (e.name === "$$return" && names.length === 0) return null;
    const getters = names.map((n) => [n.slice(1), sc.targets.get(n)!] as const);
    return () => {
      let s = "";
      for (const [name, v] of getters) {
        const value = v.get(rt.ev);
        s += (s === "" ? "" : " ") + name + "=" +
          (typeof value === "string" ? `"${value}"` : formatNumber(value, 16, -1, -1, SPECIAL));
      }
      return s;
    };
  }

  /**
   * `@defined(x)` at compile time: a target variable the point offers (without `->field`s, which the simulator
   * cannot follow), or any plain script expression. @cast/@var/autocast values count as undefined here.
   */
  private isDefined(sc: Scope, x: A.Expr): boolean {
    if (x.kind === "target_symbol") {
      if (x.components.length > 0 || x.pretty) return false;
      return x.name.startsWith("$$") || sc.targets.has(x.name);
    }
    return !(x.kind === "cast" || x.kind === "at_var" || x.kind === "autocast" || x.kind === "const");
  }

  /** The value of a condition known at compile time (@defined, its negation, a literal), else null. */
  private staticCondition(sc: Scope, e: A.Expr): boolean | null {
    if (e.kind === "defined") return this.isDefined(sc, e.expr);
    if (e.kind === "unary" && e.op === "!") {
      const inner = this.staticCondition(sc, e.operand);
      return inner === null ? null : !inner;
    }
    return null;
  }

  private readVar(sc: Scope, e: A.SymbolExpr): ExprFn {
    const g = this.globals.get(e.name);
    if (g) {
      if (g.arity > 0 || g.type === "stats") {
        throw new CompileProblem(
          `invalid use of ${g.arity > 0 ? "array" : "statistic"} '${e.name}'`,
          e,
          false,
        );
      }
      const gv = this.globalValues, slot = g.slot;
      return () => gv[slot];
    }
    const slot = sc.slot(e.name);
    return (f) => f[slot];
  }

  private keyFns(sc: Scope, indexes: (A.Expr | null)[], node: A.Expr): ExprFn[] {
    return indexes.map((ix) => {
      if (ix === null) throw new CompileProblem("wildcard '*' is not allowed here", node, false);
      return this.expr(sc, ix);
    });
  }

  /** A function computing the lookup key of an index list. */
  private lookupKey(keys: ExprFn[]): (f: Frame) => Scalar {
    if (keys.length === 1) return keys[0];
    if (keys.length === 2) {
      const [a, b] = keys;
      return (f) => StapMap.keyOf([a(f), b(f)]);
    }
    return (f) => StapMap.keyOf(keys.map((k) => k(f)));
  }

  private arrayOf(e: A.ArrayIndex): [GlobalInfo, StapMap] {
    if (e.base.kind !== "symbol") {
      throw new CompileProblem("histogram indexing is not supported by the simulator", e, true);
    }
    const g = this.globals.get(e.base.name);
    if (!g || g.arity === 0) throw missingArray(e.base.name, e);
    return [g, this.globalValues[g.slot] as StapMap];
  }

  private readIndex(sc: Scope, e: A.ArrayIndex): ExprFn {
    if (e.base.kind === "histogram") {
      // `@hist_log(s)[b]`: the count in bucket b (a bucket number, as foreach over the histogram gives).
      const stat = this.statTarget(sc, e.base.stat, false);
      if (e.indexes.length !== 1 || e.indexes[0] === null) {
        throw new CompileProblem("a histogram takes one bucket index", e, false);
      }
      const index = this.expr(sc, e.indexes[0]);
      return (f) => {
        const h = stat(f)?.histogram;
        const b = toNumber(index(f));
        return h && b >= 0 && b < h.length ? h[b] : 0;
      };
    }
    const [g, map] = this.arrayOf(e);
    if (g.type === "stats") throw new CompileProblem(`invalid use of statistic array '${g.name}'`, e, false);
    const key = this.lookupKey(this.keyFns(sc, e.indexes, e));
    const dflt = defaultOf(g.type);
    return (f) => {
      const entry = map.get(key(f));
      return entry === undefined ? dflt : entry.value;
    };
  }

  /** The entry of an array element for writing; raises stap's overflow error. */
  private entryFor(sc: Scope, e: A.ArrayIndex, initial: () => MapValue): (f: Frame) => { value: MapValue } {
    const [g, map] = this.arrayOf(e);
    const keys = this.keyFns(sc, e.indexes, e);
    const key = this.lookupKey(keys);
    const message = g.decl?.size != null
      ? `Array overflow, check size limit (${g.decl.size})`
      : "Array overflow, check MAXMAPENTRIES";
    if (keys.length === 1) {
      return (f) => {
        const k = key(f);
        const entry = map.get(k);
        if (entry !== undefined) return entry;
        try {
          return map.ensure(k, () => [k], initial);
        } catch (err) {
          if (err instanceof MapFullError) throw new ScriptRuntimeError(message, e);
          throw err;
        }
      };
    }
    return (f) => {
      const vals = keys.map((k) => k(f));
      const k = StapMap.keyOf(vals);
      try {
        return map.ensure(k, () => vals, initial);
      } catch (err) {
        if (err instanceof MapFullError) throw new ScriptRuntimeError(message, e);
        throw err;
      }
    };
  }

  /** Store into an lvalue: returns a function that writes the value computed by `compute(old, f)`. */
  private lvalue(sc: Scope, target: A.Expr): { read: ExprFn; write: (f: Frame, v: unknown) => void } {
    if (target.kind === "symbol") {
      const g = this.globals.get(target.name);
      if (g) {
        if (g.arity > 0 || g.type === "stats") {
          throw new CompileProblem(
            `invalid use of ${g.arity > 0 ? "array" : "statistic"} '${target.name}'`,
            target,
            false,
          );
        }
        const gv = this.globalValues, slot = g.slot;
        return { read: () => gv[slot], write: (_f, v) => void (gv[slot] = v) };
      }
      const slot = sc.slot(target.name);
      return { read: (f) => f[slot], write: (f, v) => void (f[slot] = v) };
    }
    if (target.kind === "array_index") {
      const [g] = this.arrayOf(target);
      const dflt = defaultOf(g.type);
      const entry = this.entryFor(sc, target, () => dflt);
      // read+write of one element must resolve the key once: cache the entry between read and write.
      let last: { value: MapValue } | null = null;
      return {
        read: (f) => (last = entry(f)).value,
        write: (f, v) => {
          const en = last ?? entry(f);
          last = null;
          en.value = v as MapValue;
        },
      };
    }
    throw new CompileProblem("this assignment target is not supported by the simulator", target, true);
  }

  private assignment(sc: Scope, e: A.AssignmentExpr): ExprFn {
    if (e.op === "<<<") return this.statAdd(sc, e);
    const value = this.expr(sc, e.value);
    if (e.op === "=") {
      if (e.target.kind === "array_index") {
        const [g] = this.arrayOf(e.target);
        const dflt = defaultOf(g.type);
        const entry = this.entryFor(sc, e.target, () => dflt);
        return (f) => {
          const v = value(f);
          entry(f).value = v;
          return v;
        };
      }
      if (e.target.kind === "symbol" && !this.globals.has(e.target.name)) {
        const slot = sc.slot(e.target.name);
        return (f) => (f[slot] = value(f));
      }
      const lv = this.lvalue(sc, e.target);
      return (f) => {
        const v = value(f);
        lv.write(f, v);
        return v;
      };
    }
    const op = this.binaryOp(e.op.slice(0, -1), e);
    const lv = this.lvalue(sc, e.target);
    if (e.target.kind === "array_index") {
      // Evaluate the value before touching the element (it may insert into the same array).
      return (f) => {
        const v = value(f);
        const r = op(lv.read(f), v);
        lv.write(f, r);
        return r;
      };
    }
    return (f) => {
      const r = op(lv.read(f), value(f));
      lv.write(f, r);
      return r;
    };
  }

  // deno-lint-ignore no-explicit-any
  private binaryOp(op: string, node: Node): (a: any, b: any) => unknown {
    switch (op) {
      case "+":
        return add;
      case "-":
        return sub;
      case "*":
        return mul;
      case "/":
        return (a, b) => {
          const r = div(a, b);
          if (r === null) throw new ScriptRuntimeError("division by 0", node);
          return r;
        };
      case "%":
        return (a, b) => {
          const r = mod(a, b);
          if (r === null) throw new ScriptRuntimeError("division by 0", node);
          return r;
        };
      case "<<":
        return shl;
      case ">>":
        return shr;
      case ">>>":
        return ushr;
      case "&":
        return band;
      case "|":
        return bor;
      case "^":
        return bxor;
      case ".":
        return (a: string, b: string) => clampString(a + b);
    }
    throw new CompileProblem(`operator '${op}' is not supported`, node as A.Expr, true);
  }

  private binary(sc: Scope, e: A.BinaryExpr): ExprFn {
    const l = this.expr(sc, e.left), r = this.expr(sc, e.right);
    if (e.op === "+") {
      return (f) => {
        const a = l(f), b = r(f);
        if (typeof a === "number" && typeof b === "number") {
          const s = a + b;
          if (s <= 9007199254740991 && s >= -9007199254740991) return s;
        }
        return add(a, b);
      };
    }
    const op = this.binaryOp(e.op, e);
    return (f) => op(l(f), r(f));
  }

  private incdec(sc: Scope, e: A.IncDecExpr): ExprFn {
    const lv = this.lvalue(sc, e.target);
    const delta = e.op === "++" ? 1 : -1;
    if (e.prefix) {
      return (f) => {
        const v = add(lv.read(f) as Long, delta);
        lv.write(f, v);
        return v;
      };
    }
    return (f) => {
      const old = lv.read(f) as Long;
      lv.write(f, add(old, delta));
      return old;
    };
  }

  private statTarget(sc: Scope, target: A.Expr, create: boolean): (f: Frame) => Stat | undefined {
    if (target.kind === "symbol") {
      const g = this.globals.get(target.name);
      if (!g || g.type !== "stats" || g.arity > 0) {
        throw new CompileProblem(`'${target.name}' is not a global statistic`, target, false);
      }
      const s = this.globalValues[g.slot] as Stat;
      return () => s;
    }
    if (target.kind === "array_index") {
      const [g, map] = this.arrayOf(target);
      if (g.type !== "stats") {
        throw new CompileProblem(`'${g.name}' is not an array of statistics`, target, false);
      }
      if (target.indexes.some((x) => x === null)) {
        // An aggregate slice: merge the matching elements.
        const keys = target.indexes.map((ix) => (ix === null ? null : this.expr(sc, ix)));
        return (f) => {
          const want = keys.map((k) => (k === null ? null : k(f)));
          const merged = new Stat(g.hist, g.shift);
          for (const en of map.entries.values()) {
            if (want.every((w, i) => w === null || w === en.keys[i])) mergeInto(merged, en.value as Stat);
          }
          return merged;
        };
      }
      if (create) {
        const entry = this.entryFor(sc, target, () => new Stat(g.hist, g.shift));
        return (f) => entry(f).value as Stat;
      }
      const key = this.lookupKey(this.keyFns(sc, target.indexes, target));
      return (f) => map.get(key(f))?.value as Stat | undefined;
    }
    throw new CompileProblem("statistic expected", target, false);
  }

  private statAdd(sc: Scope, e: A.AssignmentExpr): ExprFn {
    const value = this.expr(sc, e.value);
    const target = this.statTarget(sc, e.target, true);
    return (f) => {
      const v = value(f);
      target(f)!.add(v);
      return v;
    };
  }

  private statOp(sc: Scope, e: A.StatOp): ExprFn {
    const target = this.statTarget(sc, e.stat, false);
    const empty = () => {
      throw new ScriptRuntimeError("empty aggregate", e);
    };
    switch (e.op) {
      case "count":
        return (f) => target(f)?.count ?? 0;
      case "sum":
        return (f) => target(f)?.sum ?? 0;
      case "min":
        return (f) => {
          const s = target(f);
          return s && s.count > 0 ? s.min : empty();
        };
      case "max":
        return (f) => {
          const s = target(f);
          return s && s.count > 0 ? s.max : empty();
        };
      case "avg":
        return (f) => {
          const s = target(f);
          return s && s.count > 0 ? s.avg() : empty();
        };
      case "variance":
        return (f) => {
          const s = target(f);
          return s && s.count > 0 ? s.variance() : empty();
        };
    }
  }

  private inExpr(sc: Scope, e: A.InExpr): ExprFn {
    if (e.array.kind !== "symbol") {
      throw new CompileProblem("'in' on a histogram is not supported by the simulator", e, true);
    }
    const [, map] = this.arrayOf({ kind: "array_index", base: e.array, indexes: e.keys, loc: e.loc });
    if (e.keys.some((k) => k === null)) {
      const keys = e.keys.map((k) => (k === null ? null : this.expr(sc, k)));
      return (f) => {
        const want = keys.map((k) => (k === null ? null : k(f)));
        for (const en of map.entries.values()) {
          if (want.every((w, i) => w === null || w === en.keys[i])) return 1;
        }
        return 0;
      };
    }
    const key = this.lookupKey(this.keyFns(sc, e.keys, e));
    return (f) => (map.get(key(f)) !== undefined ? 1 : 0);
  }

  private call(sc: Scope, e: A.FunctionCall): ExprFn {
    const user = this.functions.get(functionKey(e.name, e.args.length));
    if (user) return this.callUser(sc, e, user);
    if ([...this.functions.keys()].some((k) => k.startsWith(e.name + "/"))) {
      throw new CompileProblem(`wrong number of arguments to function '${e.name}'`, e, false);
    }
    const t = TAPSET[e.name];
    if (!t) throw new CompileProblem(`function '${e.name}' is not available in the simulator`, e, true);
    const min = t.params.length - (t.optional ?? 0);
    if (e.args.length < min || e.args.length > t.params.length) {
      throw new CompileProblem(`wrong number of arguments to function '${e.name}'`, e, false);
    }
    const rt = this.rt;
    const impl = t.impl;
    const args = e.args.map((a) => this.expr(sc, a));
    const wrap = (fn: ExprFn): ExprFn => (f) => {
      try {
        const v = fn(f);
        return v === undefined ? 0 : v;
      } catch (err) {
        if (err instanceof ScriptRuntimeError && err.near === null && e.name !== "error") {
          throw new ScriptRuntimeError(err.message, e);
        }
        throw err;
      }
    };
    switch (args.length) {
      case 0:
        return t.ret === "void" ? wrap(() => impl(rt, 0, 0, 0)) : () => impl(rt, 0, 0, 0);
      case 1: {
        const [a] = args;
        return wrap((f) => impl(rt, a(f), undefined as unknown as Scalar, 0));
      }
      case 2: {
        const [a, b] = args;
        return wrap((f) => impl(rt, a(f), b(f), undefined as unknown as Scalar));
      }
      default: {
        const [a, b, c] = args;
        return wrap((f) => impl(rt, a(f), b(f), c(f)));
      }
    }
  }

  private callUser(sc: Scope, e: A.FunctionCall, overloads: CompiledFunction[]): ExprFn {
    const rt = this.rt;
    const args = e.args.map((a) => this.expr(sc, a));
    const n = args.length;
    const maxNesting = rt.limits.MAXNESTING;
    const retDefault = defaultOf(overloads[0].ret);
    const tmp: unknown[][] = [];
    const count = overloads.length;
    return (f) => {
      const depth = rt.nesting;
      // stap's check is `nesting+1 >= MAXNESTING` with nesting -1 in the probe: MAXNESTING nested calls run.
      if (depth >= maxNesting) throw new ScriptRuntimeError("MAXNESTING exceeded", e);
      // Arguments are evaluated before the callee's frame is taken (they may call the same function).
      const vals = tmp[depth] ?? (tmp[depth] = new Array(n));
      for (let i = 0; i < n; i++) vals[i] = args[i](f);
      // Overloads run in priority order; `next` in one moves on to the next one.
      for (let o = 0; o < count; o++) {
        const fn = overloads[o];
        const frame = fn.frames[depth] ?? (fn.frames[depth] = fn.defaults.slice());
        const d = fn.defaults;
        for (let i = 0; i < d.length; i++) frame[i] = d[i];
        for (let i = 0; i < n; i++) frame[i] = vals[i];
        rt.nesting = depth + 1;
        let code: number;
        try {
          code = fn.body!(frame);
        } finally {
          rt.nesting = depth;
        }
        if (code === RETURN) return rt.retval;
        if (code !== NEXT) return retDefault;
      }
      throw new ScriptRuntimeError("all functions exhausted", e);
    };
  }

  private printFormat(sc: Scope, e: A.PrintFormat): ExprFn {
    const rt = this.rt;
    const toStr = (x: A.Expr): ExprFn => {
      const fn = this.expr(sc, x);
      if (this.typeOf(sc, x) === "string") return fn;
      return (f) => {
        const v = fn(f);
        if (typeof v === "number" && v >= 0 && v < SMALL_INTS) {
          return SMALL_INT_TEXT[v] ?? (SMALL_INT_TEXT[v] = String(v));
        }
        return typeof v === "string" ? v : longToString(v);
      };
    };
    if (e.histogram) {
      // `_stp_stat_print_histogram`: each line reserved in the print buffer, then a flush (a record ends here).
      const h = e.histogram;
      const stat = this.statTarget(sc, h.stat, false);
      const text = (f: Frame): string => {
        const s = stat(f);
        if (!s || s.count === 0) throw new ScriptRuntimeError("empty aggregate", e);
        return formatHistogram(s);
      };
      if (e.returnsString) return (f) => clampString(text(f));
      return (f) => {
        const lines = text(f).split(/(?<=\n)/);
        for (const line of lines) rt.emitReserved([line], 1);
        rt.flush();
        return 0;
      };
    }
    let pieces: ((f: Frame) => string)[];
    let literal: string | null = null;
    if (e.format) {
      pieces = this.printf(sc, e);
    } else {
      const parts = e.args.map(toStr);
      pieces = [];
      const delim = e.delimiter ? toByteString(e.delimiter.value) : "";
      parts.forEach((p, i) => {
        if (i > 0 && delim !== "") pieces.push(() => delim);
        pieces.push(p);
      });
      if (e.newline) pieces.push(() => "\n");
      // All-literal prints become `_stp_print("…")`, which splits at a full buffer.
      if (e.args.every((a) => a.kind === "string")) {
        literal = e.args.map((a) => toByteString((a as A.StringLiteral).value)).join(delim) +
          (e.newline ? "\n" : "");
      }
    }
    const n = pieces.length;
    if (e.returnsString) {
      if (n === 1) {
        const [a] = pieces;
        return (f) => clampString(a(f));
      }
      return (f) => {
        let s = "";
        for (let i = 0; i < n; i++) s += pieces[i](f);
        return clampString(s);
      };
    }
    if (literal !== null) {
      const text = literal;
      return () => {
        rt.emit(text);
        return 0;
      };
    }
    // The translator turns the other prints into printf: every argument is evaluated first, then the whole
    // output is reserved at once (a flush first if it does not fit, cut at 8 KiB).
    const tmp: string[][] = [];
    return (f) => {
      const depth = rt.nesting;
      const vals = tmp[depth] ?? (tmp[depth] = new Array(n));
      for (let i = 0; i < n; i++) vals[i] = pieces[i](f);
      rt.emitReserved(vals, n);
      return 0;
    };
  }

  private printf(sc: Scope, e: A.PrintFormat): ((f: Frame) => string)[] {
    let pieces;
    try {
      pieces = parseFormat(toByteString(e.format!.value));
    } catch (err) {
      throw new CompileProblem((err as Error).message, e, false);
    }
    let argi = 0;
    const steps: ((f: Frame) => string)[] = [];
    const nextArg = (): A.Expr => {
      const a = e.args[argi++];
      if (!a) throw new CompileProblem("too few arguments to format string", e, false);
      return a;
    };
    for (const p of pieces) {
      if (p.kind === "text") {
        const t = p.text;
        steps.push(() => t);
        continue;
      }
      const c: Conversion = p;
      const width = c.width === -2 ? this.expr(sc, nextArg()) : null;
      const prec = c.precision === -2 ? this.expr(sc, nextArg()) : null;
      const argNode = nextArg();
      const arg = this.expr(sc, argNode);
      const w = (f: Frame): number => {
        if (width === null) return c.width;
        const v = toNumber(width(f));
        return v;
      };
      const pr = (f: Frame): number => (prec === null ? c.precision : Math.max(0, toNumber(prec(f))));
      if (c.conv === "s") {
        steps.push((f) => {
          const v = arg(f);
          return formatString(typeof v === "string" ? v : longToString(v), w(f), pr(f), c.flags);
        });
      } else if (c.conv === "m" || c.conv === "M") {
        // %m/%M read precision bytes (default 1) at an address: the simulator has the current call's buffer.
        const rtc = this.rt;
        steps.push((f) => {
          const v = arg(f);
          const n = Math.max(1, pr(f));
          const mem = typeof v === "string" ? v : userMemory(rtc, v);
          if (mem === null || mem.length < n) {
            throw new ScriptRuntimeError(
              `read fault [man error::fault] at 0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`,
              e,
            );
          }
          return formatMemory(mem.slice(0, n), c.conv as "m", w(f), c.flags);
        });
      } else if (
        width === null && prec === null && c.flags === 0 && c.width < 0 && c.precision < 0 &&
        (c.conv === "d" || c.conv === "i")
      ) {
        steps.push((f) => {
          const v = arg(f);
          return typeof v === "number" ? String(v) : longToString(v);
        });
      } else {
        steps.push((f) => {
          let wv = w(f);
          const flags = c.flags;
          if (wv < -1) return formatLong({ ...c, flags: flags | 1 }, arg(f), -wv, pr(f));
          if (wv > 8192) wv = 8192;
          return formatLong(c, arg(f), wv, pr(f));
        });
      }
    }
    if (argi !== e.args.length) throw new CompileProblem("too many arguments to format string", e, false);
    return steps;
  }

  // ------------------------------------------------------------------------------------------------------
  // Statements

  /**
   * Compiles a statement; `loop` is the innermost loop (where MAXACTION is charged), or null. Like the
   * translator, a block needs as many actions as it has statements (an error "near" nothing outside loops),
   * and every loop iteration takes one more and fails when the budget reaches 0 ("near" the loop keyword).
   */
  stmt(sc: Scope, s: A.Statement, loop: A.Statement | null): StmtFn {
    const rt = this.rt;
    switch (s.kind) {
      case "block": {
        const list = s.statements.map((x) => this.stmt(sc, x, loop));
        const n = list.length;
        const near = loop;
        if (n === 0) return () => NORMAL;
        if (n === 1) {
          const [a] = list;
          return (f) => {
            if (--rt.actions < 0) throw new ScriptRuntimeError("MAXACTION exceeded", near);
            return a(f);
          };
        }
        return (f) => {
          if ((rt.actions -= n) < 0) throw new ScriptRuntimeError("MAXACTION exceeded", near);
          for (let i = 0; i < n; i++) {
            const c = list[i](f);
            if (c !== NORMAL) return c;
          }
          return NORMAL;
        };
      }
      case "null":
        return () => NORMAL;
      case "expr_statement": {
        const x = this.expr(sc, s.expr);
        return (f) => {
          x(f);
          return NORMAL;
        };
      }
      case "if": {
        const known = this.staticCondition(sc, s.condition);
        if (known !== null) {
          if (known) return this.stmt(sc, s.then, loop);
          return s.otherwise ? this.stmt(sc, s.otherwise, loop) : () => NORMAL;
        }
        const c = this.expr(sc, s.condition);
        const a = this.stmt(sc, s.then, loop);
        const b = s.otherwise ? this.stmt(sc, s.otherwise, loop) : null;
        return b === null ? (f) => (truthy(c(f)) ? a(f) : NORMAL) : (f) => (truthy(c(f)) ? a(f) : b(f));
      }
      case "while":
      case "for": {
        const init = s.kind === "for" && s.init ? this.expr(sc, s.init) : null;
        const cond = s.kind === "for"
          ? (s.condition ? this.expr(sc, s.condition) : null)
          : this.expr(sc, s.condition);
        const step = s.kind === "for" && s.step ? this.expr(sc, s.step) : null;
        const body = this.stmt(sc, s.body, s);
        return (f) => {
          if (init) init(f);
          for (;;) {
            if (--rt.actions <= 0) throw new ScriptRuntimeError("MAXACTION exceeded", s);
            if (cond && !truthy(cond(f))) return NORMAL;
            const code = body(f);
            if (code === BREAK) return NORMAL;
            if (code === RETURN || code === NEXT) return code;
            if (step) step(f);
          }
        };
      }
      case "foreach":
        return this.foreach(sc, s);
      case "return": {
        if (!sc.fn) return () => NEXT;
        const v = s.value ? this.expr(sc, s.value) : null;
        return (f) => {
          rt.retval = v ? v(f) : 0;
          return RETURN;
        };
      }
      case "next":
        return () => NEXT;
      case "break":
        return () => BREAK;
      case "continue":
        return () => CONTINUE;
      case "delete":
        return this.deleteStmt(sc, s);
      case "try": {
        const body = this.stmt(sc, s.body, loop);
        const handler = this.stmt(sc, s.handler, loop);
        const slot = s.catchVar ? sc.slot(s.catchVar.name) : -1;
        return (f) => {
          try {
            return body(f);
          } catch (err) {
            if (!(err instanceof ScriptRuntimeError)) throw err;
            if (slot >= 0) f[slot] = err.message;
            return handler(f);
          }
        };
      }
      case "embedded_code":
        throw new CompileProblem("embedded C cannot run in the simulator", s, true);
    }
  }

  private foreach(sc: Scope, s: A.ForeachStatement): StmtFn {
    const rt = this.rt;
    if (s.array.kind !== "symbol") return this.foreachBuckets(sc, s, s.array);
    const g = this.globals.get(s.array.name);
    if (!g || g.arity === 0) throw missingArray(s.array.name, s.array);
    if (s.keys.length !== g.arity) {
      throw new CompileProblem(`wrong number of indexes for '${g.name}'`, s, false);
    }
    const map = this.globalValues[g.slot] as StapMap;
    const keySlots = s.keys.map((k) => sc.slot(k.name));
    const valueSlot = s.value ? sc.slot(s.value.name) : -1;
    const isStat = g.type === "stats";
    const body = this.stmt(sc, s.body, s);
    const limit = s.limit ? this.expr(sc, s.limit) : null;
    const slice = s.slice ? s.slice.map((x) => (x === null ? null : this.expr(sc, x))) : null;
    const col = s.sortColumn;
    const dir = s.sortDirection;
    const agg = s.sortAggregate ?? "count";
    const sortValue = (v: MapValue): Scalar => {
      if (!isStat) return v as Scalar;
      const st = v as Stat;
      if (agg === "count") return st.count;
      if (agg === "sum") return st.sum;
      if (st.count === 0) return 0;
      return agg === "min" ? st.min : agg === "max" ? st.max : agg === "avg" ? st.avg() : st.variance();
    };
    return (f) => {
      let list = Array.from(map.entries.values());
      if (slice) {
        const want = slice.map((x) => (x === null ? null : x(f)));
        list = list.filter((en) => want.every((w, i) => w === null || w === en.keys[i]));
      }
      if (col !== null && dir !== 0) {
        if (col === 0) list.sort((a, b) => dir * cmp(sortValue(a.value), sortValue(b.value)));
        else list.sort((a, b) => dir * cmp(a.keys[col - 1], b.keys[col - 1]));
      }
      let max = list.length;
      if (limit) {
        const l = toNumber(limit(f));
        if (l < max) max = Math.max(0, l);
      }
      for (let i = 0; i < max; i++) {
        if (--rt.actions <= 0) throw new ScriptRuntimeError("MAXACTION exceeded", s);
        const en = list[i];
        for (let k = 0; k < keySlots.length; k++) f[keySlots[k]] = en.keys[k];
        if (valueSlot >= 0) f[valueSlot] = isStat ? sortValue(en.value) : en.value;
        const code = body(f);
        if (code === BREAK) break;
        if (code === RETURN || code === NEXT) return code;
      }
      return NORMAL;
    };
  }

  /** `foreach (b in @hist_log(s))`: every bucket number of the histogram, in order, empty ones included. */
  private foreachBuckets(sc: Scope, s: A.ForeachStatement, h: A.HistogramOp): StmtFn {
    const rt = this.rt;
    if (s.keys.length !== 1 || s.value !== null || s.sortDirection !== 0) {
      throw new CompileProblem("foreach over a histogram takes one bucket variable, unsorted", s, false);
    }
    const stat = this.statTarget(sc, h.stat, false);
    const g = h.stat.kind === "symbol" ? this.globals.get(h.stat.name) : undefined;
    const spec = g?.hist ?? { type: "none" };
    const buckets = spec.type === "log" ? 128 : spec.type === "linear" ? spec.buckets : 0;
    const slot = sc.slot(s.keys[0].name);
    const body = this.stmt(sc, s.body, s);
    const limit = s.limit ? this.expr(sc, s.limit) : null;
    return (f) => {
      stat(f);
      let max = buckets;
      if (limit) max = Math.min(max, Math.max(0, toNumber(limit(f))));
      for (let b = 0; b < max; b++) {
        if (--rt.actions <= 0) throw new ScriptRuntimeError("MAXACTION exceeded", s);
        f[slot] = b;
        const code = body(f);
        if (code === BREAK) break;
        if (code === RETURN || code === NEXT) return code;
      }
      return NORMAL;
    };
  }

  private deleteStmt(sc: Scope, s: A.DeleteStatement): StmtFn {
    const t = s.target;
    if (t.kind === "symbol") {
      const g = this.globals.get(t.name);
      if (g) {
        const value = this.globalValues[g.slot];
        if (value instanceof StapMap) return () => (value.clear(), NORMAL);
        if (value instanceof Stat) return () => (value.clear(), NORMAL);
        const gv = this.globalValues, slot = g.slot, d = defaultOf(g.type);
        return () => ((gv[slot] = d), NORMAL);
      }
      const slot = sc.slot(t.name);
      const d = defaultOf(this.typeOfVar(sc, t.name));
      return (f) => ((f[slot] = d), NORMAL);
    }
    if (t.kind === "array_index") {
      const [, map] = this.arrayOf(t);
      if (t.indexes.some((x) => x === null)) {
        const keys = t.indexes.map((k) => (k === null ? null : this.expr(sc, k)));
        return (f) => {
          const want = keys.map((k) => (k === null ? null : k(f)));
          for (const [k, en] of map.entries) {
            if (want.every((w, i) => w === null || w === en.keys[i])) map.delete(k);
          }
          return NORMAL;
        };
      }
      const key = this.lookupKey(this.keyFns(sc, t.indexes, t));
      return (f) => (map.delete(key(f)), NORMAL);
    }
    throw new CompileProblem("delete of this expression is not supported", s, false);
  }
}

/** Globals of the 4.8 tapsets that scripts use as their own (argv.stp, this.stp, …); the simulator has none. */
const TAPSET_GLOBALS =
  /^(argv(_\d+)?|argc|__this_var\d+|_stp_target|_target_set|cve_[a-z_]+|__json_[a-z_]+|syscall_string_trunc)$/;

function missingArray(name: string, node: { loc: A.SourceLoc }): CompileProblem {
  if (TAPSET_GLOBALS.test(name)) {
    return new CompileProblem(`tapset global '${name}' is not available in the simulator`, node, true);
  }
  return new CompileProblem(
    `array locals not supported, missing global declaration? identifier '${name}'`,
    node,
    false,
  );
}

/** `next` inside a function: leaves the probe handler. */
export class NextSignal extends Error {}

function mergeInto(into: Stat, s: Stat): void {
  if (s.count === 0) return;
  // Replays the extremes and totals (exact for count, sum, min, max and averages; histograms add up).
  if (into.count === 0) {
    into.count = s.count;
    into.sum = s.sum;
    into.min = s.min;
    into.max = s.max;
  } else {
    into.count += s.count;
    into.sum = add(into.sum, s.sum);
    if (s.min < into.min) into.min = s.min;
    if (s.max > into.max) into.max = s.max;
  }
  if (into.histogram && s.histogram) {
    for (let i = 0; i < into.histogram.length; i++) into.histogram[i] += s.histogram[i];
  }
}

/** A literal's value as a Long. */
export function fromBigLiteral(v: bigint): Long {
  return v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v;
}

/** The histogram spec of `@hist_linear(s, a, b, c)`, or an error message. */
export function linearSpec(params: A.NumberLiteral[]): HistogramSpec | string {
  const [a, b, c] = params.map((p) => Number(p.value));
  const buckets = linearBuckets(a, b, c);
  if (typeof buckets === "string") return buckets;
  return { type: "linear", start: a, stop: b, interval: c, buckets };
}

export { AbortSignal_ };
