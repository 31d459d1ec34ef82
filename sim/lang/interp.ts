/**
 * The SystemTap interpreter of the simulator: analyses a parsed script (probe resolution, globals, type
 * inference), and runs instances of it on the synthetic workload, on virtual time.
 *
 * Per probe hit it does what the translator's probe prologue/epilogue does: reset the action budget
 * (MAXACTION, or MAXACTION_INTERRUPTIBLE for begin/end/error probes), run the handler, flush the print buffer
 * as one record on the hit's CPU, report an error as `<message> near <token>` and apply MAXERRORS.
 * @module
 */
import type * as A from "./ast.ts";
import type { ProbeSink, RunOptions, ScriptRun, Unsupported } from "../kernel/program.ts";
import { type CataloguePoint, Workload, WorkloadEvent } from "../workload/workload.ts";
import { PROCFS_VALUE, type ResolvedPoint, resolveProbes, type TimerSpec } from "./interp_probes.ts";
import {
  functionKey,
  TypeEnv,
  typeExpr,
  type TypeScope,
  typeStatement,
  type VarType,
} from "./interp_types.ts";
import {
  AbortSignal_,
  type CompiledFunction,
  CompileProblem,
  Compiler,
  type GlobalInfo,
  linearSpec,
  NEXT,
  NextSignal,
  Scope,
} from "./interp_compile.ts";
import {
  DEFAULT_LIMITS,
  ERROR,
  type Limits,
  RUNNING,
  Runtime,
  ScriptRuntimeError,
  STARTING,
  STOPPED,
  STOPPING,
} from "./interp_runtime.ts";
import type { HistogramSpec } from "./aggregates.ts";
import type { ContextVar } from "../workload/catalogue.ts";
import { makeTask, type SimTask } from "../workload/machine.ts";
import { Prng } from "../workload/prng.ts";

/** Extra knobs of a simulated run (beyond the module seam's RunOptions). */
export interface SimRunOptions extends RunOptions {
  /** Wall-clock time at load, ns since the epoch (gettimeofday_*); a fixed date by default, for determinism. */
  epochNs?: bigint;
  /** The pid of the stapio that runs begin and end probes (their execname() is "stapio"). */
  stapioPid?: number;
}

/** 2026-01-01T00:00:00Z: the default wall clock at load. */
export const DEFAULT_EPOCH_NS = 1767225600n * 1000000000n;

/** A script error that stap reports in pass 2 (bad use of arrays, printf arguments, …). */
export class SemanticError extends Error {
  /** Makes the error; the message gets stap's `FILE:LINE:COLUMN: semantic error: ` prefix. */
  constructor(message: string, readonly loc: { file: string; line: number; column: number }) {
    super(`${loc.file}:${loc.line}:${loc.column}: semantic error: ${message}`);
    this.name = "SemanticError";
  }
}

/** The analysed script, ready to instantiate. */
export class Program {
  readonly points: ResolvedPoint[];
  readonly unsupported: Unsupported[] = [];
  readonly globals = new Map<string, GlobalInfo>();
  /** User functions by name/arity, overloads in priority order (`function f() : 2`). */
  readonly functionDecls = new Map<string, A.FunctionDecl[]>();
  readonly env = new TypeEnv();
  /** Scope key of each resolved point (by index). */
  readonly scopeKeys: string[] = [];

  constructor(readonly script: A.Script, readonly limits: Limits) {
    this.points = resolveProbes(script, this.unsupported);
    for (const f of script.functions) {
      const key = functionKey(f.name, f.params.length);
      const list = this.functionDecls.get(key) ?? [];
      list.push(f);
      this.functionDecls.set(key, list);
    }
    for (const list of this.functionDecls.values()) {
      list.sort((a, b) => (a.priority ?? 1) - (b.priority ?? 1));
    }
    this.collectGlobals();
    this.infer();
    for (const g of this.globals.values()) {
      g.type = this.env.get(`g:${g.name}`) ?? (g.decl?.init?.kind === "string" ? "string" : "long");
      g.keyTypes = Array.from({ length: g.arity }, (_, i) => this.env.get(`g:${g.name}#${i}`) ?? "long");
    }
    this.checkCompiles();
  }

