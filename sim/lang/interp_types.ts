/**
 * Type inference over a script, the simulator's version of stap's pass-2 `typeresolution_info`: every
 * variable, array key and value, and function result gets `long`, `string` or `stats`, from literals,
 * operators, printf conversions, tapset signatures, context variables and assignments, iterated to a fixed
 * point. What stays unresolved defaults to `long` (stap would report "unresolved type").
 * @module
 */
import type * as A from "./ast.ts";
import { parseFormat } from "./format.ts";
import { TAPSET } from "./tapset.ts";

/** A resolved type. */
export type VarType = "long" | "string" | "stats";

/** Types by key: `g:x` (global x, or its values), `g:x#i` (key i of array x), `r:f` (result of f), `SCOPE:x`. */
export class TypeEnv {
  readonly types = new Map<string, VarType>();
  /** Where each type was first inferred (when known). */
  readonly origins = new Map<string, { loc: A.SourceLoc; name: string }>();
  /** The first conflicting use, as stap reports it ("type mismatch"). */
  conflict:
    | { type: VarType; loc: A.SourceLoc; name: string; first: VarType; firstLoc: A.SourceLoc | null }
    | null = null;
  changed = false;

  get(key: string): VarType | undefined {
    return this.types.get(key);
  }

  set(key: string, t: VarType | undefined, at?: { loc: A.SourceLoc; name: string }): void {
    if (t === undefined) return;
    const known = this.types.get(key);
    if (known === undefined) {
      this.types.set(key, t);
      if (at) this.origins.set(key, at);
      this.changed = true;
    } else if (known !== t && at && this.conflict === null) {
      this.conflict = {
        type: t,
        loc: at.loc,
        name: at.name,
        first: known,
        firstLoc: this.origins.get(key)?.loc ?? null,
      };
    }
  }
}

/** How the inference walker names variables in one body. */
export interface TypeScope {
  /** The key prefix of this body's locals. */
  key: string;
  isGlobal(name: string): boolean;
  /** Types of context variables (alias locals) and target variables. */
  contextType(name: string): VarType | undefined;
  /** User functions by {@linkcode functionKey} (overloads in priority order; params typed under `KEY:param`). */
  functions: Map<string, A.FunctionDecl[]>;
}

/** How functions are told apart: by name and arity (`f/2`), as stap overloads them. */
export function functionKey(name: string, arity: number): string {
  return `${name}/${arity}`;
}

function varKey(sc: TypeScope, name: string): string {
  return sc.isGlobal(name) ? `g:${name}` : `${sc.key}:${name}`;
}

/** The key of an lvalue-ish expression, or null. */
function keyOf(e: A.Expr, sc: TypeScope): string | null {
  if (e.kind === "symbol") return varKey(sc, e.name);
  if (e.kind === "array_index" && e.base.kind === "symbol") return varKey(sc, e.base.name);
  return null;
}

/** Demands a type of an expression (bottom-up hints to variables). */
function hint(env: TypeEnv, sc: TypeScope, e: A.Expr, t: VarType | undefined): void {
  if (t === undefined) return;
  const k = keyOf(e, sc);
  const name = e.kind === "symbol"
    ? e.name
    : e.kind === "array_index" && e.base.kind === "symbol"
    ? e.base.name
    : "";
  if (k !== null) env.set(k, t, { loc: e.loc, name });
  else if (e.kind === "call" && sc.functions.has(functionKey(e.name, e.args.length))) {
    env.set(`r:${functionKey(e.name, e.args.length)}`, t);
  }
}

