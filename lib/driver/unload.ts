/**
 * Unloading a detached module with `staprun -d MODULE` (docs/systemtap-4.8.md 2.8), with the look-alike errors told apart.
 * @module
 */
import type { Host } from "../host.ts";
import { explainFailure } from "./stap_failure.ts";
import { moduleState } from "./kernel.ts";
import { runCommand } from "./run.ts";

/** Unloads a detached module; throws a stapfr error that says why when staprun refuses. */
export async function unloadModule(host: Host, module: string, recorder?: string): Promise<void> {
  const result = await runCommand([...host.staprun, "-d", module], { env: host.env });
  if (result.code === 0) return;
  throw explainFailure(result.stderr, {
    operation: "unload",
    recorder,
    module,
    moduleState: await moduleState(host.procRoot, module),
    program: "staprun",
    code: result.code,
  });
}