  private collectGlobals(): void {
    let slot = 0;
    for (const d of this.script.globals) {
      if (this.globals.has(d.name)) continue;
      this.globals.set(d.name, {
        name: d.name,
        slot: slot++,
        decl: d,
        arity: 0,
        type: "long",
        keyTypes: [],
        hist: { type: "none" },
        shift: 0,
      });
    }
    const arity = (name: string, n: number, loc: A.SourceLoc) => {
      const g = this.globals.get(name);
      if (!g) return;
      if (g.arity !== 0 && g.arity !== n) {
        throw new SemanticError(`inconsistent arity (${n} vs ${g.arity})`, loc);
      }
      g.arity = n;
    };
    const hist = (name: string, spec: HistogramSpec, loc: A.SourceLoc) => {
      const g = this.globals.get(name);
      if (!g) return;
      if (g.hist.type !== "none" && JSON.stringify(g.hist) !== JSON.stringify(spec)) {
        throw new SemanticError("multiple histogram types declared on the same statistic", loc);
      }
      g.hist = spec;
    };
    walk(this.script, (n) => {
      switch (n.kind) {
        case "array_index":
          if (n.base.kind === "symbol") arity(n.base.name, n.indexes.length, n.loc);
          break;
        case "in":
          if (n.array.kind === "symbol") arity(n.array.name, n.keys.length, n.loc);
          break;
        case "foreach":
          if (n.array.kind === "symbol") arity(n.array.name, n.keys.length, n.loc);
          break;
        case "histogram": {
          const base = n.stat.kind === "symbol"
            ? n.stat.name
            : n.stat.kind === "array_index" && n.stat.base.kind === "symbol"
            ? n.stat.base.name
            : null;
          if (base === null) break;
          if (n.type === "log") hist(base, { type: "log" }, n.loc);
          else {
            const spec = linearSpec(n.params);
            if (typeof spec === "string") throw new SemanticError(spec, n.loc);
            hist(base, spec, n.loc);
          }
          break;
        }
        case "stat_op":
          if (n.op === "variance" && n.bitShift) {
            const base = n.stat.kind === "symbol" ? n.stat.name : null;
            const g = base ? this.globals.get(base) : undefined;
            if (g) g.shift = Number(n.bitShift.value);
          }
          break;
      }
    });
    for (const g of this.globals.values()) if (g.decl?.isArray && g.arity === 0) g.arity = 1;
  }

  typeScope(key: string, fn: A.FunctionDecl | null, point: CataloguePoint | undefined): TypeScope {
    return {
      key,
      isGlobal: (name) => this.globals.has(name) && !(fn?.params.some((p) => p.name === name)),
      contextType: (name) => {
        const v = point?.vars[name] ?? point?.targets[name];
        return v?.type;
      },
      functions: this.functionDecls,
    };
  }

  private infer(): void {
    const env = this.env;
    for (const [key, list] of this.functionDecls) {
      for (const f of list) {
        for (const p of f.params) if (p.type) env.set(`${key}:${p.name}`, p.type);
        if (f.returnType) env.set(`r:${key}`, f.returnType);
      }
    }
    for (const g of this.script.globals) {
      if (g.init) env.set(`g:${g.name}`, g.init.kind === "string" ? "string" : "long");
    }
    this.points.forEach((_, i) => (this.scopeKeys[i] = `h${i}`));
    for (let round = 0; round < 20; round++) {
      env.changed = false;
      for (const [key, list] of this.functionDecls) {
        for (const f of list) {
          if (f.body.kind !== "block") continue;
          typeStatement(env, this.typeScope(key, f, undefined), f.body, f);
        }
      }
      this.points.forEach((p, i) => {
        const sc = this.typeScope(this.scopeKeys[i], null, p.event);
        for (const c of p.conditions) typeExpr(env, sc, c);
        for (const b of p.bodies) typeStatement(env, sc, b, null);
      });
      if (!env.changed) break;
    }
    const c = env.conflict;
    if (c !== null) {
      const first = c.firstLoc
        ? ` (first inferred as ${c.first} at ${c.firstLoc.file}:${c.firstLoc.line}:${c.firstLoc.column})`
        : "";
      throw new SemanticError(`type mismatch (${c.type}): identifier '${c.name}'${first}`, c.loc);
    }
  }

  /** Compiles once against a throw-away runtime to find what cannot run, before any instance starts. */
  private checkCompiles(): void {
    const sink: ProbeSink = { print() {}, warning() {}, error() {}, exit() {} };
    try {
      buildInstance(this, { cpus: 1, seed: 0, rate: 0, sink }, (problem) => {
        if (!problem.unsupported) throw new SemanticError(problem.message, problem.node.loc);
        const { file, line, column } = problem.node.loc;
        if (!this.unsupported.some((u) => u.line === line && u.column === column && u.file === file)) {
          this.unsupported.push({ file, line, column, message: problem.message });
        }
      });
    } catch (err) {
      if (err instanceof CompileProblem) throw new SemanticError(err.message, err.node.loc);
      throw err;
    }
  }
}

