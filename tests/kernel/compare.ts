/**
 * Comparing what a user sees on the real kernel and on the simulator, scenario by scenario, and the list of
 * differences that are intended (docs/kernel-lab.md "Intended differences").
 * @module
 */
import type { ScenarioResult } from "./runner.ts";

/** One step whose views differ. */
export interface Difference {
  scenario: string;
  step: string;
  real: unknown;
  sim: unknown;
  /** What each side set aside from the comparison (counts, sizes, damaged lines): the evidence of why. */
  info?: { real: unknown; sim: unknown };
  /** Why it differs on purpose, when docs/kernel-lab.md says so. */
  intended?: string;
}

/** The outcome of a comparison. */
export interface Comparison {
  /** Scenarios whose every step gave the same view on both sides. */
  agree: string[];
  /** Scenarios compared. */
  total: number;
  differences: Difference[];
  /** `want` entries a side did not meet: `side scenario: step: what`. */
  unmet: string[];
}

/**
 * The intended differences listed in a markdown document: the `- \`ID\`: reason` items under the heading
 * `## Intended differences`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const doc = "# Lab\n\n## Intended differences\n\n- `lost-sigquit`: the real loss is not forced\n\n## Next\n- `x`: no";
 * assertEquals(intendedDifferences(doc), new Map([["lost-sigquit", "the real loss is not forced"]]));
 * ```
 */
export function intendedDifferences(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let inside = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("## ")) inside = line.trim() === "## Intended differences";
    const m = inside ? /^- `([a-z0-9-]+)`: (.+)$/.exec(line) : null;
    if (m) out.set(m[1], m[2].trim());
  }
  return out;
}

/** Compares the two sides' results; a scenario missing on one side disagrees. */
export function compareSides(
  real: readonly ScenarioResult[],
  sim: readonly ScenarioResult[],
  ids: readonly string[],
  intended: ReadonlyMap<string, string> = new Map(),
): Comparison {
  const agree: string[] = [];
  const differences: Difference[] = [];
  const unmet: string[] = [];
  for (const id of ids) {
    const r = real.find((s) => s.id === id);
    const s = sim.find((x) => x.id === id);
    for (const [side, result] of [["real", r], ["sim", s]] as const) {
      for (const step of result?.steps ?? []) {
        for (const u of step.unmet) unmet.push(`${side} ${id}: ${step.step}: ${u}`);
      }
    }
    if (!r || !s) {
      differences.push({
        scenario: id,
        step: "(not run)",
        real: r ? "ran" : "missing",
        sim: s ? "ran" : "missing",
      });
      continue;
    }
    let same = r.steps.length === s.steps.length;
    for (let i = 0; i < Math.max(r.steps.length, s.steps.length); i++) {
      const a = r.steps[i];
      const b = s.steps[i];
      if (JSON.stringify(a?.view) === JSON.stringify(b?.view)) continue;
      same = false;
      differences.push({
        scenario: id,
        step: a?.step ?? b?.step ?? "?",
        real: a?.view,
        sim: b?.view,
        info: { real: a?.info, sim: b?.info },
        intended: intended.get(id),
      });
    }
    if (same) agree.push(id);
  }
  return { agree, total: ids.length, differences, unmet };
}
