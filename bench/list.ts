/**
 * `stapfr list` as a whole process (a state directory with a few recorders, on the simulator), against
 * `deno run` of an empty file with the same permissions: the start-up cost of the command line (goal: at most
 * 1.5 times the empty run; docs/architecture.md "Start-up" says where the time goes). The recorders are
 * build/sample_recorders.ts's: three memory recorders and a file recorder whose daemon is gone. Measured from
 * source and from the bundle (one file that holds every command, built here as `deno task bundle` builds it,
 * eager functions included, and run as its first line runs it).
 *
 * Run: npx -y deno@2.9.6 run -A bench/list.ts
 */
import { denoRunFlags, PERMISSIONS } from "../lib/self.ts";
import { fileURLToPath } from "node:url";
import { buildBundle } from "../build/bundle.ts";
import { writeSampleRecorders } from "../build/sample_recorders.ts";

const RUNS = 31;
const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

async function time(argv: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdout: "null", stderr: "null" })
    .output();
  const ms = performance.now() - start;
  if (!out.success) throw new Error(`${argv.join(" ")} failed with ${out.code}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const root = await Deno.makeTempDir({ prefix: "stapfr-bench-list-" });
try {
  const stateDir = `${root}/state`;
  await writeSampleRecorders(stateDir, root);
  const empty = `${root}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  const bundle = `${root}/stapfr.js`;
  await buildBundle(bundle);
  const env = { STAPFR_SIM_ROOT: root, STAPFR_STATE_DIR: stateDir };
  const runs = {
    source: [Deno.execPath(), "run", "--quiet", ...PERMISSIONS, CLI, "--sim", "list"],
    bundle: [Deno.execPath(), ...denoRunFlags("bundle"), ...PERMISSIONS, bundle, "--sim", "list"],
    baseline: [Deno.execPath(), "run", "--quiet", ...PERMISSIONS, empty],
  };
  // Warm the module cache (transpiled sources) before measuring.
  for (const argv of Object.values(runs)) await time(argv, env);
  const times: Record<keyof typeof runs, number[]> = { source: [], bundle: [], baseline: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const [name, argv] of Object.entries(runs)) {
      times[name as keyof typeof runs].push(await time(argv, env));
    }
  }
  const base = median(times.baseline);
  for (const name of ["source", "bundle"] as const) {
    const ms = median(times[name]);
    console.log(
      `list (4 recorders, ${name}): ${ms.toFixed(1)} ms (ratio ${
        (ms / base).toFixed(2)
      } to deno run of an empty file at ${base.toFixed(1)} ms; goal <= 1.5)`,
    );
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
