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

/** What a rule's words are made of. */
interface Words {
  /** `recorder "io"` or `module "stap_…"`. */
  who: string;
  /** The module's name (from the context or from SystemTap's lines). */
  mod: string;
  /** "attach to", "start", "unload", "check" or "build": "Cannot DOING WHO". */
  doing: string;
  /** "unload", else "attach to": what a refused control channel stopped. */
  verb: string;
  ctx: FailureContext;
}

/** One look-alike of SystemTap's failures: when it applies, and what stapfr says then. */
interface Rule {
  when: RegExp | ((stderr: string, ctx: FailureContext) => boolean);
  message: (w: Words) => string;
  hint: string | ((w: Words) => string);
  code: ErrorCode;
}

/** "Not running?" and "not a zombie": the same two lines for "not loaded", "someone else is attached", "not yours". */
const refused = (stderr: string) => NOT_RUNNING.test(stderr) || NOT_ZOMBIE.test(stderr);
const inserting = (why: string) => new RegExp(`Couldn't insert module .*: ${why}`);

/** The rules, first match wins: specific before general (the order is part of the meaning). */
const RULES: Rule[] = [
  // The same two lines mean "not loaded", "someone else is attached" or "not yours": the module table decides.
  {
    when: (stderr, ctx) => refused(stderr) && ctx.moduleState === "attached",
    message: (w) =>
      `Cannot ${w.verb} ${w.who}: module "${w.mod}" is already attached by another reader ` +
      `(staprun prints "not running?" for both cases; /proc/modules shows it loaded and in use)`,
    hint: "Only one reader at a time: let the other reader finish (or send it SIGQUIT to detach), then retry",
    code: "busy",
  },
  {
    when: (stderr, ctx) => refused(stderr) && ctx.moduleState === "detached",
    message: (w) =>
      `Cannot ${w.verb} ${w.who}: module "${w.mod}" is loaded but its control channel refused us`,
    hint: "The module may belong to another user or be stopping; run as the user who started it, or as root",
    code: "permission",
  },
  {
    when: refused,
    message: (w) =>
      `Cannot ${w.verb} ${w.who}: module "${w.mod}" is not loaded (the recording is not running)`,
    hint: 'See "stapfr list"; "stapfr gc" removes recorders whose module is gone',
    code: "not_running",
  },
  {
    when: (stderr, ctx) => ctx.operation === "attach" && ctx.code === 1 && stderr.trim() === "",
    message: (w) =>
      `Cannot attach to ${w.who}: permission denied on the control channel of "${w.mod}" ` +
      `(staprun prints nothing in that case)`,
    hint: "Run as the user who started the recorder, or as root",
    code: "permission",
  },
  {
    when: inserting("File exists"),
    message: (w) => `Cannot start ${w.who}: module "${w.mod}" is already loaded`,
    hint: 'Stop the recorder that owns it ("stapfr stop NAME"), or unload it if nobody owns it ' +
      '("stapfr gc --unload-orphans")',
    code: "exists",
  },
  {
    when: /Couldn't insert module in FIPS mode/,
    message: (w) => `Cannot start ${w.who}: the kernel is in FIPS mode and refuses unsigned modules`,
    hint: "Sign the module, or set STAP_FIPS_OVERRIDE=1 if your policy allows it",
    code: "rejected_module",
  },
  {
    when: inserting("Function not implemented"),
    message: (w) =>
      `Cannot start ${w.who}: this kernel does not load modules (init_module is not implemented)`,
    hint:
      "Run on a host whose kernel allows module loading (not a container without it), or use the simulator",
    code: "rejected_module",
  },
  {
    when: inserting("(Invalid module format|Module has wrong symbol version)"),
    message: (w) => `Cannot start ${w.who}: the kernel rejected the module as built for another kernel`,
    hint: (w) =>
      w.ctx.prebuilt
        ? 'Build it again for this kernel ("stapfr build NAME SCRIPT --kernel $(uname -r)")'
        : "Install the headers of the running kernel (linux-headers-$(uname -r)) and start again",
    code: "rejected_module",
  },
  {
    when: inserting("Cannot allocate memory"),
    message: (w) => `Cannot start ${w.who}: not enough free memory for the relay buffers`,
    hint: "Use a smaller buffer (it is per CPU), or free memory first",
    code: "rejected_option",
  },
  {
    when: inserting("Operation not permitted"),
    message: (w) => `Cannot start ${w.who}: the kernel refused to load the module (operation not permitted)`,
    hint:
      "Secure Boot or kernel lockdown may forbid unsigned modules; check dmesg, sign the module or run as root",
    code: "rejected_module",
  },
  {
    when: /Couldn't insert module/,
    message: (w) => `Cannot start ${w.who}: the kernel refused to load the module`,
    hint: "Check dmesg for the reason",
    code: "rejected_module",
  },
  {
    when: /trying to run systemtap as a normal user|privilege credentials|Unable to verify the signature/,
    message: (w) => `Cannot ${w.doing} ${w.who}: not privileged to load this module`,
    hint: "Run as root, or be a member of group stapdev (stapusr only runs signed modules)",
    code: "permission",
  },
  {
    when: /effective user ID of staprun must be set to the root/,
    message: (w) => `Cannot ${w.doing} ${w.who}: staprun is not setuid root`,
    hint: "Reinstall systemtap-runtime, or run stapfr as root",
    code: "permission",
  },
  {
    when: (stderr, ctx) => ctx.code === 126 || /staprun: Permission denied/.test(stderr),
    message: (w) => `Cannot ${w.doing} ${w.who}: not allowed to run staprun`,
    hint: "staprun is for root and the members of group stapusr: run as root or join stapusr",
    code: "permission",
  },
  // Linux 6.11 (and 6.1.103+ stable) renamed task_work_cancel(task, func) to task_work_cancel_func():
  // SystemTap 4.8's runtime no longer compiles against those headers. Before the missing-headers rule: the
  // compiler's lines name files under /usr/src/linux-headers-*.
  {
    when: (stderr) => /stp_task_work\.c/.test(stderr) && /task_work_cancel/.test(stderr),
    message: (w) =>
      `Cannot ${w.doing} ${w.who}: SystemTap's runtime does not compile against this kernel ` +
      "(it calls task_work_cancel, which newer kernels renamed task_work_cancel_func)",
    hint: 'Upgrade SystemTap, or pass a fixed copy of its runtime after "--" with stap\'s -R DIR ' +
      `(see ${RUNTIME_FIX_DOC})`,
    code: "compile_failed",
  },
  {
    when: /Checking ".*\/build\/\.config" failed|kernel-devel|linux-headers|Kernel build tree/,
    message: (w) =>
      `Cannot ${w.doing} ${w.who}: the kernel headers of ${
        w.ctx.release ? `kernel "${w.ctx.release}"` : "the running kernel"
      } are missing`,
    hint: (w) =>
      `Install them (apt install linux-headers-${
        w.ctx.release ?? "$(uname -r)"
      }) and ${w.ctx.operation} again`,
    code: "compile_failed",
  },
  {
    when: /Couldn't open script file/,
    message: (w) => `Cannot ${w.doing} ${w.who}: stap cannot read the script file`,
    hint: "Check the path and its permissions",
    code: "not_found",
  },
  {
    when: /Module name \('.*'\) is too long/,
    message: (w) => `Cannot ${w.doing} ${w.who}: the module name is too long`,
    hint: "Use a shorter recorder name",
    code: "rejected_option",
  },
  {
    when: /Safety pattern mismatch|Invalid buffer size|Invalid timeout interval|Invalid file size option/,
    message: (w) => `Cannot ${w.doing} ${w.who}: ${w.ctx.program} rejected an option`,
    hint: 'Check the sizes and the arguments after "--"',
    code: "rejected_option",
  },
  // The simulator's stap marks what it does not simulate: a point no kernel has, or one the simulator lacks.
  {
    when: /^semantic error: .*\(not simulated\)/m,
    message: (w) =>
      `Cannot ${w.doing} ${w.who}: the script does not compile on the simulator (a probe point or function it ` +
      "does not simulate)",
    hint:
      "Fix the script, or run it where SystemTap is installed (check lists what the simulator cannot run: " +
      '"stapfr --sim check")',
    code: "unsupported",
  },
  {
    when: /Pass [1-4]: .* failed|semantic error|parse error|compilation failed/,
    message: (w) => `Cannot ${w.doing} ${w.who}: the script does not compile`,
    hint: 'Fix the script (check runs the same checks without loading anything: "stapfr check")',
    code: "compile_failed",
  },
];

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
  const words: Words = {
    who: ctx.recorder ? `recorder "${ctx.recorder}"` : `module "${ctx.module ?? "?"}"`,
    mod: ctx.module ?? NOT_RUNNING.exec(stderr)?.[1] ?? NOT_ZOMBIE.exec(stderr)?.[1] ?? "?",
    // "Cannot attach to recorder …", "Cannot start recorder …".
    doing: ctx.operation === "attach" ? "attach to" : ctx.operation,
    verb: ctx.operation === "unload" ? "unload" : "attach to",
    ctx,
  };
  const rule = RULES.find((r) => typeof r.when === "function" ? r.when(stderr, ctx) : r.when.test(stderr));
  const [message, hint, code] = rule
    ? [rule.message(words), typeof rule.hint === "string" ? rule.hint : rule.hint(words), rule.code]
    : [
      `Cannot ${words.doing} ${words.who}: ${ctx.program} failed with exit status ${ctx.code}`,
      FALLBACK_HINT[ctx.operation],
      "failed" as const,
    ];
  return new StapfrError(message, { code, hint, detail: detailOf(stderr) });
}
