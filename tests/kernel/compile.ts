/**
 * Compiles the lab's modules with `stapfr build` before anything boots: on the host for the guest's kernel
 * (with the fixed runtime, `-- -R DIR`), and on the simulator for its own. The guest cannot compile (stap in
 * an emulated guest takes minutes per script), and two builds at a time use both cores of these machines.
 * @module
 */
import type { LabModule } from "./scenarios.ts";

/** One finished build. */
export interface Built {
  name: string;
  seconds: number;
}

/** Builds every module into `outDir` with `stapfr` (argv prefix, `--sim` included for the simulator). */
export async function buildModules(options: {
  stapfr: string[];
  env: Record<string, string>;
  modules: readonly LabModule[];
  outDir: string;
  kernel?: string;
  stapArgs?: string[];
  parallel?: number;
}): Promise<Built[]> {
  const queue = [...options.modules];
  const built: Built[] = [];
  const worker = async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      const started = Date.now();
      const args = [
        ...options.stapfr.slice(1),
        "build",
        m.name,
        "-e",
        m.script,
        "--out-dir",
        options.outDir,
        ...(options.kernel ? ["--kernel", options.kernel] : []),
        ...(m.bulk ? ["--bulk"] : []),
        ...(options.stapArgs?.length || m.stapArgs?.length
          ? ["--", ...(options.stapArgs ?? []), ...(m.stapArgs ?? [])]
          : []),
      ];
      const out = await new Deno.Command(options.stapfr[0], {
        args,
        env: options.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (out.code !== 0) {
        throw new Error(
          `stapfr build ${m.name} exited ${out.code}: ${new TextDecoder().decode(out.stderr).slice(0, 3000)}`,
        );
      }
      built.push({ name: m.name, seconds: (Date.now() - started) / 1000 });
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
  return built;
}
