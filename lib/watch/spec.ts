/**
 * The command line of `stapfr watch`: `--on KIND ARGS…` triggers (the words after the kind up to the next flag;
 * `exit-status` takes its command after `--`) and the policy flags. Pure: the watcher gets a checked plan.
 * See docs/watch.md "Triggers".
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseDuration } from "../units.ts";

/** One trigger as the user gave it. */
export type TriggerSpec =
  | { kind: "signal" }
  | { kind: "exit-status"; command: string[]; intervalMs: number }
  | { kind: "log"; file: string; pattern: RegExp }
  | { kind: "pressure"; resource: "cpu" | "memory" | "io"; scope: "some" | "full"; expr: PressureExpr }
  | { kind: "process"; pid?: number; name?: string }
  | { kind: "marker"; pattern: RegExp };

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

/** The trigger kinds, for help and completions. */
export const TRIGGER_KINDS = ["signal", "exit-status", "log", "pressure", "process", "marker"] as const;

function regex(text: string | undefined, what: string): RegExp {
  if (text === undefined || text === "") throw new UsageError(`"--on ${what}" needs a regular expression`);
  try {
    return new RegExp(text);
  } catch (err) {
    throw new UsageError(
      `Invalid regular expression "${text}" for "--on ${what}": ${(err as Error).message}`,
    );
  }
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
export function parseTrigger(words: string[], command: string[] = []): TriggerSpec {
  const [kind, ...rest] = words;
  switch (kind) {
    case "signal":
      one(kind, rest, 0, 'no arguments ("stapfr trigger NAME" fires it)');
      return { kind };
    case "exit-status": {
      let intervalMs = 10_000;
      if (rest[0] === "--interval") {
        intervalMs = parseDuration(rest[1] ?? "", `"--on exit-status --interval"`);
        rest.splice(0, 2);
      }
      if (rest.length > 0) throw new UsageError(`Unexpected "${rest[0]}" after "--on exit-status"`);
      if (command.length === 0) throw new UsageError(`"--on exit-status" needs its command after "--"`);
      if (intervalMs < 100) throw new UsageError(`Invalid "--interval": at least 100ms`);
      return { kind, command, intervalMs };
    }
    case "log":
      one(kind, rest, 2, "FILE REGEX (FILE - for standard input)");
      return { kind, file: rest[0], pattern: regex(rest[1], "log") };
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
      if (/^\d+$/.test(rest[0])) return { kind, pid: Number(rest[0]) };
      return { kind, name: rest[0] };
    case "marker":
      one(kind, rest, 1, "REGEX");
      return { kind, pattern: regex(rest[0], "marker") };
    case undefined:
      throw new UsageError(`"--on" needs a trigger: ${TRIGGER_KINDS.join(", ")}`);
    default:
      throw new UsageError(`Unknown trigger "${kind}": expected ${TRIGGER_KINDS.join(", ")}`);
  }
}

/**
 * Splits `watch`'s arguments into its triggers and the other arguments (for the flag parser). Each `--on`
 * takes the words after it up to the next word starting with `--`; `exit-status` may take `--interval D`,
 * and its command is everything after a literal `--` (so only one exit-status trigger per watcher).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const { triggers, rest } = splitTriggers(["web", "--on", "log", "/var/log/app.log", "ERROR", "--cooldown", "5m"]);
 * assertEquals(triggers.map((t) => t.kind), ["log"]);
 * assertEquals(rest, ["web", "--cooldown", "5m"]);
 * ```
 */
export function splitTriggers(args: string[]): { triggers: TriggerSpec[]; rest: string[] } {
  const dash = args.indexOf("--");
  const head = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
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
    triggers.push(parseTrigger(words, words[0] === "exit-status" ? command : []));
  }
  if (command.length > 0 && !usedCommand) {
    throw new UsageError(`Unexpected command after "--": only "--on exit-status" takes one`);
  }
  return { triggers, rest };
}
