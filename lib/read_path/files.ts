/**
 * The files of one file-mode run, named as stapio 4.8 names them (docs/systemtap-4.8.md 4.1): `F` then `F.N` for one
 * stream, `F_C` then `F_cpuC.N` per CPU in bulk mode. Sorted oldest to newest per stream.
 * @module
 */
import { join } from "../path.ts";

/** One output file of a run. */
export interface RunFile {
  path: string;
  name: string;
  /** The CPU of a bulk file; null for the single non-bulk stream. */
  cpu: number | null;
  /** The switch number; -1 for the first file of a stream without a suffix (`F`, `F_C`). */
  index: number;
  /** Where reading starts (default 0): lets `stop` print only what was appended. */
  offset?: number;
}

/** What follows the base in a run's file names: `.N`, `_cpuC.N` or `_C` (the first file has none). */
const SUFFIX = /^(?:\.(\d+)|_cpu(\d+)\.(\d+)|_(\d+))$/;

/**
 * Classifies a file name of a run whose base is `base`; undefined for other files.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(classify("io.out.3", "io.out"), { cpu: null, index: 3 });
 * assertEquals(classify("io.out_cpu1.0", "io.out"), { cpu: 1, index: 0 });
 * assertEquals(classify("io.out_1", "io.out"), { cpu: 1, index: -1 });
 * assertEquals(classify("io.out", "io.out"), { cpu: null, index: -1 });
 * assertEquals(classify("other", "io.out"), undefined);
 * assertEquals(classify("io.out2.1", "io.out"), undefined);
 * ```
 */
export function classify(name: string, base: string): { cpu: number | null; index: number } | undefined {
  if (!name.startsWith(base)) return undefined;
  if (name.length === base.length) return { cpu: null, index: -1 };
  const m = SUFFIX.exec(name.slice(base.length));
  if (m === null) return undefined;
  if (m[1] !== undefined) return { cpu: null, index: Number(m[1]) };
  if (m[2] !== undefined) return { cpu: Number(m[2]), index: Number(m[3]) };
  return { cpu: Number(m[4]), index: -1 };
}

/**
 * Every file of a run, sorted by CPU then switch number (oldest first). Empty when the directory is gone.
 * Synchronous, as {@linkcode totalSize} is: listing a directory and a `stat` take microseconds, where the first
 * asynchronous `readDir` of a process costs half a millisecond (`stapfr list` shows every file recorder's
 * bytes; docs/architecture.md "Start-up").
 */
export function listRunFiles(runDir: string, base: string): RunFile[] {
  const files: RunFile[] = [];
  try {
    for (const entry of Deno.readDirSync(runDir)) {
      if (!entry.isFile) continue;
      const c = classify(entry.name, base);
      if (c) files.push({ path: join(runDir, entry.name), name: entry.name, ...c });
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  files.sort((a, b) => (a.cpu ?? -1) - (b.cpu ?? -1) || a.index - b.index);
  return files;
}

/** The files grouped into streams: one for non-bulk output, one per CPU in bulk mode. */
export function streamsOf(files: RunFile[]): RunFile[][] {
  const byCpu = new Map<number | null, RunFile[]>();
  for (const f of files) {
    const list = byCpu.get(f.cpu) ?? [];
    list.push(f);
    byCpu.set(f.cpu, list);
  }
  return [...byCpu.values()];
}

/** Total size in bytes of the files (files deleted meanwhile count as 0). */
export function totalSize(files: RunFile[]): number {
  let sum = 0;
  for (const f of files) {
    try {
      sum += Deno.statSync(f.path).size;
    } catch {
      // Rotated away while we looked.
    }
  }
  return sum;
}
