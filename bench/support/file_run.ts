/**
 * A finished file recorder for the benchmarks: its registry record and a run of text files, the way a
 * recorder's output looks, written without running anything.
 * @module
 */

/** Writes the run's files: text lines, the way a recorder's output looks. */
export async function generate(
  runDir: string,
  base: string,
  totalMib: number,
  files: number,
): Promise<number> {
  const line = (i: number) =>
    `${String(i).padStart(10, "0")} vfs_read pid=4242 comm=postgres bytes=8192 ok\n`;
  const block: string[] = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    block.push(line(i));
    size += block[block.length - 1].length;
  }
  const chunk = new TextEncoder().encode(block.join(""));
  const perFile = Math.floor((totalMib * (1 << 20)) / files);
  let total = 0;
  for (let f = 0; f < files; f++) {
    const file = await Deno.open(`${runDir}/${base}.${f}`, { write: true, create: true, truncate: true });
    let written = 0;
    while (written < perFile) {
      const part = chunk.subarray(0, Math.min(chunk.length, perFile - written));
      let done = 0;
      while (done < part.length) done += await file.write(part.subarray(done));
      written += part.length;
    }
    file.close();
    total += written;
  }
  return total;
}

/** Registers `name` in `stateDir` as a finished file recorder whose run is `runDir` (rotated into `files`). */
export async function registerFinished(
  stateDir: string,
  name: string,
  root: string,
  runDir: string,
  bytes: number,
  files: number,
): Promise<void> {
  await Deno.writeTextFile(
    `${stateDir}/${name}.json`,
    JSON.stringify({
      format: 1,
      name,
      mode: "file",
      host: "sim",
      module: `stap_fr_${name}`,
      pid: null,
      pidStart: null,
      startedAt: new Date().toISOString(),
      scriptFile: null,
      script: "",
      buffer: null,
      output: {
        dir: `${root}/out`,
        runDir,
        base: `${name}.out`,
        rotate: { size: bytes / files, count: files },
        bulk: false,
      },
      stapArgs: [],
      cpus: 2,
      notes: [],
      endedAt: new Date().toISOString(),
    }),
  );
}
