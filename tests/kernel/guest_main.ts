/**
 * The lab's program inside the guest: runs the scenarios on the real kernel through the stapfr CLI and writes
 * the results to the scratch share after every scenario (so a guest that is stopped half-way still reports
 * what it did). Run by the guest's job with the plan's path as its argument.
 * @module
 */
import { runScenarios } from "./runner.ts";
import { SCENARIOS } from "./scenarios.ts";
import { realSide } from "./sides.ts";

/** What the host tells the guest. */
export interface GuestPlan {
  deno: string;
  /** The bundle, on the scratch share: no source tree or deno.json beside it. */
  stapfr: string;
  home: string;
  denoDir: string;
  modules: string;
  out: string;
  stateDir: string;
  results: string;
  /** Scenario ids to run (all when empty). */
  only: string[];
}

if (import.meta.main) {
  const plan: GuestPlan = JSON.parse(await Deno.readTextFile(Deno.args[0]));
  const side = realSide(plan);
  await Deno.mkdir(plan.out, { recursive: true });
  const scenarios = SCENARIOS.filter((s) => plan.only.length === 0 || plan.only.includes(s.id));
  const done: unknown[] = [];
  for (const scenario of scenarios) {
    const [result] = await runScenarios(side, [scenario], (line) => console.log(`lab-guest: ${line}`));
    done.push(result);
    await Deno.writeTextFile(plan.results, JSON.stringify(done));
  }
}
