/**
 * Parser speed: time to check every example script of systemtap-doc (lexing, preprocessing with the tapset
 * macros, parsing), against a baseline that only lexes the same files. Falls back to a generated corpus when
 * the examples are not installed. Best of several rounds after a warm-up.
 *
 * Run: npx -y deno@2.9.6 run -A bench/parser.ts
 * @module
 */
import { checkScript, libraryMacros } from "../sim/lang/check.ts";
import { Lexer } from "../sim/lang/lexer.ts";
import { EXAMPLES_DIR, listScripts } from "../tests/parity/stap_env.ts";

const ROUNDS = 7;

function corpus(): { file: string; source: string }[] {
  try {
    return listScripts(EXAMPLES_DIR).map((file) => ({
      file,
      source: new TextDecoder("latin1").decode(Deno.readFileSync(file)),
    }));
  } catch {
    const body =
      'global n, s\nprobe timer.ms(10) { n++; s <<< n; if (n % 3 == 0) printf("%d %s\\n", n, "x") }\n';
    return Array.from({ length: 200 }, (_, i) => ({ file: `gen${i}.stp`, source: body.repeat(20) }));
  }
}

function best(work: () => void): number {
  work();
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    work();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const files = corpus();
const bytes = files.reduce((n, f) => n + f.source.length, 0);
libraryMacros(undefined); // load the tapset macros once, outside the timing

const lexMs = best(() => {
  for (const { file, source } of files) {
    const lexer = new Lexer(source, file);
    while (lexer.scan());
  }
});
const checkMs = best(() => {
  for (const { file, source } of files) checkScript(source, { file, guru: true });
});

console.log(
  `lex ${files.length} scripts (${(bytes / 1024).toFixed(0)} KiB): ${
    lexMs.toFixed(1)
  } ms (ratio 1.00 to lex)`,
);
console.log(
  `check ${files.length} scripts (${(bytes / 1024).toFixed(0)} KiB): ${checkMs.toFixed(1)} ms ` +
    `(ratio ${(checkMs / lexMs).toFixed(2)} to lex)`,
);
const lexRate = bytes / 1024 / (lexMs / 1000);
const checkRate = bytes / 1024 / (checkMs / 1000);
console.log(
  `check throughput: ${checkRate.toFixed(0)} KiB/s (ratio ${(checkRate / lexRate).toFixed(2)} to lex)`,
);
