/**
 * What the command adapters share: the {@linkcode Recorders} for the global options, sinks to stdout, and
 * (from lib/commands/format.ts) the small formatters of the human output.
 * @module
 */
import type { Context } from "../cli/context.ts";
import { writeAll } from "../cli/context.ts";
import { Recorders } from "../api/recorders.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { borrowing } from "../api/sink.ts";
import { sendingFiles, takingFileChunks } from "../read_path/file_chunks.ts";
import type { SendfileOutput } from "../read_path/send_file.ts";
import { damageMessage, type DamageReport } from "../read_path/clean_sink.ts";
import { lossLine, type LossReport } from "../recorder/loss.ts";

/**
 * Tells people on stderr what a read lost, counted from the sequence numbers (docs/loss-accounting.md), and
 * what the line cleaner cut from text: one line each, only when there is something to say.
 */
export async function readReport(
  ctx: Context,
  result: DamageReport & { loss?: LossReport | null },
  what: string,
): Promise<void> {
  const cut = damageMessage(result);
  if (cut) await ctx.err(cut);
  const lost = result.loss ? lossLine(result.loss, what) : undefined;
  if (lost) await ctx.err(lost);
}

/** The recorders for the global options (`--sim`, `--state-dir`) and, for snapshots, `--store`. */
export function recordersFor(ctx: Context, store?: string): Recorders {
  return new Recorders({ sim: ctx.sim, stateDir: ctx.stateDir, env: ctx.io.env, knobs: ctx.knobs, store });
}

/** The process's stdout. */
const STDOUT = 1;

/**
 * A sink writing to stdout (at once: it borrows the engine's buffers, no copy). When stdout is the process's
 * own and not a terminal, chunks a file dump read from its files are sent from the files (sendfile,
 * lib/read_path/send_file.ts: a dump at the speed of `cat`); the rest, and everything where the kernel's way
 * does not apply, is written as ever.
 */
export function stdoutSink(ctx: Context): ByteSink {
  const write = (chunk: Uint8Array) => writeAll(ctx.io.stdout, chunk);
  if (ctx.io.stdout !== Deno.stdout || ctx.io.isTerminal === true) return borrowing(write);
  // Loaded by the first chunk that may be a file's: the module that read it is loaded by then.
  let output: Promise<SendfileOutput> | undefined;
  return borrowing(takingFileChunks(async (chunk: Uint8Array) => {
    if (output === undefined && !sendingFiles()) return await write(chunk);
    output ??= import("../read_path/send_file.ts").then((m) => new m.SendfileOutput(STDOUT));
    const sent = await (await output).send(chunk);
    if (sent === undefined) await write(chunk);
    else if (sent < chunk.length) await write(chunk.subarray(sent));
  }));
}

/** Forwards stapio's diagnostics (module warnings and errors) to stderr. */
export function diagnostics(ctx: Context): (line: string) => void {
  return (line) => void ctx.err(line).catch(() => {});
}

export { age, humanBytes, oneName, self, table } from "./format.ts";