/** A generic walk over every node of a tree. */
export function walk(node: unknown, visit: (n: A.Expr | A.Statement) => void): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const x of node) walk(x, visit);
    return;
  }
  const n = node as { kind?: string };
  if (typeof n.kind === "string") visit(node as A.Expr);
  for (const [k, v] of Object.entries(node)) {
    if (k === "loc") continue;
    if (v !== null && typeof v === "object") walk(v, visit);
  }
}

interface Handler {
  point: ResolvedPoint;
  run: (f: unknown[]) => number;
  condition: ((f: unknown[]) => unknown) | null;
  frame: unknown[];
  defaults: unknown[];
  context: [number, ContextVar][];
  interruptible: boolean;
  func: string;
  /** procfs read probes: the frame slot of `$value`. */
  valueSlot?: number;
}

interface TimerState {
  handler: Handler;
  next: number;
  spec: TimerSpec;
  cpu: number;
}

interface Instance {
  rt: Runtime;
  handlers: Handler[];
  entryHooks: Map<number, ((e: WorkloadEvent) => void)[]>;
}

function buildInstance(
  program: Program,
  options: SimRunOptions,
  onProblem: (p: CompileProblem) => void,
): Instance {
  const pid = options.stapioPid ?? 4242;
  const stapio: SimTask = makeTask({
    pid,
    ppid: pid - 2,
    uid: 0,
    execname: "stapio",
    exe: "/usr/lib/systemtap/stapio",
    argvArea: "/usr/lib/systemtap/stapio\0-R\0stap_sim\0",
    homeCpu: 0,
    index: -100,
    address: -0x777f90000000,
  });
  const rt = new Runtime(
    options.sink,
    program.limits,
    Math.max(1, options.cpus),
    stapio,
    options.epochNs ?? DEFAULT_EPOCH_NS,
    options.counters,
  );
  const compiler = new Compiler(rt, program.env, program.globals, program.functionDecls);
  // Functions: registered first (so recursion resolves), bodies compiled on first use.
  const pendingBodies: CompiledFunction[] = [];
  for (const [key, list] of program.functionDecls) {
    const compiled: CompiledFunction[] = [];
    for (const decl of list) {
      const scope = new Scope(key, decl);
      for (const p of decl.params) scope.slot(p.name);
      const fn: CompiledFunction = {
        decl,
        key,
        scope,
        body: null,
        frames: [],
        defaults: [],
        ret: program.env.get(`r:${key}`) ?? "long",
      };
      compiled.push(fn);
      pendingBodies.push(fn);
    }
    compiler.functions.set(key, compiled);
  }
  const typeOfLocal = (key: string, name: string): VarType | undefined => program.env.get(`${key}:${name}`);
  const used = usedFunctions(program);
  for (const fn of pendingBodies) {
    if (!used.has(fn.key)) {
      fn.body = () => 0;
      continue;
    }
    if (fn.decl.body.kind !== "block") {
      onProblem(
        new CompileProblem(
          `function '${fn.decl.name}' has an embedded-C body, which cannot run in the simulator`,
          fn.decl,
          true,
        ),
      );
      fn.body = () => 0;
      continue;
    }
    try {
      fn.body = compiler.stmt(fn.scope, fn.decl.body, null);
    } catch (err) {
      if (!(err instanceof CompileProblem)) throw err;
      onProblem(err);
      fn.body = () => 0;
    }
    fn.defaults = [...fn.scope.slots.keys()].map((n) => (typeOfLocal(fn.key, n) === "string" ? "" : 0));
  }
  const handlers: Handler[] = [];
  program.points.forEach((point, i) => {
    const key = program.scopeKeys[i];
    const scope = new Scope(key, null);
    const ev = point.event;
    if (ev) {
      for (const [n, v] of Object.entries(ev.vars)) scope.contextVars.set(n, v);
      for (const [n, v] of Object.entries(ev.targets)) scope.targets.set(n, v);
    }
    // A procfs read probe's `$value` is a string local, "" until the body sets it.
    const valueSlot = point.kind === "procfs" ? scope.slot(PROCFS_VALUE) : undefined;
    let run: (f: unknown[]) => number = () => 0;
    let condition: ((f: unknown[]) => unknown) | null = null;
    compiler.currentPoint = ev;
    try {
      const bodies = point.bodies.map((b) => compiler.stmt(scope, b, null));
      run = bodies.length === 1 ? bodies[0] : (f) => {
        for (const b of bodies) {
          const c = b(f);
          if (c === NEXT) return c;
        }
        return 0;
      };
      if (point.conditions.length > 0) {
        const conds = point.conditions.map((c) => compiler.expr(scope, c));
        condition = (f) => {
          for (let i = 0; i < conds.length; i++) {
            const v = conds[i](f);
            if (v === 0 || v === "") return 0;
          }
          return 1;
        };
      }
    } catch (err) {
      if (!(err instanceof CompileProblem)) throw err;
      onProblem(err);
    }
    const names = [...scope.slots.keys()];
    const defaults = names.map((n) => (typeOfLocal(key, n) === "string" || n === PROCFS_VALUE ? "" : 0));
    const context: [number, ContextVar][] = [];
    for (const [n, slot] of scope.slots) {
      const v = scope.contextVars.get(n);
      if (v) context.push([slot, v]);
    }
    handlers.push({
      point,
      run,
      condition,
      frame: defaults.slice(),
      defaults,
      context,
      interruptible: point.kind === "begin" || point.kind === "end" || point.kind === "error",
      func: ev?.func ?? "",
      valueSlot,
    });
  });
  return { rt, handlers, entryHooks: compiler.entryHooks };
}

