/**
 * Parity of the simulator's parser with the real `stap -p1` over every example script of systemtap-doc:
 * both must accept or reject each script, given the same guru flag and positional arguments (taken from the
 * example's `.meta` test line). Skips when `stap` or the examples are not installed.
 */

import { assertEquals } from "@std/assert";
import { checkScript } from "../../sim/lang/check.ts";
import {
  ARCH,
  CONFIG,
  EXAMPLES_DIR,
  inBatches,
  invocationOf,
  KERNEL_RELEASE,
  listScripts,
  makeStapEnv,
  readScript,
  runStap,
  skipReason,
} from "./stap_env.ts";

if (skipReason) console.log(`parity: skipped, ${skipReason}`);

Deno.test({
  name: "parity: the parser accepts and rejects the example scripts as stap -p1 does",
  ignore: skipReason !== "",
  async fn() {
    const env = await makeStapEnv();
    try {
      const scripts = listScripts(EXAMPLES_DIR);
      const invocations = scripts.map(invocationOf);
      const stapResults = await inBatches(
        scripts.map((s, i) => ({ s, inv: invocations[i] })),
        ({ s, inv }) => runStap(env, s, inv),
      );
      const disagreements: string[] = [];
      scripts.forEach((script, i) => {
        const inv = invocations[i];
        const ours = checkScript(readScript(script), {
          file: script,
          guru: inv.guru,
          args: inv.args,
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir: env.tapsetDir,
        });
        const theirs = stapResults[i];
        if (ours.ok !== theirs.ok) {
          disagreements.push(
            `${script} (guru ${inv.guru}, args ${JSON.stringify(inv.args)}): ` +
              `stap ${theirs.ok ? "accepts" : "rejects"}, ours ${ours.ok ? "accepts" : "rejects"}\n` +
              (theirs.ok ? "" : `  stap: ${theirs.stderr.split("\n").slice(0, 4).join("\n        ")}\n`) +
              (ours.ok ? "" : `  ours: ${ours.text.split("\n").slice(0, 4).join("\n        ")}\n`),
          );
        }
      });
      const rejected = stapResults.filter((r) => !r.ok).length;
      console.log(`parity: ${scripts.length - disagreements.length}/${scripts.length} example scripts agree`);
      console.log(`parity: stap -p1 rejects ${rejected} of them (bad arguments, missing -g and the like)`);
      for (const d of disagreements) console.log(d);
      assertEquals(disagreements.length, 0, `${disagreements.length} example scripts disagree`);
    } finally {
      await env.remove();
    }
  },
});
