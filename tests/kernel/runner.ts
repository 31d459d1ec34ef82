/**
 * Runs the lab's scenarios on one side (the real kernel inside the guest, or the simulator on the host) through
 * the stapfr CLI as child processes, and turns each step's result into a view: what a user sees, with what
 * must differ between the sides (pids, times, paths, line counts) normalised or set aside as `info`.
 * @module
 */
import type { Scenario, Step, ViewName } from "./scenarios.ts";
import { account, dumpLossView, forget, notePassed, parseLines, snapshotLoss } from "./loss_views.ts";

/** Where and how one side runs stapfr. */
export interface Side {
  kind: "real" | "sim";
  /** The argv prefix that runs stapfr (with `--sim` on the simulator). */
  stapfr: string[];
  /** The argv prefix that runs staprun (for loading an orphan behind stapfr's back). */
  staprun: string[];
  env: Record<string, string>;
  /** `/proc`, or the simulator's `ROOT/proc`. */
  procRoot: string;
  stateDir: string;
  /** Where the prebuilt `stap_fr_NAME.ko` files are. */
  modules: string;
  /** A directory for file recorders. */
  out: string;
  /** Longest wait for one stapfr command before it is killed. */
  commandLimitMs: number;
}

/** What one step gave. */
export interface StepResult {
  step: string;
  /** What the sides must agree on. */
  view: Record<string, unknown>;
  /** Set aside from the comparison (counts, sizes, timings), reported when they differ. */
  info: Record<string, unknown>;
  /** The step's `want` entries this side did not meet. */
  unmet: string[];
  ms: number;
  raw?: { code: number; stdout: string; stderr: string };
}

/** What one scenario gave. */
export interface ScenarioResult {
  id: string;
  steps: StepResult[];
}

