/**
 * `check`: validates a script without loading anything. On a real host that is `stap -p2` (its output and
 * exit status are passed through); on the simulator it is the simulator's parser, plus the list of what the
 * simulator cannot run.
 * @module
 */
import { resolve } from "../path.ts";
import { osError } from "../os_errors.ts";
import { runCommand } from "../driver/run.ts";
import type { ScriptSource } from "../driver/launch.ts";
import type { Engine } from "./engine.ts";

/** One finding of the simulator's check. */
export interface CheckFinding {
  /** The script file (`<input>` for `-e`). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What the simulator cannot run there. */
  message: string;
}

/** What `check` found. */
export interface CheckReport {
  /** Whether the script passed the check. */
  ok: boolean;
  /** `stap -p2` on a real host, `sim` for the simulator's parser. */
  checker: "stap -p2" | "sim";
  /** The exit status to report (stap's own on a real host). */
  code: number;
  /** What the checker printed on stdout (stap -p2 prints the elaborated script). */
  stdout: string;
  /** What the checker printed on stderr, as stap would. */
  stderr: string;
  /** Simulator only: what it cannot run in a script that parsed. */
  unsupported: CheckFinding[];
}

/** Checks a script. */
export async function checkRecorderScript(
  engine: Engine,
  script: ScriptSource,
  signal?: AbortSignal,
): Promise<CheckReport> {
  if (engine.host.kind === "real") {
    const argv = [...engine.host.stap, "-p2", ...("file" in script ? [script.file] : ["-e", script.text])];
    const r = await runCommand(argv, { env: engine.host.env, signal });
    // stap ended on our SIGTERM: the check was cancelled, its output is no verdict.
    signal?.throwIfAborted();
    return {
      ok: r.code === 0,
      checker: "stap -p2",
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
      unsupported: [],
    };
  }
  let source: string;
  let file = "<input>";
  if ("file" in script) {
    file = script.file;
    try {
      source = await Deno.readTextFile(resolve(script.file));
    } catch (err) {
      throw osError("read script", script.file, err);
    }
  } else source = script.text;
  const [{ checkScript }, { unsupportedIn }] = await Promise.all([
    import("../../sim/lang/check.ts"),
    import("../../sim/lang/mod.ts"),
  ]);
  const result = checkScript(source, { file, unsupported: (script) => unsupportedIn(script) });
  return {
    ok: result.ok,
    checker: "sim",
    code: result.ok ? 0 : 1,
    stdout: "",
    stderr: result.text,
    unsupported: result.unsupported,
  };
}
