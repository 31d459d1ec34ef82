/**
 * The names stapio 4.8 gives its output files (docs/systemtap-4.8.md 4.1, `make_outfile_name`): `F`, `F.k`, `F_<cpu>`,
 * `F_cpu<cpu>.k` and `stpd_cpu<cpu>`, where `F` is the `-o` path made absolute and passed through strftime at
 * the moment each file is opened.
 * @module
 */
import { join } from "../../lib/path.ts";
import { strftime } from "./strftime.ts";

/** Longest expanded name stapio accepts: PATH_MAX minus room for its suffixes. */
export const MAX_EXPANDED_NAME = 4096 - 21;

/** What a file name depends on. */
export interface OutfileNameOptions {
  /** The `-o` path, already absolute; undefined when `-o` was not given (bulk mode then writes `stpd_cpuN`). */
  template: string | undefined;
  /** File number; -1 for the unsuffixed first file (no `-S`, before any SIGUSR2 switch). */
  fnum: number;
  cpu: number;
  bulk: boolean;
  /** When the file is opened (strftime's time). */
  time: Date;
  /** stapio's working directory, for `stpd_cpuN`. */
  cwd?: string;
}

/** The expanded name is too long, or strftime failed (stapio: `Filename format is invalid or too long`). */
export class OutfileNameError extends Error {
  override name = "OutfileNameError";
}

/**
 * Makes `-o FILE` absolute against stapio's working directory, as stapio does before daemonising
 * (docs/systemtap-4.8.md 2.2: the daemon then changes to `/`).
 */
export function absoluteOutfile(path: string, cwd: string): string {
  return path.startsWith("/") ? path : join(cwd, path);
}

/**
 * The name of one output file (docs/systemtap-4.8.md 4.1 table).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const time = new Date(2024, 0, 5, 11, 41, 2);
 * assertEquals(outfileName({ template: "/t/out", fnum: -1, cpu: 1, bulk: true, time }), "/t/out_1");
 * assertEquals(outfileName({ template: "/t/out", fnum: 3, cpu: 1, bulk: true, time }), "/t/out_cpu1.3");
 * assertEquals(outfileName({ template: "/t/o-%H%M%S", fnum: 0, cpu: 0, bulk: false, time }), "/t/o-114102.0");
 * ```
 */
export function outfileName(options: OutfileNameOptions): string {
  const { template, fnum, cpu, bulk } = options;
  if (template === undefined) {
    if (!bulk) throw new OutfileNameError("Non-bulk output without -o goes to stdout, not to a file");
    return join(options.cwd ?? ".", `stpd_cpu${cpu}`);
  }
  if (template === "/dev/null") return template;
  const expanded = strftime(template, options.time);
  if (expanded.length === 0 || expanded.length > MAX_EXPANDED_NAME) {
    throw new OutfileNameError("Filename format is invalid or too long");
  }
  if (bulk) return fnum >= 0 ? `${expanded}_cpu${cpu}.${fnum}` : `${expanded}_${cpu}`;
  return fnum >= 0 ? `${expanded}.${fnum}` : expanded;
}
