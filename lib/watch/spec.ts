/**
 * The command line of `stapfr watch`: `--on KIND ARGS…` triggers (the words after the kind up to the next flag;
 * `exit-status` takes its command after `--`, and that command is the end of the line) and the bounds of every
 * duration and count. The watcher gets a checked plan. See docs/watch.md "Triggers".
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseDuration } from "../units.ts";
import type { Pattern } from "./pattern.ts";
import { declaredFlag, TIMER_MAX } from "../declarations/declarations.ts";
import { declaredTrigger } from "../declarations/declared.ts";

/** One trigger as the user gave it. */
export type TriggerSpec =
  | { kind: "signal" }
  | { kind: "exit-status"; command: string[]; intervalMs: number }
  | { kind: "log"; file: string; pattern: Pattern }
  | { kind: "pressure"; resource: "cpu" | "memory" | "io"; scope: "some" | "full"; expr: PressureExpr }
  | { kind: "process"; pid?: number; name?: string }
  | { kind: "marker"; pattern: Pattern };

/**
 * The longest wait a timer can hold: setTimeout and setInterval take at most 2^31-1 ms (24.8 days) and fire at
 * once beyond it, so `--delay`, `--interval`, `--switch-every` (and, to keep the rule one, `--hold`) stop at 24
 * days.
 */
export const MAX_TIMER_MS: number = TIMER_MAX;
/** The longest `--cooldown` (compared, never waited for: a year). */
export const MAX_COOLDOWN_MS: number = declaredFlag("watch", "cooldown").max!;
/** The highest pid Linux gives (`pid_max` at most 2^22). */
export const MAX_PID = 4_194_304;
/** The kernel keeps 15 characters of a command name (`comm`, TASK_COMM_LEN 16 with its NUL). */
export const MAX_COMM = 15;

/**
 * A duration flag, checked against its range.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * assertEquals(boundedDuration("30s", "--delay", 0, MAX_TIMER_MS), 30_000);
 * assertThrows(() => boundedDuration("25d", "--delay", 0, MAX_TIMER_MS));
 * ```
 */
export function boundedDuration(text: string, flag: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(text, `"${flag}"`);
  if (ms < minMs || ms > maxMs) {
    throw new UsageError(`Invalid "${flag}" "${text}": expected ${span(minMs)} to ${span(maxMs)}`);
  }
  return ms;
}

/** A duration as the flags take it, in its largest whole unit. */
function span(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A PSI threshold: `avg10>40`, `avg60>=12.5`, `total>1000000`. */
export interface PressureExpr {
  /** The PSI field. */
  field: "avg10" | "avg60" | "avg300" | "total";
  /** The comparison. */
  op: ">" | ">=" | "<" | "<=";
  /** The threshold. */
  value: number;
  /** As the user wrote it, for logs. */
  text: string;
}

/** The trigger kinds, as declared (lib/declarations/declarations.ts). */
export const TRIGGER_KINDS: readonly string[] = declaredFlag("watch", "on").choices!.map((c) => c.word);

/** Compiles the patterns of `log` and `marker` (lib/watch/pattern.ts, loaded only when one is given). */
type Compile = (text: string, trigger: string) => Pattern;

function regex(text: string | undefined, what: string, compile: Compile): Pattern {
  if (text === undefined || text === "") throw new UsageError(`"--on ${what}" needs a regular expression`);
  return compile(text, what);
}

/** The process of `--on process PID|NAME`: a pid Linux can give, or a command name as the kernel keeps it. */
function processTarget(word: string): { pid?: number; name?: string } {
  if (/^\d+$/.test(word)) {
    const pid = Number(word);
    if (pid < 1 || pid > MAX_PID) {
      throw new UsageError(`Invalid process "${word}" for "--on process": a pid is 1 to ${MAX_PID}`);
    }
    return { pid };
  }
  if (word === "" || word.startsWith("-") || word.includes("/") || word.length > MAX_COMM) {
    throw new UsageError(
      `Invalid process "${word}" for "--on process": give a pid (1 to ${MAX_PID}) or a command name as ` +
        `"ps -o comm" shows it (at most ${MAX_COMM} characters, no "/")`,
    );
  }
  return { name: word };
}

/**
 * Parses a PSI threshold.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(parsePressureExpr("avg10>40"), { field: "avg10", op: ">", value: 40, text: "avg10>40" });
 * ```
 */
export function parsePressureExpr(text: string): PressureExpr {
  const m = /^(avg10|avg60|avg300|total)\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `Invalid pressure threshold "${text}": expected FIELD OP NUMBER, like "avg10>40" (avg10, avg60, avg300 or total)`,
    );
  }
  return { field: m[1] as PressureExpr["field"], op: m[2] as PressureExpr["op"], value: Number(m[3]), text };
}

function one(kind: string, words: string[], n: number, usage: string): void {
  if (words.length !== n) throw new UsageError(`"--on ${kind}" takes ${usage}`);
}

