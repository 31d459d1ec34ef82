/**
 * Turns what `stap` and `staprun` print when they fail (docs/systemtap-4.8.md sections 1.2, 1.3, 2.7 and 2.8) into one
 * stapfr error that says what happened and what to do. stapfr's explanation is the message; the raw `ERROR:`
 * lines follow it as the error's detail, so nothing SystemTap said is hidden and it never comes first.
 * @module
 */
import { type ErrorCode, StapfrError } from "../errors.ts";
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

/** SystemTap's lines as an error's detail: at most 20 of them. */
function detailOf(stderr: string): string[] {
  const lines = diagnosticLines(stderr);
  return lines.length > 20 ? [...lines.slice(0, 20), `… ${lines.length - 20} more lines`] : lines;
}

// Only start and build pass arguments to stap (after "--"): offer -v there and nowhere else.
const FALLBACK_HINT: Record<Operation, string> = {
  start: 'Run the same command with -v after "--" to see more',
  build: 'Run the same command with -v after "--" to see more',
  attach: 'SystemTap\'s lines say why; "stapfr list" shows whether the recorder still records',
  unload: 'SystemTap\'s lines say why; "stapfr list" shows what is still loaded',
  check: "SystemTap's lines say why",
};

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
  const fail = (message: string, hint: string, code: ErrorCode = "failed"): StapfrError =>
    new StapfrError(message, { code, hint, detail: detailOf(stderr) });
  // "Cannot attach to recorder …", "Cannot start recorder …".
  const doing = ctx.operation === "attach" ? "attach to" : ctx.operation;

  // The same two lines mean "not loaded", "someone else is attached" or "not yours": look at the module.
  if (NOT_RUNNING.test(stderr) || NOT_ZOMBIE.test(stderr)) {
    const verb = ctx.operation === "unload" ? "unload" : "attach to";
    if (ctx.moduleState === "attached") {
      return fail(
        `Cannot ${verb} ${who}: module "${mod}" is already attached by another reader ` +
          `(staprun prints "not running?" for both cases; /proc/modules shows it loaded and in use)`,
        "Only one reader at a time: let the other reader finish (or send it SIGQUIT to detach), then retry",
        "busy",
      );
    }
    if (ctx.moduleState === "detached") {
      return fail(
        `Cannot ${verb} ${who}: module "${mod}" is loaded but its control channel refused us`,
        "The module may belong to another user or be stopping; run as the user who started it, or as root",
        "permission",
      );
    }
    return fail(
      `Cannot ${verb} ${who}: module "${mod}" is not loaded (the recording is not running)`,
      'See "stapfr list"; "stapfr gc" removes recorders whose module is gone',
      "not_running",
    );
  }
  if (ctx.operation === "attach" && ctx.code === 1 && stderr.trim() === "") {
    return fail(
      `Cannot attach to ${who}: permission denied on the control channel of "${mod}" ` +
        `(staprun prints nothing in that case)`,
      "Run as the user who started the recorder, or as root",
      "permission",
    );
  }
  if (/Couldn't insert module .*: File exists/.test(stderr)) {
    return fail(
      `Cannot start ${who}: module "${mod}" is already loaded`,
      'Stop the recorder that owns it ("stapfr stop NAME"), or unload it if nobody owns it ' +
        '("stapfr gc --unload-orphans")',
      "exists",
    );
  }
  if (/Couldn't insert module in FIPS mode/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel is in FIPS mode and refuses unsigned modules`,
      "Sign the module, or set STAP_FIPS_OVERRIDE=1 if your policy allows it",
      "rejected_module",
    );
  }
  if (/Couldn't insert module .*: Function not implemented/.test(stderr)) {
    return fail(
      `Cannot start ${who}: this kernel does not load modules (init_module is not implemented)`,
      "Run on a host whose kernel allows module loading (not a container without it), or use the simulator",
      "rejected_module",
    );
  }
  if (/Couldn't insert module .*: (Invalid module format|Module has wrong symbol version)/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel rejected the module as built for another kernel`,
      ctx.prebuilt
        ? 'Build it again for this kernel ("stapfr build NAME SCRIPT --kernel $(uname -r)")'
        : "Install the headers of the running kernel (linux-headers-$(uname -r)) and start again",
      "rejected_module",
    );
  }
  if (/Couldn't insert module .*: Cannot allocate memory/.test(stderr)) {
    return fail(
      `Cannot start ${who}: not enough free memory for the relay buffers`,
      "Use a smaller buffer (it is per CPU), or free memory first",
      "rejected_option",
    );
  }
  if (/Couldn't insert module .*: Operation not permitted/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel refused to load the module (operation not permitted)`,
      "Secure Boot or kernel lockdown may forbid unsigned modules; check dmesg, sign the module or run as root",
      "rejected_module",
    );
  }
  if (/Couldn't insert module/.test(stderr)) {
    return fail(
      `Cannot start ${who}: the kernel refused to load the module`,
      "Check dmesg for the reason",
      "rejected_module",
    );
  }
  if (
    /trying to run systemtap as a normal user|privilege credentials|Unable to verify the signature/.test(
      stderr,
    )
  ) {
    return fail(
      `Cannot ${doing} ${who}: not privileged to load this module`,
      "Run as root, or be a member of group stapdev (stapusr only runs signed modules)",
      "permission",
    );
  }
  if (/effective user ID of staprun must be set to the root/.test(stderr)) {
    return fail(
      `Cannot ${doing} ${who}: staprun is not setuid root`,
      "Reinstall systemtap-runtime, or run stapfr as root",
      "permission",
    );
  }
  if (ctx.code === 126 || /staprun: Permission denied/.test(stderr)) {
    return fail(
      `Cannot ${doing} ${who}: not allowed to run staprun`,
      "staprun is for root and the members of group stapusr: run as root or join stapusr",
      "permission",
    );
  }
  if (/stp_task_work\.c/.test(stderr) && /task_work_cancel/.test(stderr)) {
    // Linux 6.11 (and 6.1.103+ stable) renamed task_work_cancel(task, func) to task_work_cancel_func():
    // SystemTap 4.8's runtime no longer compiles against those headers. Checked before the missing-headers
    // case: the compiler's lines name files under /usr/src/linux-headers-*.
    return fail(
      `Cannot ${doing} ${who}: SystemTap's runtime does not compile against this kernel ` +
        "(it calls task_work_cancel, which newer kernels renamed task_work_cancel_func)",
      'Upgrade SystemTap, or pass a fixed copy of its runtime after "--" with stap\'s -R DIR ' +
        `(see ${RUNTIME_FIX_DOC})`,
      "compile_failed",
    );
  }
  if (/Checking ".*\/build\/\.config" failed|kernel-devel|linux-headers|Kernel build tree/.test(stderr)) {
    const release = ctx.release ?? "$(uname -r)";
    return fail(
      `Cannot ${doing} ${who}: the kernel headers of ${
        ctx.release ? `kernel "${ctx.release}"` : "the running kernel"
      } are missing`,
      `Install them (apt install linux-headers-${release}) and ${ctx.operation} again`,
      "compile_failed",
    );
  }
  if (/Couldn't open script file/.test(stderr)) {
    return fail(
      `Cannot ${doing} ${who}: stap cannot read the script file`,
      "Check the path and its permissions",
      "not_found",
    );
  }
  if (/Module name \('.*'\) is too long/.test(stderr)) {
    return fail(
      `Cannot ${doing} ${who}: the module name is too long`,
      "Use a shorter recorder name",
      "rejected_option",
    );
  }
  if (
    /Safety pattern mismatch|Invalid buffer size|Invalid timeout interval|Invalid file size option/.test(
      stderr,
    )
  ) {
    return fail(
      `Cannot ${doing} ${who}: ${ctx.program} rejected an option`,
      'Check the sizes and the arguments after "--"',
      "rejected_option",
    );
  }
  if (/^semantic error: .*\(not simulated\)/m.test(stderr)) {
    // The simulator's stap marks what it does not simulate: a point no kernel has, or one the simulator lacks.
    return fail(
      `Cannot ${doing} ${who}: the script does not compile on the simulator (a probe point or function it ` +
        "does not simulate)",
      "Fix the script, or run it where SystemTap is installed (check lists what the simulator cannot run: " +
        '"stapfr --sim check")',
      "unsupported",
    );
  }
  if (/Pass [1-4]: .* failed|semantic error|parse error|compilation failed/.test(stderr)) {
    return fail(
      `Cannot ${doing} ${who}: the script does not compile`,
      'Fix the script (check runs the same checks without loading anything: "stapfr check")',
      "compile_failed",
    );
  }
  return fail(
    `Cannot ${doing} ${who}: ${ctx.program} failed with exit status ${ctx.code}`,
    FALLBACK_HINT[ctx.operation],
  );
}
