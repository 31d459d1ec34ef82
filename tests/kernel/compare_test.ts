import { assertEquals } from "@std/assert";
import { compareSides, intendedDifferences } from "./compare.ts";
import type { ScenarioResult } from "./runner.ts";

const step = (view: Record<string, unknown>, unmet: string[] = []) => ({
  step: "s",
  view,
  info: {},
  unmet,
  ms: 1,
});

Deno.test("compareSides counts scenarios whose every view matches, and lists the rest", () => {
  const real: ScenarioResult[] = [
    { id: "a", steps: [step({ code: 0 }), step({ state: "recording" })] },
    { id: "b", steps: [step({ code: 0 })] },
  ];
  const sim: ScenarioResult[] = [
    { id: "a", steps: [step({ code: 0 }), step({ state: "recording" })] },
    { id: "b", steps: [step({ code: 1 }, ["code: wanted 0, got 1"])] },
  ];
  const c = compareSides(real, sim, ["a", "b", "c"], new Map([["b", "on purpose"]]));
  assertEquals(c.agree, ["a"]);
  assertEquals(c.total, 3);
  assertEquals(c.differences.map((d) => [d.scenario, d.intended]), [["b", "on purpose"], ["c", undefined]]);
  assertEquals(c.unmet, ["sim b: s: code: wanted 0, got 1"]);
});

Deno.test("intendedDifferences reads only its own section", () => {
  const doc = "## Intended differences\n\n- `a-b`: why\n- not an item\n\n## Other\n\n- `c`: no\n";
  assertEquals([...intendedDifferences(doc)], [["a-b", "why"]]);
});