/** Parses one `--on` trigger from its words (the kind first). */
export function parseTrigger(words: string[], command: string[], compile: Compile): TriggerSpec {
  const [kind, ...rest] = words;
  switch (kind) {
    case "signal":
      one(kind, rest, 0, 'no arguments ("stapfr trigger NAME" fires it)');
      return { kind };
    case "exit-status": {
      const declared = declaredTrigger("exit-status", "interval");
      let intervalMs = declared.default!;
      if (rest[0] === "--interval") {
        intervalMs = boundedDuration(
          rest[1] ?? "",
          "--on exit-status --interval",
          declared.min,
          declared.max,
        );
        rest.splice(0, 2);
      }
      if (rest.length > 0) throw new UsageError(`Unexpected "${rest[0]}" after "--on exit-status"`);
      if (command.length === 0 || command[0] === "") {
        throw new UsageError(`"--on exit-status" needs its command after "--"`);
      }
      return { kind, command, intervalMs };
    }
    case "log":
      one(kind, rest, 2, "FILE REGEX (FILE - for standard input)");
      if (rest[0] === "") throw new UsageError(`"--on log" needs a file ("-" for standard input)`);
      return { kind, file: rest[0], pattern: regex(rest[1], "log", compile) };
    case "pressure": {
      one(kind, rest, 3, 'cpu|memory|io some|full EXPR, like "pressure memory some avg10>40"');
      const [resource, scope, expr] = rest;
      if (!["cpu", "memory", "io"].includes(resource)) {
        throw new UsageError(`Invalid pressure resource "${resource}": expected cpu, memory or io`);
      }
      if (!["some", "full"].includes(scope)) {
        throw new UsageError(`Invalid pressure scope "${scope}": expected some or full`);
      }
      return {
        kind,
        resource: resource as "cpu" | "memory" | "io",
        scope: scope as "some" | "full",
        expr: parsePressureExpr(expr),
      };
    }
    case "process":
      one(kind, rest, 1, "PID or NAME");
      return { kind, ...processTarget(rest[0]) };
    case "marker":
      one(kind, rest, 1, "REGEX");
      return { kind, pattern: regex(rest[0], "marker", compile) };
    case undefined:
      throw new UsageError(`"--on" needs a trigger: ${TRIGGER_KINDS.join(", ")}`);
    default:
      throw new UsageError(`Unknown trigger "${kind}": expected ${TRIGGER_KINDS.join(", ")}`);
  }
}

/** What {@linkcode splitTriggers} needs besides the arguments. */
export interface SplitOptions {
  /**
   * The options of the command being parsed (`watch`'s, and `start`'s for `unit`): none of them may follow
   * `--`, where the health check's command runs to the end of the line.
   */
  ownFlags?: readonly string[];
  /** The command, for messages (`watch`). */
  command?: string;
}

/**
 * Splits `watch`'s arguments into its triggers and the other arguments (for the flag parser). Each `--on`
 * takes the words after it up to the next word starting with `--`; `exit-status` may take `--interval D`,
 * and its command is everything after a literal `--` to the end of the line (so only one exit-status trigger
 * per watcher). A word after `--` spelled like one of the command's own options is refused: it would silently
 * go to the health check (`-- curl URL --cooldown 10m` gives curl the cooldown), so what was meant cannot be
 * told. Patterns are compiled with RE2 (lib/watch/pattern.ts), loaded here only when a trigger has one.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const { triggers, rest } = await splitTriggers(["web", "--on", "log", "/var/log/app.log", "ERROR", "--cooldown", "5m"]);
 * assertEquals(triggers.map((t) => t.kind), ["log"]);
 * assertEquals(rest, ["web", "--cooldown", "5m"]);
 * ```
 */
export async function splitTriggers(
  args: string[],
  options: SplitOptions = {},
): Promise<{ triggers: TriggerSpec[]; rest: string[] }> {
  const dash = args.indexOf("--");
  const head = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  const own = new Set(options.ownFlags ?? []);
  const misplaced = command.find((w) => own.has(w.includes("=") ? w.slice(0, w.indexOf("=")) : w));
  if (misplaced !== undefined) {
    const name = options.command ?? "watch";
    throw new UsageError(
      `"${misplaced}" after "--" is one of ${name}'s options, but everything after "--" is the health ` +
        `check's command ("${command[0]}" would get it): give ${name}'s options before "--"`,
    );
  }
  let compile: Compile = () => {
    throw new Error("patterns not loaded");
  };
  if (head.some((w, i) => head[i - 1] === "--on" && (w === "log" || w === "marker"))) {
    compile = (await import("./pattern.ts")).compilePattern;
  }
  const triggers: TriggerSpec[] = [];
  const rest: string[] = [];
  let usedCommand = false;
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== "--on") {
      rest.push(head[i]);
      continue;
    }
    const words: string[] = [];
    while (i + 1 < head.length) {
      const w = head[i + 1];
      const intervalValue = words[0] === "exit-status" && words.at(-1) === "--interval";
      if (w.startsWith("--") && !(words[0] === "exit-status" && w === "--interval") && !intervalValue) break;
      words.push(w);
      i++;
    }
    if (words[0] === "exit-status") {
      if (usedCommand) {
        throw new UsageError(`Only one "--on exit-status" per watcher (its command follows "--")`);
      }
      usedCommand = true;
    }
    triggers.push(parseTrigger(words, words[0] === "exit-status" ? command : [], compile));
  }
  if (command.length > 0 && !usedCommand) {
    throw new UsageError(`Unexpected command after "--": only "--on exit-status" takes one`);
  }
  return { triggers, rest };
}
