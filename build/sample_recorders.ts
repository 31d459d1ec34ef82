/**
 * A state directory of four recorders, one of them a file recorder, as a user's might hold: what `stapfr list`
 * is measured on (bench/list.ts), and what the bundle's quick commands run on when the build finds the
 * functions they run (build/eager.ts). The records are written as `start` writes them (lib/registry_record.ts),
 * on the simulator, with no module loaded and no process alive: the memory recorders' modules are gone (a
 * reboot), and the file recorder has exited, its run directory and its one file still there.
 * @module
 */

/** The recorders' names and modes. */
export const SAMPLE_RECORDERS: readonly (readonly [string, "memory" | "file"])[] = [
  ["io", "memory"],
  ["sched", "memory"],
  ["net", "memory"],
  ["vfs", "file"],
];

/**
 * Writes the sample recorders into `stateDir`; a file recorder's output directory is under `root`. They were
 * started at `startedAt` (a fixed time gives the same AGE column at every run).
 */
export async function writeSampleRecorders(
  stateDir: string,
  root: string,
  startedAt: string = new Date().toISOString(),
): Promise<void> {
  await Deno.mkdir(stateDir, { recursive: true });
  for (const [name, mode] of SAMPLE_RECORDERS) {
    const record = {
      format: 1,
      name,
      mode,
      host: "sim",
      module: `stap_fr_${name}`,
      // A stapio daemon that is gone: list checks that it is.
      pid: mode === "file" ? 999999999 : null,
      pidStart: null,
      startedAt,
      scriptFile: null,
      script: "probe begin {}",
      buffer: null,
      output: mode === "file"
        ? { dir: `${root}/out`, runDir: `${root}/out/${name}-run`, base: `${name}.out`, bulk: false }
        : null,
      stapArgs: [],
      cpus: 2,
      notes: [],
    };
    await Deno.writeTextFile(`${stateDir}/${name}.json`, JSON.stringify(record));
    if (record.output) {
      await Deno.mkdir(record.output.runDir, { recursive: true });
      await Deno.writeTextFile(
        `${record.output.runDir}/${record.output.base}`,
        "vfs.read**cat\n".repeat(100),
      );
    }
  }
}
