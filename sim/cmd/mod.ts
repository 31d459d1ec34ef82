/**
 * `stapfr sim …`: the simulator's stand-ins for SystemTap's commands, dispatched by the first argument:
 * `stap`, `staprun`, `lsmod`, `shims DIR`, and the internal `__stapio` (the `staprun -D` daemon) and `__host`
 * (a module host, see `sim/module_host/main.ts`).
 * @module
 */
import type { Context } from "../../lib/cli/context.ts";
import { ExitCode, UsageError } from "../../lib/errors.ts";
import { OrderedSink } from "./io.ts";
import { processSignals, type SignalSource } from "./signals.ts";
import type { CommandIo } from "./staprun.ts";
import { simRoot } from "../../lib/sim_root.ts";
import { simRelease } from "../../lib/kernel_release.ts";

/** Builds the stand-ins' I/O from a command context. */
export function commandIo(ctx: Context, argv0: string, signals: SignalSource = processSignals): CommandIo {
  let stderrIsTerminal = false;
  try {
    stderrIsTerminal = ctx.io.stderr === Deno.stderr && Deno.stderr.isTerminal();
  } catch {
    // not a terminal
  }
  return {
    out: new OrderedSink(ctx.io.stdout),
    err: new OrderedSink(ctx.io.stderr),
    env: ctx.io.env,
    signals,
    cwd: Deno.cwd(),
    argv0: ctx.knobs.simArgv0 || argv0,
    stdoutIsTerminal: ctx.io.isTerminal ?? false,
    stderrIsTerminal,
    release: simRelease(ctx.io.env),
  };
}

/** Runs a stand-in and waits until all it printed is written (the process exits right after). */
async function flushed(io: CommandIo, fn: (io: CommandIo) => Promise<number>): Promise<number> {
  try {
    return await fn(io);
  } finally {
    await io.out.flush();
    await io.err.flush();
  }
}

/** Runs `stapfr sim ARGS…`; returns the exit status. */
export async function run(args: string[], ctx: Context): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "stap": {
      const { stapMain } = await import("./stap.ts");
      return await flushed(commandIo(ctx, "stap"), (io) => stapMain(rest, io));
    }
    case "staprun": {
      const { staprunMain } = await import("./staprun.ts");
      return await flushed(commandIo(ctx, "staprun"), (io) => staprunMain(rest, io));
    }
    case "__stapio": {
      const { stapioDaemonMain } = await import("./staprun.ts");
      return await flushed(commandIo(ctx, "stapio"), (io) => stapioDaemonMain(rest, io));
    }
    case "lsmod": {
      if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
      const { lsmodMain } = await import("./lsmod.ts");
      return await lsmodMain(simRoot(ctx.io.env), (text) => ctx.out(text));
    }
    case "shims": {
      if (rest.length !== 1) {
        throw new UsageError(rest.length ? `Unexpected argument "${rest[1]}"` : "Missing DIR");
      }
      const { writeShims } = await import("./shims.ts");
      const paths = await writeShims(rest[0]);
      await ctx.out(paths.join("\n") + "\n");
      return ExitCode.ok;
    }
    case "__host": {
      const { hostMain } = await import("../module_host/main.ts");
      return await hostMain(rest);
    }
    default:
      throw new UsageError(
        sub === undefined ? "Missing stand-in: stap, staprun, lsmod or shims" : `Unknown stand-in "${sub}"`,
      );
  }
}
