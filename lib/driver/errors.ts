/**
 * Turns what `stap` and `staprun` print when they fail (docs/systemtap-4.8.md sections 1.2, 1.3, 2.7 and 2.8) into one
 * stapfr error that says what happened and what to do. The raw `ERROR:` lines are kept in the message so
 * nothing SystemTap said is hidden.
 * @module
 */
import { StapfrError } from "../errors.ts";
import type { ModuleState } from "./kernel.ts";

/** What stapfr was doing when the command failed. */
export type Operation = "start" | "attach" | "unload" | "check" | "build";

/** The facts {@linkcode explainFailure} uses to tell look-alike errors apart. */
export interface FailureContext {
  operation: Operation;
  /** The recorder's name, for the message. */
  recorder?: string;
  module?: string;
  /** The module's state as `/proc/modules` showed it right after the failure. */
  moduleState?: ModuleState;
  /** Which program failed (`stap` or `staprun`). */
  program: string;
  code: number;
  /** The module was prebuilt (`stapfr build`), not compiled by this start. */
  prebuilt?: boolean;
  /** The kernel release stap compiled for (`build --kernel`), when it is not the running one. */
  release?: string;
}

/** Where the project's docs explain SystemTap 4.8's runtime on kernels that renamed task_work_cancel. */
export const RUNTIME_FIX_DOC = 'docs/prebuilt-modules.md "The SystemTap 4.8 runtime on current kernels"';

/** The lines of stderr that carry SystemTap's own explanation (ERROR, WARNING, semantic and parse errors). */
export function diagnosticLines(stderr: string): string[] {
  return stderr.split("\n")
    // stap colours its messages on a terminal (-C auto): drop the escape sequences.
    // deno-lint-ignore no-control-regex
    .map((line) => line.replace(/\x1b\[[0-9;]*m/g, "").trimEnd())
    .filter((line) => line !== "" && !/^(Disconnecting from|To reconnect, type|Pass \d: )/.test(line));
}

function withOutput(message: string, stderr: string): string {
  const lines = diagnosticLines(stderr);
  if (lines.length === 0) return message;
  const shown = lines.length > 20 ? [...lines.slice(0, 20), `  … ${lines.length - 20} more lines`] : lines;
  return `${message}\n${shown.map((l) => `  | ${l}`).join("\n")}`;
}

const NOT_RUNNING = /Cannot attach to module (\S+) control channel; not running\?/;
const NOT_ZOMBIE = /'([^']+)' is not a zombie systemtap module/;

/**
 * Explains a failed `stap` or `staprun` run. Returns the error to throw.
 *
 * @example "Not running" and "already attached" print the same text; the module table tells them apart
 * ```ts
 * import { assertMatch } from "@std/assert";
 * const stderr = "ERROR: Cannot attach to module stap_fr_io control channel; not running?\n";
 * const busy = explainFailure(stderr, {
 *   operation: "attach", recorder: "io", module: "stap_fr_io", moduleState: "attached", program: "staprun", code: 1,
 * });
 * assertMatch(busy.message, /already attached/);
 * const gone = explainFailure(stderr, {
 *   operation: "attach", recorder: "io", module: "stap_fr_io", moduleState: "absent", program: "staprun", code: 1,
 * });
 * assertMatch(gone.message, /is not loaded/);
 * ```
 */
