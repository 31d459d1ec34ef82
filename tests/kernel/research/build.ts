/**
 * Builds the research modules (tests/kernel/research/README.md) for the lab's kernel on the host: bulk flight
 * recorders with stapfr's counters tapset and the research-only relay tapset, with the lab's fixed runtime.
 * `deno run --allow-all tests/kernel/research/build.ts OUT_DIR` writes OUT_DIR/modules/stap_fr_*.ko.
 * @module
 */
import { COUNTERS_PROBE, writeCountersTapset } from "../../../lib/driver/counters_tapset.ts";
import { findKernel } from "../machine.ts";
import { fixedRuntime } from "../runtime_fix.ts";

const NO_OVERLOAD = ["-DSTP_NO_OVERLOAD", "-DMAXSKIPPED=1000000"];
const PAD = "x".repeat(100);
/** The research scripts: name, script, more stap arguments. */
export const RESEARCH_MODULES: [string, string, string[]][] = [
  [
    "tickb",
    'global n probe begin { printf("begin\\n") } probe timer.ms(100) { n++; printf("tick %d\\n", n) } ' +
    'probe end { printf("exited\\n") }',
    [],
  ],
  ["fastb", 'global n probe timer.ms(1) { n++; printf("%d abcdefghijklmnopqrstuvwxyz\\n", n) }', NO_OVERLOAD],
  [
    "floodb",
    `global n probe timer.ms(1) { for (i = 0; i < 20; i++) { n++; printf("%d ${PAD}\\n", n) } } ` +
    'probe end { printf("exited\\n") }',
    NO_OVERLOAD,
  ],
  // Each record carries the relay's bookkeeping at the time it was written.
  [
    "fastr",
    'global n probe timer.ms(1) { n++; printf("%d %s\\n", n, stapfr_lab_relay_here()) }',
    NO_OVERLOAD,
  ],
];

if (import.meta.main) {
  const out = Deno.args[0];
  const kernel = findKernel();
  if (!out || !kernel) throw new Error("usage: build.ts OUT_DIR (and a kernel with its build tree)");
  await Deno.mkdir(`${out}/modules`, { recursive: true });
  await Deno.mkdir(`${out}/labtapset`, { recursive: true });
  const runtime = await fixedRuntime(`${out}/runtime`);
  // Writes out/stapfr_tapset/ (its -I and -E arguments are added below, with the lab's own probe).
  await writeCountersTapset(out);
  await Deno.copyFile(
    new URL("./stapfr_lab_relay.stp", import.meta.url),
    `${out}/labtapset/stapfr_lab_relay.stp`,
  );
  const probe = 'probe procfs("stapfr_lab_relay").read { $value = stapfr_lab_relay() }';
  for (const [name, script, more] of RESEARCH_MODULES) {
    const dir = await Deno.makeTempDir({ dir: out, prefix: `build-${name}-` });
    const started = Date.now();
    const r = await new Deno.Command("stap", {
      args: [
        ...["-p4", "-F", "-b", "-r", kernel.release, "-m", `stap_fr_${name}`, "-R", runtime],
        ...["-I", `${out}/stapfr_tapset`, "-I", `${out}/labtapset`, ...more, "-e", script],
        ...["-E", `${COUNTERS_PROBE} ${probe}`],
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`stap ${name}: ${new TextDecoder().decode(r.stderr)}`);
    await Deno.copyFile(`${dir}/stap_fr_${name}.ko`, `${out}/modules/stap_fr_${name}.ko`);
    console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}