interface Raw {
  code: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

const decoder = new TextDecoder();

function fill(arg: string, side: Side): string {
  return arg.replaceAll("{modules}", side.modules).replaceAll("{out}", side.out);
}

/** A line with the side's own paths replaced and every number written `N`. */
export function normaliseLine(line: string, side: Pick<Side, "modules" | "out" | "stateDir">): string {
  // The simulator's hints name its own flag ("stapfr --sim stop NAME"): what must differ.
  return line.replaceAll(side.modules, "{modules}").replaceAll(side.out, "{out}")
    .replaceAll(side.stateDir, "{state}").replaceAll("stapfr --sim ", "stapfr ").replace(/[0-9]+/g, "N");
}

function textLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Runs stapfr to its end (killed at the side's limit). */
async function stapfr(side: Side, args: string[], env: Record<string, string>): Promise<Raw> {
  const child = new Deno.Command(side.stapfr[0], {
    args: [...side.stapfr.slice(1), "--state-dir", side.stateDir, ...args],
    env: { ...side.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, side.commandLimitMs);
  try {
    const out = await child.output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `stapfr attach NAME` in a process group of its own (as a terminal would run it); once `lines` lines
 * arrived (or the side's limit passed), `signal` goes to stapfr alone.
 */
/**
 * Runs `stapfr watch NAME ARGS…` in the background, fires its signal trigger with `stapfr trigger`, waits for
 * the snapshots the signal and the marker trigger take, then SIGTERM: which decisions it logged.
 */
async function watch(side: Side, name: string, args: string[], env: Record<string, string>): Promise<Raw> {
  const cmd = (more: string[]) =>
    new Deno.Command(side.stapfr[0], {
      args: [...side.stapfr.slice(1), "--state-dir", side.stateDir, ...more],
      env: { ...side.env, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  const child = cmd(["watch", name, ...args]).spawn();
  const log: string[] = [];
  const pump = (async () => {
    let rest = "";
    for await (const chunk of child.stderr) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      log.push(...parts);
    }
  })();
  const until = async (re: RegExp) => {
    const deadline = Date.now() + side.commandLimitMs;
    while (!log.some((l) => re.test(l)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    await until(/ watch started /);
    await cmd(["trigger", name, "--reason", "lab"]).output();
    await until(/ signal snapshot /);
    await until(/ marker .* snapshot /);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // Ended by itself.
    }
  }
  const status = await child.status;
  await pump;
  await child.stdout.cancel();
  return { code: status.code, stdout: "", stderr: log.join("\n") };
}

async function attach(
  side: Side,
  name: string,
  lines: number,
  signal: Deno.Signal,
  env: Record<string, string>,
): Promise<Raw> {
  const child = new Deno.Command(side.stapfr[0], {
    args: [...side.stapfr.slice(1), "--state-dir", side.stateDir, "attach", name],
    env: { ...side.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const chunks: Uint8Array[] = [];
  let newlines = 0;
  let signalled = false;
  const send = () => {
    if (signalled) return;
    signalled = true;
    try {
      child.kill(signal);
    } catch {
      // Ended by itself.
    }
  };
  const limit = setTimeout(send, side.commandLimitMs / 2);
  const hard = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
  }, side.commandLimitMs);
  try {
    for await (const chunk of child.stdout) {
      chunks.push(chunk);
      for (const b of chunk) if (b === 10) newlines++;
      if (newlines >= lines) send();
    }
    const status = await child.status;
    const stdout = decoder.decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    return { code: status.code, stdout, stderr: await stderrText };
  } finally {
    clearTimeout(limit);
    clearTimeout(hard);
  }
}

/** Which of the modules are loaded, and whether each has its control directory. */
async function moduleStates(side: Side, names: string[]): Promise<Record<string, string>> {
  let table = "";
  try {
    table = await Deno.readTextFile(`${side.procRoot}/modules`);
  } catch {
    // No module was ever loaded (the simulator writes the file on the first load).
  }
  const loaded = new Set(table.split("\n").map((l) => l.split(" ")[0]));
  const out: Record<string, string> = {};
  for (const name of names) {
    let control = false;
    try {
      control = (await Deno.stat(`${side.procRoot}/systemtap/${name}`)).isDirectory;
    } catch {
      // None.
    }
    out[name] = loaded.has(name)
      ? (control ? "loaded+control" : "loaded")
      : (control ? "control only" : "absent");
  }
  return out;
}

/** Numbers seen so far per recorder on this side (a start forgets them). */
type Seen = Map<string, Set<number>>;

const seenBySide = new WeakMap<Side, Seen>();

const TICK_LINE = /^tick ([0-9]+)$/;
const NUMBERED_LINE = /^([0-9]+) x{100}$/;

/**
 * Report lines whose presence depends on where a read met the ring and how fast it filled, on either side:
 * what the cleaner cut, output that arrived while detaching beyond the ring's capacity, and the part of a line
 * a killed stapio was writing. They are kept as
 * information; the view compares what they are about (clean lines, within capacity).
 */
function informational(line: string): boolean {
  return line.startsWith("stapfr: Cut ") ||
    line.startsWith("stapfr: The dump stopped at the ring's capacity") ||
    line.startsWith("stapfr: Left out ") ||
    // What a read lost, by cause, depends on the rate and on where the read met the ring: the loss views
    // check it against the scripts' counters (tests/kernel/loss_views.ts).
    line.endsWith("(docs/loss-accounting.md)");
}

function linesView(
  raw: Raw,
  side: Side,
  kind: "ticks" | "numbered",
  seen: Set<number>,
  capacity?: number,
): { view: Record<string, unknown>; info: Record<string, unknown> } {
  const lines = textLines(raw.stdout);
  const pattern = kind === "ticks" ? TICK_LINE : NUMBERED_LINE;
  const fixed = kind === "ticks" ? ["begin", "exited"] : ["exited"];
  const nums: number[] = [];
  let damaged = 0;
  // The first few damaged lines and where they were, for the report (a view that is not clean says why).
  const damage: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = pattern.exec(line);
    if (m) nums.push(Number(m[1]));
    else if (!fixed.includes(line) && damaged++ < 3) {
      damage.push(
        `line ${i + 1} of ${lines.length}: ${JSON.stringify(line.slice(0, 160))} (${line.length} chars)`,
      );
    }
  }
  let before = 0;
  for (const n of seen) before = Math.max(before, n);
  const repeats = nums.filter((n) => seen.has(n)).length;
  for (const n of nums) seen.add(n);
  const increasing = nums.every((n, i) => i === 0 || n > nums[i - 1]);
  let min = Infinity;
  let max = 0;
  for (const n of nums) (min = Math.min(min, n)), (max = Math.max(max, n));
  const bytes = new TextEncoder().encode(raw.stdout).length;
  const view: Record<string, unknown> = {
    code: raw.code,
    // What the line cleaner cut, and why, depends on where a read met the ring (on both sides): the counts
    // are in the info; the view compares that the output is clean.
    stderr: textLines(raw.stderr).filter((l) => !informational(l)).map((l) => normaliseLine(l, side)),
    clean: damaged === 0,
    first: lines.length ? normaliseLine(lines[0], side) : null,
    last: lines.length ? normaliseLine(lines.at(-1)!, side) : null,
    repeats,
  };
  // Missing numbers between the lowest and the highest this read gave (lines the recorder lost).
  const gaps: string[] = [];
  const sorted = [...nums].sort((a, b) => a - b);
  let missing = 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] - sorted[i - 1] > 1) {
      missing += sorted[i] - sorted[i - 1] - 1;
      if (gaps.length < 5) gaps.push(`${sorted[i - 1] + 1}-${sorted[i] - 1}`);
    }
  }
  if (kind === "ticks") {
    view.complete = missing === 0;
    view.increasing = increasing;
    view.continues = nums.length === 0 || min > before;
  } else {
    view.unique = new Set(nums).size === nums.length;
    // Whether older lines are gone depends on the output rate (an emulated kernel's differs from the
    // simulator's): compared only where a step is about a full ring (it states the capacity).
    if (capacity !== undefined) {
      view.wrapped = nums.length > 0 && min > 1;
      view.withinCapacity = bytes <= capacity;
    }
  }
  return {
    view,
    info: {
      cut: textLines(raw.stderr).filter(informational),
      wrapped: nums.length > 0 && min > 1,
      lines: lines.length,
      bytes,
      damaged,
      damage,
      increasing,
      numbers: nums.length ? [min, max] : [],
      missing,
      gaps,
      count: lines.length,
      timedOut: raw.timedOut ?? false,
    },
  };
}

function viewOf(
  name: ViewName,
  raw: Raw,
  side: Side,
  seen: Set<number>,
  capacity?: number,
): { view: Record<string, unknown>; info: Record<string, unknown> } {
  const norm = (text: string) => textLines(text).map((l) => normaliseLine(l, side));
  if (name === "ticks" || name === "numbered") return linesView(raw, side, name, seen, capacity);
  if (name === "list") {
    let recorders: unknown = null;
    try {
      recorders = JSON.parse(raw.stdout).recorders.map((r: Record<string, string>) => [
        r.name,
        r.mode,
        r.state,
        r.module,
      ]);
    } catch {
      recorders = norm(raw.stdout);
    }
    return { view: { code: raw.code, recorders, stderr: norm(raw.stderr) }, info: {} };
  }
  if (name === "snapshot") {
    try {
      const m = JSON.parse(raw.stdout);
      return {
        view: {
          code: raw.code,
          mode: m.mode,
          reason: m.reason,
          trigger: m.trigger?.kind,
          wrapped: m.wrapped,
          contiguous: m.contiguous,
          hasData: m.lines > 0 && m.files.length > 0,
          sums: m.bytes === m.files.reduce((n: number, f: { bytes: number }) => n + f.bytes, 0),
        },
        info: { files: m.files.length, lines: m.lines, gap: m.gap_reason, evidence: m.wrapped_evidence },
      };
    } catch {
      return { view: { code: raw.code, stdout: norm(raw.stdout), stderr: norm(raw.stderr) }, info: {} };
    }
  }
  if (name === "watch") {
    const lines = textLines(raw.stderr);
    const saw = (re: RegExp) => lines.some((l) => re.test(l));
    return {
      view: {
        code: raw.code,
        started: saw(/ watch started /),
        signal: saw(/ signal snapshot /),
        marker: saw(/ marker .* snapshot /),
        exited: saw(/ watch exited /),
      },
      info: { log: lines.slice(-20) },
    };
  }
  if (name === "status") {
    try {
      const d = JSON.parse(raw.stdout);
      const files: string[] = (d.files ?? []).map((f: { name: string }) => f.name.replace(/[0-9]+$/, "N"));
      return {
        view: {
          code: raw.code,
          name: d.name,
          mode: d.mode,
          state: d.state,
          module: d.module,
          cpus: d.cpus,
          bulk: d.bulk,
          rotate: d.rotate,
          fileSeries: [...new Set(files)].sort(),
          notes: (d.notes ?? []).map((n: string) => normaliseLine(n, side)),
        },
        info: { files: (d.files ?? []).map((f: { name: string; size: number }) => `${f.name} ${f.size}`) },
      };
    } catch {
      return { view: { code: raw.code, stdout: norm(raw.stdout), stderr: norm(raw.stderr) }, info: {} };
    }
  }
  return { view: { code: raw.code, stdout: norm(raw.stdout), stderr: norm(raw.stderr) }, info: {} };
}

/** The `want` entries the view (or info) does not meet. */
export function unmet(want: Record<string, unknown> | undefined, got: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(want ?? {})) {
    if (JSON.stringify(got[key]) !== JSON.stringify(value)) {
      out.push(`${key}: wanted ${JSON.stringify(value)}, got ${JSON.stringify(got[key])}`);
    }
  }
  return out;
}

function describe(step: Step): string {
  if ("run" in step) return `stapfr ${step.run.join(" ")}`;
  if ("attach" in step) return `stapfr attach ${step.attach}, then ${step.signal}`;
  if ("modules" in step) return `modules ${step.modules.join(" ")}`;
  if ("pause" in step) return `pause ${step.pause} ms`;
  if ("registered" in step) return "the recorders registered";
  if ("killDaemon" in step) return `SIGKILL the stapio daemon of ${step.killDaemon}`;
  if ("watch" in step) return `stapfr watch ${step.watch} ${step.args.join(" ")}, then stapfr trigger`;
  if ("account" in step) return `the account of ${step.account}${step.snapshots ? "'s snapshots" : ""}`;
  return `staprun -L stap_fr_${step.loadOrphan}.ko behind stapfr's back`;
}

async function runStep(side: Side, step: Step, seen: Seen, env: Record<string, string>): Promise<StepResult> {
  const started = Date.now();
  const done = (
    view: Record<string, unknown>,
    info: Record<string, unknown>,
    raw?: Raw,
    want?: Record<string, unknown>,
  ): StepResult => ({
    step: describe(step),
    view,
    info,
    unmet: unmet(want, { ...info, ...view }),
    ms: Date.now() - started,
    raw: raw && { code: raw.code, stdout: raw.stdout.slice(0, 2000), stderr: raw.stderr.slice(0, 4000) },
  });
  if ("pause" in step) {
    await new Promise((r) => setTimeout(r, step.pause));
    return done({}, {});
  }
  if ("modules" in step) {
    const states = await moduleStates(side, step.modules);
    return done(states, {}, undefined, step.want);
  }
  if ("registered" in step) {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(side.stateDir)) {
        if (e.isFile && !e.name.startsWith(".") && e.name.endsWith(".json")) {
          names.push(e.name.slice(0, -".json".length));
        }
      }
    } catch {
      // No state directory yet: nothing registered.
    }
    return done({ registered: names.sort() }, {}, undefined, step.want);
  }
  if ("killDaemon" in step) {
    const record = JSON.parse(await Deno.readTextFile(`${side.stateDir}/${step.killDaemon}.json`));
    let killed = false;
    if (typeof record.pid === "number" && record.pid > 0) {
      Deno.kill(record.pid, "SIGKILL");
      killed = true;
    }
    // Wait until it is gone (a zombie of nobody's is reaped by init at once).
    for (let i = 0; i < 200 && killed; i++) {
      try {
        Deno.kill(record.pid, "SIGCONT");
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return done({ killed }, {});
  }
  if ("loadOrphan" in step) {
    const out = await new Deno.Command(side.staprun[0], {
      args: [...side.staprun.slice(1), "-L", `${side.modules}/stap_fr_${step.loadOrphan}.ko`],
      env: { ...side.env, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const raw = { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
    return done({ code: raw.code }, {}, raw);
  }
  if ("account" in step) {
    const got = account(side, step.account, { total: step.total, snapshots: step.snapshots });
    return done({ exact: got.exact }, got, undefined, step.want);
  }
  if ("watch" in step) {
    const raw = await watch(side, step.watch, step.args.map((a) => fill(a, side)), env);
    const { view, info } = viewOf("watch", raw, side, new Set());
    return done(view, info, raw, step.want);
  }
  // The recorder a command is about: `start NAME`, `dump NAME`, `stop NAME …` (a new start forgets its lines).
  const recorder = "attach" in step ? step.attach : (step.run[1] ?? "");
  if ("run" in step && step.run[0] === "start") {
    seen.delete(recorder);
    forget(side, recorder);
  }
  if (!seen.has(recorder)) seen.set(recorder, new Set());
  const raw = "attach" in step
    ? await attach(side, step.attach, step.lines, step.signal, env)
    : await stapfr(side, step.run.map((a) => fill(a, side)), env);
  // The recorder a `--json` command reads is its last argument.
  const reads = "run" in step ? step.run.filter((a) => !a.startsWith("-"))[1] ?? recorder : recorder;
  if (step.view === "loss") {
    const { view, info } = await dumpLossView(raw, side, reads, "run" in step && step.shape === true);
    loosen(step, view, info);
    return done(view, info, raw, step.want);
  }
  const { view, info } = viewOf(
    step.view,
    raw,
    side,
    seen.get(recorder)!,
    "run" in step ? step.capacity : undefined,
  );
  if (step.view === "ticks" || step.view === "numbered") {
    notePassed(side, recorder, parseLines(raw.stdout).numbers);
  }
  loosen(step, view, info);
  if (step.view === "snapshot" && raw.code === 0) {
    try {
      const loss = await snapshotLoss(JSON.parse(raw.stdout), side, reads);
      Object.assign(view, loss.view);
      Object.assign(info, loss.info);
    } catch {
      // Not a manifest: the view says what it was.
    }
  }
  return done(view, info, raw, step.want);
}

/** Moves a step's `loose` fields from what is compared to what is only reported. */
function loosen(step: Step, view: Record<string, unknown>, info: Record<string, unknown>): void {
  for (const key of "run" in step ? step.loose ?? [] : []) {
    info[key] = view[key];
    delete view[key];
  }
}

/** Runs the scenarios in order on one side; `log` hears each step as it ends. */
export async function runScenarios(
  side: Side,
  scenarios: readonly Scenario[],
  log: (text: string) => void = () => {},
): Promise<ScenarioResult[]> {
  const seen = seenBySide.get(side) ?? new Map();
  seenBySide.set(side, seen);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const env = side.kind === "sim" ? scenario.simEnv ?? {} : {};
    const steps: StepResult[] = [];
    for (const step of scenario.steps) {
      const r = await runStep(side, step, seen, env);
      log(
        `[${side.kind}] ${scenario.id}: ${r.step} (${r.ms} ms)${r.unmet.length ? " UNMET " + r.unmet : ""}`,
      );
      steps.push(r);
    }
    results.push({ id: scenario.id, steps });
  }
  return results;
}
