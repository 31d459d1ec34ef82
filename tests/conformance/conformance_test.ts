/**
 * Conformance (issue 6): the simulated module drives Debian's real `stapio` 4.8, and the real stapio and the
 * simulator's stapio, given the same command lines against identical module hosts, show the user the same
 * stdout, stderr, exit statuses, file names and file bytes. Skips (with the reason) where stapio or gcc is
 * missing. The scenarios are in `scenarios.ts`, the two sides in `sides.ts`, the shim in `shim/`.
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { type Entry, Recording } from "./recording.ts";
import { type Scenario, scenarios } from "./scenarios.ts";
import { RealSide, type Side, type SimKnobs, SimSide, STAPIO } from "./sides.ts";

/** `CONFORMANCE_ONLY=text` runs the scenarios whose name contains the text (when debugging one). */
const ONLY = Deno.env.get("CONFORMANCE_ONLY");
const selected = ONLY ? scenarios.filter((s) => s.name.includes(ONLY)) : scenarios;

const KNOBS: SimKnobs = { cpus: 2, seed: 7, rate: 50 };
/**
 * Scenarios run at once (each has two sides, each side a few Deno processes). Two on two cores: with five, the
 * load made the real stapio hang now and then in "exit() while detached" (README "Open").
 */
const PARALLEL = 2;

/** Why the test cannot run here, or undefined when it can. */
async function missingTools(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  try {
    const info = await Deno.stat(STAPIO);
    if (!info.isFile || ((info.mode ?? 0) & 0o111) === 0) return `${STAPIO} is not executable`;
  } catch {
    return `${STAPIO} is missing (apt-get install systemtap-runtime)`;
  }
  try {
    const { success } = await new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    if (!success) return "gcc does not run";
  } catch {
    return "gcc is missing";
  }
  return undefined;
}

/** Compiles the shim into `dir`; returns the library's path. */
async function buildShim(dir: string): Promise<string> {
  const source = new URL("./shim/stapio_shim.c", import.meta.url).pathname;
  const out = `${dir}/stapio_shim.so`;
  const result = await new Deno.Command("gcc", {
    args: ["-shared", "-fPIC", "-O2", "-Wall", "-o", out, source, "-ldl"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) throw new Error(`gcc failed: ${new TextDecoder().decode(result.stderr)}`);
  return out;
}

interface SideResult {
  entries: Entry[];
  onlyHere: Entry[];
}

const DEBUG = Deno.env.get("CONFORMANCE_DEBUG") === "1";

async function runSide(side: Side, scenario: Scenario): Promise<SideResult> {
  const r = new Recording(side);
  if (DEBUG) {
    const note = r.note.bind(r);
    r.note = (label, value) => {
      console.error(`[${side.kind}] ${scenario.name}: ${label}: ${JSON.stringify(value).slice(0, 300)}`);
      note(label, value);
    };
  }
  try {
    await scenario.run(r);
  } catch (err) {
    r.note("error", err instanceof Error ? err.message : String(err));
  } finally {
    if (DEBUG) console.error(`[${side.kind}] ${scenario.name}: cleanup`);
    await side.cleanup();
    if (DEBUG) console.error(`[${side.kind}] ${scenario.name}: cleaned up`);
  }
  return { entries: r.entries, onlyHere: r.onlyHere };
}

async function makeSetup(base: string, kind: string, index: number) {
  const dir = `${base}/s${index}-${kind}`;
  const root = `${dir}/root`;
  const work = `${dir}/work`;
  await Deno.mkdir(root, { recursive: true });
  await Deno.mkdir(work, { recursive: true });
  return { root, work, knobs: KNOBS };
}

/** A readable account of where two recordings differ. */
function differences(real: Entry[], sim: Entry[]): string[] {
  const out: string[] = [];
  const n = Math.max(real.length, sim.length);
  for (let i = 0; i < n; i++) {
    const a = real[i];
    const b = sim[i];
    const ja = JSON.stringify(a);
    const jb = JSON.stringify(b);
    if (ja === jb) continue;
    out.push(
      `    ${a?.[0] ?? b?.[0]}:\n      real: ${clip(JSON.stringify(a?.[1]))}\n      sim:  ${
        clip(JSON.stringify(b?.[1]))
      }`,
    );
  }
  return out;
}

function clip(text = "undefined"): string {
  return text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
}

const skip = await missingTools();
if (skip) console.log(`conformance: skipped: ${skip}`);

Deno.test({
  name: "conformance: Debian's stapio 4.8 and the simulator's stapio show the same",
  ignore: skip !== undefined,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "stapfr-conformance-" });
    try {
      const tools = `${base}/tools`;
      await Deno.mkdir(tools);
      const shim = await buildShim(tools);
      const outcomes: { scenario: Scenario; real: SideResult; sim: SideResult }[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < selected.length) {
          const index = next++;
          const scenario = selected[index];
          const real = new RealSide(await makeSetup(base, "real", index), shim, tools);
          await real.prepare();
          const sim = new SimSide(await makeSetup(base, "sim", index));
          const [a, b] = await Promise.all([runSide(real, scenario), runSide(sim, scenario)]);
          outcomes[index] = { scenario, real: a, sim: b };
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));

      let agree = 0;
      const report: string[] = [];
      for (const { scenario, real, sim } of outcomes) {
        const diff = differences(real.entries, sim.entries);
        if (diff.length === 0) {
          agree++;
          report.push(`  agree: ${scenario.name}`);
        } else report.push(`  DIFFER: ${scenario.name}\n${diff.join("\n")}`);
        // What the real stapio ran to unload: `SYSTEMTAP_STAPRUN -d -C auto NAME` (docs/systemtap-4.8.md 2.5).
        for (const [label, value] of real.onlyHere) {
          const commands = value as string[];
          const bad = commands.length !== 1 || !/^-d -C auto stap_[a-z0-9_]+$/.test(commands[0]);
          if (bad) report.push(`  unexpected ${label} in "${scenario.name}": ${JSON.stringify(commands)}`);
        }
      }
      console.log(report.join("\n"));
      console.log(`conformance: ${agree}/${outcomes.length} scenarios agree`);
      assert(ONLY !== undefined || outcomes.length >= 12, "Expected at least 12 scenarios");
      assertEquals(agree, outcomes.length, "Some scenarios differ between the real and the simulated stapio");
      assert(
        !report.some((l) => l.startsWith("  unexpected")),
        "The real stapio ran an unexpected unload command",
      );
    } finally {
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});