/** Infers the type of an expression, recording what it learns in env. */
export function typeExpr(env: TypeEnv, sc: TypeScope, e: A.Expr): VarType | undefined {
  switch (e.kind) {
    case "number":
      return "long";
    case "string":
      return "string";
    case "symbol": {
      const k = varKey(sc, e.name);
      const known = env.get(k);
      if (known !== undefined) return known;
      const ctx = sc.isGlobal(e.name) ? undefined : sc.contextType(e.name);
      if (ctx !== undefined) env.set(k, ctx);
      return ctx;
    }
    case "target_symbol":
      return e.name.startsWith("$$") ? "string" : sc.contextType(e.name);
    case "array_index": {
      if (e.base.kind !== "symbol") return "long";
      e.indexes.forEach((ix, i) => {
        if (ix === null) return;
        const t = typeExpr(env, sc, ix);
        const kk = `g:${e.base.kind === "symbol" ? e.base.name : ""}#${i}`;
        env.set(kk, t);
        hint(env, sc, ix, env.get(kk));
      });
      return env.get(varKey(sc, e.base.name));
    }
    case "call": {
      e.args.forEach((a) => typeExpr(env, sc, a));
      const fk = functionKey(e.name, e.args.length);
      const fn = sc.functions.get(fk)?.[0];
      if (fn) {
        fn.params.forEach((p, i) => {
          const a = e.args[i];
          if (!a) return;
          const pk = `${fk}:${p.name}`;
          if (p.type) env.set(pk, p.type);
          env.set(pk, typeExpr(env, sc, a));
          hint(env, sc, a, env.get(pk));
        });
        if (fn.returnType) env.set(`r:${fk}`, fn.returnType);
        return env.get(`r:${fk}`);
      }
      const t = TAPSET[e.name];
      if (t) {
        t.params.forEach((p, i) => e.args[i] && hint(env, sc, e.args[i], p));
        return t.ret === "void" ? "long" : t.ret;
      }
      return undefined;
    }
    case "print_format": {
      if (e.format) {
        try {
          let i = 0;
          for (const p of parseFormat(e.format.value)) {
            if (p.kind !== "conv") continue;
            if (p.width === -2) hint(env, sc, e.args[i++] ?? e.format, "long");
            if (p.precision === -2) hint(env, sc, e.args[i++] ?? e.format, "long");
            const a = e.args[i++];
            if (a) hint(env, sc, a, p.takesString ? "string" : "long");
          }
        } catch { /* reported at compile time */ }
      }
      e.args.forEach((a) => typeExpr(env, sc, a));
      if (e.histogram) typeExpr(env, sc, e.histogram);
      return e.returnsString ? "string" : "long";
    }
    case "unary":
    case "binary":
    case "incdec": {
      const parts = e.kind === "binary" ? [e.left, e.right] : e.kind === "unary" ? [e.operand] : [e.target];
      for (const p of parts) {
        typeExpr(env, sc, p);
        hint(env, sc, p, "long");
      }
      return "long";
    }
    case "logical":
      typeExpr(env, sc, e.left);
      typeExpr(env, sc, e.right);
      return "long";
    case "comparison": {
      const l = typeExpr(env, sc, e.left);
      const r = typeExpr(env, sc, e.right);
      hint(env, sc, e.left, r);
      hint(env, sc, e.right, l);
      return "long";
    }
    case "concat":
      typeExpr(env, sc, e.left);
      typeExpr(env, sc, e.right);
      hint(env, sc, e.left, "string");
      hint(env, sc, e.right, "string");
      return "string";
    case "regex_match":
      typeExpr(env, sc, e.left);
      hint(env, sc, e.left, "string");
      return "long";
    case "ternary": {
      typeExpr(env, sc, e.condition);
      const a = typeExpr(env, sc, e.then);
      const b = typeExpr(env, sc, e.otherwise);
      hint(env, sc, e.then, b);
      hint(env, sc, e.otherwise, a);
      return a ?? b;
    }
    case "assignment": {
      const v = typeExpr(env, sc, e.value);
      if (e.op === "<<<") {
        hint(env, sc, e.value, "long");
        typeExpr(env, sc, e.target);
        const k = keyOf(e.target, sc);
        if (k !== null) env.set(k, "stats");
        return "long";
      }
      const t = typeExpr(env, sc, e.target);
      if (e.op === "=") {
        hint(env, sc, e.target, v);
        hint(env, sc, e.value, t);
        return v ?? t;
      }
      const want: VarType = e.op === ".=" ? "string" : "long";
      hint(env, sc, e.target, want);
      hint(env, sc, e.value, want);
      return want;
    }
    case "in":
      e.keys.forEach((k, i) => {
        if (k === null) return;
        const t = typeExpr(env, sc, k);
        if (e.array.kind === "symbol") {
          env.set(`g:${e.array.name}#${i}`, t);
          hint(env, sc, k, env.get(`g:${e.array.name}#${i}`));
        }
      });
      return "long";
    case "stat_op":
    case "histogram": {
      typeExpr(env, sc, e.stat);
      const k = keyOf(e.stat, sc);
      if (k !== null) env.set(k, "stats");
      return "long";
    }
    case "entry":
      return typeExpr(env, sc, e.expr);
    case "defined":
    case "probewrite":
      return "long";
    default:
      return undefined;
  }
}

/** Walks a statement for inference. */
export function typeStatement(env: TypeEnv, sc: TypeScope, s: A.Statement, fn: A.FunctionDecl | null): void {
  switch (s.kind) {
    case "block":
      for (const x of s.statements) typeStatement(env, sc, x, fn);
      return;
    case "expr_statement":
      typeExpr(env, sc, s.expr);
      return;
    case "if":
      typeExpr(env, sc, s.condition);
      typeStatement(env, sc, s.then, fn);
      if (s.otherwise) typeStatement(env, sc, s.otherwise, fn);
      return;
    case "while":
      typeExpr(env, sc, s.condition);
      typeStatement(env, sc, s.body, fn);
      return;
    case "for":
      if (s.init) typeExpr(env, sc, s.init);
      if (s.condition) typeExpr(env, sc, s.condition);
      if (s.step) typeExpr(env, sc, s.step);
      typeStatement(env, sc, s.body, fn);
      return;
    case "foreach": {
      if (s.array.kind === "symbol") {
        const name = s.array.name;
        s.keys.forEach((k, i) => {
          const kk = `g:${name}#${i}`;
          env.set(`${sc.key}:${k.name}`, env.get(kk));
          env.set(kk, env.get(`${sc.key}:${k.name}`));
        });
        if (s.value) {
          const vt = env.get(`g:${name}`);
          if (vt !== "stats") env.set(`${sc.key}:${s.value.name}`, vt);
          if (vt === undefined) env.set(`g:${name}`, env.get(`${sc.key}:${s.value.name}`));
        }
        s.slice?.forEach((x, i) => x && hint(env, sc, x, env.get(`g:${name}#${i}`)));
      } else {
        typeExpr(env, sc, s.array);
        for (const k of s.keys) env.set(`${sc.key}:${k.name}`, "long");
      }
      if (s.limit) typeExpr(env, sc, s.limit);
      typeStatement(env, sc, s.body, fn);
      return;
    }
    case "return":
      if (s.value && fn) {
        const t = typeExpr(env, sc, s.value);
        const fk = functionKey(fn.name, fn.params.length);
        env.set(`r:${fk}`, t);
        hint(env, sc, s.value, env.get(`r:${fk}`));
      }
      return;
    case "delete":
      typeExpr(env, sc, s.target);
      return;
    case "try":
      typeStatement(env, sc, s.body, fn);
      if (s.catchVar) env.set(`${sc.key}:${s.catchVar.name}`, "string");
      typeStatement(env, sc, s.handler, fn);
      return;
    default:
      return;
  }
}