function usedFunctions(program: Program): Set<string> {
  const used = new Set<string>();
  const visit = (key: string) => {
    if (used.has(key)) return;
    const list = program.functionDecls.get(key);
    if (!list) return;
    used.add(key);
    for (const f of list) walk(f.body, (n) => n.kind === "call" && visit(functionKey(n.name, n.args.length)));
  };
  for (const p of program.points) {
    walk(p.bodies, (n) => n.kind === "call" && visit(functionKey(n.name, n.args.length)));
    walk(p.conditions, (n) => n.kind === "call" && visit(functionKey(n.name, n.args.length)));
  }
  return used;
}

/** One running instance. */
export class Run implements ScriptRun {
  private readonly rt: Runtime;
  private readonly handlers: Handler[];
  private readonly byPoint: Handler[][] = [];
  private readonly hooks: ((e: WorkloadEvent) => void)[][] = [];
  private readonly timers: TimerState[] = [];
  private readonly workload: Workload;
  private readonly timerEvent = new WorkloadEvent();
  private readonly beEvent = new WorkloadEvent();
  private readonly jitter: Prng;
  private now = 0;

  /** Builds an instance of an analysed script (use `compileScript(…).instantiate(…)`). */
  constructor(program: Program, options: SimRunOptions) {
    const inst = buildInstance(program, options, (p) => {
      throw new SemanticError(p.message, p.node.loc);
    });
    this.rt = inst.rt;
    this.handlers = inst.handlers;
    this.workload = new Workload({ cpus: this.rt.cpus, seed: options.seed, rate: options.rate });
    this.jitter = new Prng(options.seed ^ 0x5bd1e995);
    for (const h of this.handlers) {
      const p = h.point;
      if (p.kind === "event" && p.event) {
        (this.byPoint[p.event.id] ??= []).push(h);
        this.workload.enable(p.event.id);
      } else if (p.kind === "timer" && p.timer) {
        const cpus = p.timer.perCpu ? this.rt.cpus : 1;
        for (let cpu = 0; cpu < cpus; cpu++) {
          const phase = p.timer.perCpu ? (p.timer.periodNs * cpu) / cpus : 0;
          this.timers.push({ handler: h, next: p.timer.periodNs + phase, spec: p.timer, cpu });
        }
      }
    }
    for (const [id, hooks] of inst.entryHooks) {
      this.workload.enable(id);
      this.hooks[id] = hooks;
    }
    this.workload.onHit = (e) => {
      const hooks = this.hooks[e.point];
      if (hooks !== undefined) { for (let i = 0; i < hooks.length; i++) hooks[i](e); }
      const hs = this.byPoint[e.point];
      if (hs !== undefined) { for (let i = 0; i < hs.length; i++) this.fire(hs[i], e.cpu, e); }
    };
    this.beEvent.task = this.rt.stapio;
    this.beEvent.prev = this.beEvent.next = this.rt.stapio;
  }

  /** Probe hits so far. */
  get hits(): number {
    return this.rt.hits;
  }

  /** The session state (STARTING=0, RUNNING=1, ERROR=2, STOPPING=3, STOPPED=4). */
  get state(): number {
    return this.rt.state;
  }

  /** Errors reported so far. */
  get errors(): number {
    return this.rt.errors;
  }