export function explainFailure(stderr: string, ctx: FailureContext): StapfrError {
  const who = ctx.recorder ? `recorder "${ctx.recorder}"` : `module "${ctx.module ?? "?"}"`;
  const mod = ctx.module ?? NOT_RUNNING.exec(stderr)?.[1] ?? NOT_ZOMBIE.exec(stderr)?.[1] ?? "?";
  const fail = (message: string, hint: string): StapfrError =>
    new StapfrError(withOutput(message, stderr), { hint });

  // The same two lines mean "not loaded", "someone else is attached" or "not yours": look at the module.
  if (NOT_RUNNING.test(stderr) || NOT_ZOMBIE.test(stderr)) {
    const verb = ctx.operation === "unload" ? "unload" : "attach to";
    if (ctx.moduleState === "attached") {
      return fail(
        `Cannot ${verb} ${who}: module "${mod}" is already attached by another reader ` +
          `(staprun prints "not running?" for both cases; /proc/modules shows it loaded and in use)`,
        "Only one reader at a time: let the other reader finish (or send it SIGQUIT to detach), then retry",
      );
    }
    if (ctx.moduleState === "detached") {
      return fail(
        `Cannot ${verb} ${who}: module "${mod}" is loaded but its control channel refused us`,
        "The module may belong to another user or be stopping; run as the user who started it, or as root",
      );
    }
    return fail(
      `Cannot ${verb} ${who}: module "${mod}" is not loaded (the recording is not running)`,
      'See "stapfr list"; "stapfr gc" removes recorders whose module is gone',
    );
  }
  if (ctx.operation === "attach" && ctx.code === 1 && stderr.trim() === "") {
    return fail(
      `Cannot attach to ${who}: permission denied on the control channel of "${mod}" ` +
        `(staprun prints nothing in that case)`,
      "Run as the user who started the recorder, or as root",
    );
  }
  if (/Couldn't insert module .*: File exists/.test(stderr)) {
    return fail(
      `Cannot start ${who}: module "${mod}" is already loaded`,
      'Stop the recorder that owns it ("stapfr stop NAME"), or unload it if nobody owns it ' +
        '("stapfr gc --unload-orphans")',
    );
  }
  if (/Couldn't insert module in FIPS mode/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel is in FIPS mode and refuses unsigned modules`,
      "Sign the module, or set STAP_FIPS_OVERRIDE=1 if your policy allows it",
    );
  }
  if (/Couldn't insert module .*: Function not implemented/.test(stderr)) {
    return fail(
      `Cannot start ${who}: this kernel does not load modules (init_module is not implemented)`,
      "Run on a host whose kernel allows module loading (not a container without it), or use --sim",
    );
  }
  if (/Couldn't insert module .*: (Invalid module format|Module has wrong symbol version)/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel rejected the module as built for another kernel`,
      ctx.prebuilt
        ? 'Build it again for this kernel ("stapfr build NAME SCRIPT --kernel $(uname -r)")'
        : "Install the headers of the running kernel (linux-headers-$(uname -r)) and start again",
    );
  }
  if (/Couldn't insert module .*: Cannot allocate memory/.test(stderr)) {
    return fail(
      `Cannot start ${who}: not enough free memory for the relay buffers`,
      "Use a smaller --buffer (it is per CPU), or free memory first",
    );
  }
  if (/Couldn't insert module .*: Operation not permitted/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel refused to load the module (operation not permitted)`,
      "Secure Boot or kernel lockdown may forbid unsigned modules; check dmesg, sign the module or run as root",
    );
  }
  if (/Couldn't insert module/.test(stderr)) {
    return fail(`Cannot start ${who}: the kernel refused to load the module`, "Check dmesg for the reason");
  }
  if (
    /trying to run systemtap as a normal user|privilege credentials|Unable to verify the signature/.test(
      stderr,
    )
  ) {
    return fail(
      `Cannot ${ctx.operation} ${who}: not privileged to load this module`,
      "Run as root, or be a member of group stapdev (stapusr only runs signed modules)",
    );
  }
  if (/effective user ID of staprun must be set to the root/.test(stderr)) {
    return fail(
      `Cannot ${ctx.operation} ${who}: staprun is not setuid root`,
      "Reinstall systemtap-runtime, or run stapfr as root",
    );
  }
  if (ctx.code === 126 || /staprun: Permission denied/.test(stderr)) {
    return fail(
      `Cannot ${ctx.operation} ${who}: not allowed to run staprun`,
      "staprun is for root and the members of group stapusr: run as root or join stapusr",
    );
  }
  if (/stp_task_work\.c/.test(stderr) && /task_work_cancel/.test(stderr)) {
    // Linux 6.11 (and 6.1.103+ stable) renamed task_work_cancel(task, func) to task_work_cancel_func():
    // SystemTap 4.8's runtime no longer compiles against those headers. Checked before the missing-headers
    // case: the compiler's lines name files under /usr/src/linux-headers-*.
    return fail(
      `Cannot ${ctx.operation} ${who}: SystemTap's runtime does not compile against this kernel ` +
        "(it calls task_work_cancel, which newer kernels renamed task_work_cancel_func)",
      'Upgrade SystemTap, or pass a fixed copy of its runtime after "--" with stap\'s -R DIR ' +
        `(see ${RUNTIME_FIX_DOC})`,
    );
  }
  if (/Checking ".*\/build\/\.config" failed|kernel-devel|linux-headers|Kernel build tree/.test(stderr)) {
    const release = ctx.release ?? "$(uname -r)";
    return fail(
      `Cannot ${ctx.operation} ${who}: the kernel headers of ${
        ctx.release ? `kernel "${ctx.release}"` : "the running kernel"
      } are missing`,
      `Install them (apt install linux-headers-${release}) and ${ctx.operation} again`,
    );
  }
  if (/Couldn't open script file/.test(stderr)) {
    return fail(
      `Cannot ${ctx.operation} ${who}: stap cannot read the script file`,
      "Check the path and its permissions",
    );
  }
  if (/Module name \('.*'\) is too long/.test(stderr)) {
    return fail(`Cannot ${ctx.operation} ${who}: the module name is too long`, "Use a shorter recorder name");
  }
  if (
    /Safety pattern mismatch|Invalid buffer size|Invalid timeout interval|Invalid file size option/.test(
      stderr,
    )
  ) {
    return fail(
      `Cannot ${ctx.operation} ${who}: ${ctx.program} rejected an option`,
      'Check the sizes and the arguments after "--"',
    );
  }
  if (/Pass [1-4]: .* failed|semantic error|parse error|compilation failed/.test(stderr)) {
    return fail(
      `Cannot ${ctx.operation} ${who}: the script does not compile`,
      'Fix the script ("stapfr check" runs the same checks without loading anything)',
    );
  }
  return fail(
    `Cannot ${ctx.operation} ${who}: ${ctx.program} failed with exit status ${ctx.code}`,
    'Run the same command with -v after "--" to see more',
  );
}
