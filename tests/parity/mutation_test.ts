/**
 * Error parity with `stap -p1` on broken scripts: each example script is damaged in a few fixed ways
 * (truncated, a character dropped, a stray token inserted) and both stap and our parser must reject or accept
 * it alike, reporting the same errors: the same messages, at the same tokens and places. Skips when `stap` or
 * the examples are not installed.
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

/** Deterministic damage: the k-th mutation of a script. */
function mutate(source: string, k: number): string {
  const at = (f: number): number => Math.floor(source.length * f);
  switch (k) {
    case 0:
      return source.slice(0, at(0.37));
    case 1:
      return source.slice(0, at(0.61)) + source.slice(at(0.61) + 1);
    case 2:
      return source.slice(0, at(0.73)) + " ) " + source.slice(at(0.73));
    case 3:
      return source.slice(0, at(0.5)) + '\n%( kernel_v >= "2.6" %? }\n' + source.slice(at(0.5));
    default:
      return source.slice(0, at(0.29)) + ' "unterminated\n' + source.slice(at(0.29));
  }
}
const MUTATIONS = 5;

/** The lines that identify the errors: messages and the offending tokens with their places. */
function errorLines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => /^(parse error:|saw:|at:)/.test(l));
}

Deno.test({
  name: "parity: damaged example scripts give the same parse errors as stap -p1",
  ignore: skipReason !== "",
  async fn() {
    const env = await makeStapEnv();
    try {
      const cases: { file: string; source: string; guru: boolean; args: string[] }[] = [];
      listScripts(EXAMPLES_DIR).forEach((script, i) => {
        const source = readScript(script);
        const inv = invocationOf(script);
        for (let k = 0; k < MUTATIONS; k++) {
          const file = `${env.kernelDir}/m${i}_${k}.stp`;
          const mutated = mutate(source, k);
          Deno.writeFileSync(file, Uint8Array.from(mutated, (c) => c.charCodeAt(0)));
          cases.push({ file, source: mutated, ...inv });
        }
      });
      const stapResults = await inBatches(cases, (c) => runStap(env, c.file, c));
      const disagreements: string[] = [];
      cases.forEach((c, i) => {
        const ours = checkScript(c.source, {
          file: c.file,
          guru: c.guru,
          args: c.args,
          kernelRelease: KERNEL_RELEASE,
          arch: ARCH,
          config: CONFIG,
          tapsetDir: env.tapsetDir,
        });
        const theirs = stapResults[i];
        const theirLines = errorLines(theirs.stderr);
        const ourLines = errorLines(ours.text);
        if (ours.ok !== theirs.ok || theirLines.join("\n") !== ourLines.join("\n")) {
          disagreements.push(
            `${c.file}: stap ${theirs.ok ? "accepts" : "rejects"}, ours ${
              ours.ok ? "accepts" : "rejects"
            }\n` +
              `  stap: ${theirLines.join("\n        ")}\n  ours: ${ourLines.join("\n        ")}`,
          );
        }
      });
      const rejected = stapResults.filter((r) => !r.ok).length;
      console.log(`parity: ${cases.length - disagreements.length}/${cases.length} damaged scripts agree`);
      console.log(`parity: stap -p1 rejects ${rejected} of them`);
      for (const d of disagreements.slice(0, 30)) console.log(d);
      assertEquals(disagreements.length, 0, `${disagreements.length} damaged scripts disagree`);
    } finally {
      await env.remove();
    }
  },
});