  /** One probe hit: the translator's probe prologue, the handler, its epilogue (flush, error accounting). */
  private fire(h: Handler, cpu: number, e: WorkloadEvent): void {
    const rt = this.rt;
    rt.hits++;
    rt.cpu = cpu;
    rt.ev = e;
    rt.now = e.time;
    rt.pp = h.point.pp;
    rt.pn = h.point.pn;
    rt.func = h.func;
    rt.actions = h.interruptible ? rt.limits.MAXACTION_INTERRUPTIBLE : rt.limits.MAXACTION;
    rt.nesting = 0;
    const f = h.frame;
    const d = h.defaults;
    for (let i = 0; i < d.length; i++) f[i] = d[i];
    const ctx = h.context;
    for (let i = 0; i < ctx.length; i++) f[ctx[i][0]] = ctx[i][1].get(e);
    let error: string | null = null;
    try {
      if (h.condition === null || h.condition(f) !== 0) h.run(f);
    } catch (err) {
      if (err instanceof ScriptRuntimeError) error = err.text();
      else if (!(err instanceof AbortSignal_) && !(err instanceof NextSignal)) {
        if (err instanceof RangeError) error = "MAXNESTING exceeded";
        else throw err;
      }
    }
    rt.flush();
    if (error !== null) rt.reportError(error);
  }

  /** Runs the begin, end or error probes that the session state allows. */
  private runBe(kind: "begin" | "end" | "error", state: number): void {
    const list = this.handlers.filter((h) => h.point.kind === kind);
    list.sort((a, b) => a.point.sequence - b.point.sequence);
    this.beEvent.time = this.now;
    for (const h of list) {
      if (this.rt.state !== state) continue;
      this.fire(h, 0, this.beEvent);
    }
  }

  /** The files of the script's procfs read probes (`/proc/systemtap/MODULE/NAME`). */
  get procfsFiles(): string[] {
    return [...new Set(this.handlers.filter((h) => h.point.kind === "procfs").map((h) => h.point.procfs!))];
  }

  /**
   * A read of the procfs file `name`: its probe runs (as a probe hit, on CPU 0) and the file's text is what it
   * left in `$value`. Undefined when no probe serves that file or the session is not running.
   */
  readProcfs(name: string): string | undefined {
    const h = this.handlers.find((x) => x.point.kind === "procfs" && x.point.procfs === name);
    if (!h || this.rt.state !== RUNNING) return undefined;
    this.beEvent.time = this.now;
    this.fire(h, 0, this.beEvent);
    return String(h.frame[h.valueSlot!]);
  }

  /** Runs the begin probes (in their sequence order) and starts the session. */
  begin(): void {
    this.rt.state = STARTING;
    this.runBe("begin", STARTING);
    if (this.rt.state === STARTING) this.rt.state = RUNNING;
  }

  /** Runs timers and workload events up to `untilNs` of virtual time, in time order. */
  advance(untilNs: number): void {
    const rt = this.rt;
    const w = this.workload;
    const timers = this.timers;
    if (timers.length === 0) {
      // No timers: only the workload's clock matters.
      while (rt.state === RUNNING && w.nextTime() <= untilNs) w.step();
      if (untilNs > this.now) this.now = untilNs;
      return;
    }
    while (rt.state === RUNNING) {
      const tw = w.nextTime();
      let tt = Infinity, ti = -1;
      for (let i = 0; i < timers.length; i++) if (timers[i].next < tt) (tt = timers[i].next), (ti = i);
      if (tw <= tt) {
        if (tw > untilNs) break;
        w.step();
      } else {
        if (tt > untilNs) break;
        const t = timers[ti];
        const e = this.timerEvent;
        e.time = tt;
        e.cpu = t.cpu;
        e.task = w.current[t.cpu];
        e.prev = e.next = e.task;
        this.fire(t.handler, t.cpu, e);
        let step = t.spec.periodNs;
        if (t.spec.randomizeNs > 0) step += (this.jitter.next() * 2 - 1) * t.spec.randomizeNs;
        t.next += Math.max(1, step);
      }
    }
    if (untilNs > this.now) this.now = untilNs;
  }

  /** Runs the end probes (or the error probes after the error limit) and stops the session. */
  end(): void {
    const rt = this.rt;
    if (rt.state === STARTING) return;
    if (rt.state === RUNNING) rt.state = STOPPING;
    this.runBe("end", STOPPING);
    this.runBe("error", ERROR);
    rt.state = STOPPED;
    // systemtap_module_exit: the summary warning when anything went wrong (no probes are skipped here).
    if (rt.errors > 0) rt.sink.warning(`Number of errors: ${rt.errors}, skipped probes: 0`);
  }
}

export { DEFAULT_LIMITS };
