/**
 * `plan`: runs a script briefly as a temporary bulk file recorder (one file per CPU, so each CPU's rate is
 * measured; on the simulator, the simulator's), measures its output rate per CPU after it has started, stops
 * it and removes everything it made, then recommends buffers with {@linkcode planBuffers}.
 * @module
 */
import { StapfrError, UsageError } from "../errors.ts";
import { join } from "../path.ts";
import { declared } from "../declarations/declared.ts";
import { sleep } from "../driver/run.ts";
import { listRunFiles } from "../read_path/files.ts";
import { Registry } from "../registry.ts";
import type { ScriptSource } from "../driver/launch.ts";
import { type Plan, planBuffers } from "./planner.ts";
import type { Engine } from "./engine.ts";
import { startRecorder } from "./start.ts";
import { stopRecorder } from "./stop.ts";

/** What to plan for. */
export interface PlanOptions {
  /** The script: `{ file }` or `{ text }`. */
  script: ScriptSource;
  /** The window to keep, in milliseconds. */
  windowMs: number;
  /** How long to measure (default 10 s). */
  measureMs?: number;
  /** More arguments for stap. */
  stapArgs?: string[];
  /** Aborting it cancels the plan: what it started is stopped and removed, and it throws an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Aborting it ends the measurement early (what was measured so far is used); before the measurement began
   * it cancels as `signal` does.
   */
  until?: AbortSignal;
}

async function perCpuBytes(runDir: string, base: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const f of listRunFiles(runDir, base)) {
    const size = (await Deno.stat(f.path).catch(() => undefined))?.size ?? 0;
    sizes.set(String(f.cpu ?? 0), (sizes.get(String(f.cpu ?? 0)) ?? 0) + size);
  }
  return sizes;
}

/** Measures the script's output rate per CPU and recommends `--buffer` and `--rotate`. */
export async function planRecorder(
  engine: Engine,
  options: PlanOptions,
): Promise<Plan & { measured_seconds: number }> {
  if (options.windowMs <= 0) throw new UsageError(`Invalid "--window": it must be longer than 0`);
  const measureMs = options.measureMs ?? declared("plan", "measure").default!;
  if (measureMs < 500) throw new UsageError(`Invalid "--measure": at least 500ms`);
  const temp = await Deno.makeTempDir({ prefix: "stapfr-plan-" });
  // A registry of its own: the measuring recorder never shows among the user's recorders.
  const scratch: Engine = { ...engine, registry: new Registry(join(temp, "state")) };
  const name = `plan_${Deno.pid}`;
  let started = false;
  try {
    const detail = await startRecorder(scratch, {
      name,
      script: options.script,
      output: join(temp, "out"),
      bulk: true,
      stapArgs: options.stapArgs,
      signal: options.signal && options.until
        ? AbortSignal.any([options.signal, options.until])
        : options.signal ?? options.until,
    });
    started = true;
    const runDir = detail.run_dir!;
    const base = `${name}.out`;
    const before = await perCpuBytes(runDir, base);
    const t0 = performance.now();
    const deadline = t0 + measureMs;
    while (performance.now() < deadline && !options.signal?.aborted && !options.until?.aborted) {
      await sleep(Math.min(200, deadline - performance.now()));
    }
    if (options.signal?.aborted) throw new DOMException("Plan cancelled", "AbortError");
    const after = await perCpuBytes(runDir, base);
    const seconds = (performance.now() - t0) / 1000;
    const rates: Record<string, number> = {};
    for (let cpu = 0; cpu < (detail.cpus ?? after.size); cpu++) {
      const key = String(cpu);
      rates[key] = Math.max(0, ((after.get(key) ?? 0) - (before.get(key) ?? 0)) / seconds);
    }
    if (Object.values(rates).every((r) => r === 0)) {
      throw new StapfrError(`The script wrote nothing in ${seconds.toFixed(1)} s of measuring`, {
        hint: 'Measure longer ("--measure"), or check that its probes fire',
      });
    }
    return { ...planBuffers(rates, options.windowMs / 1000, engine.host.kind), measured_seconds: seconds };
  } finally {
    if (started) await stopRecorder(scratch, name, () => Promise.resolve()).catch(() => {});
    await Deno.remove(temp, { recursive: true }).catch(() => {});
  }
}
