/**
 * The library's options, checked where they come in (each public method of `Recorders` calls one of these
 * first): the type of each, its range and unit, and the combinations that cannot be, naming the option as the
 * library spells it (`rotate`, not `--rotate`). What passes is a fresh object of exactly the known options, so
 * nothing the caller changes afterwards reaches the engine.
 * @module
 */
import type { ScriptSource } from "../driver/launch.ts";
import type { HostKind } from "../units.ts";
import { MiB, PAGE, validateName } from "../units.ts";
import type { RetentionBounds } from "../units.ts";
import type { Policies } from "../watch/policy.ts";
import { MAX_COMM, MAX_COOLDOWN_MS, MAX_PID, MAX_TIMER_MS, type TriggerSpec } from "../watch/spec.ts";
import type { Pattern } from "../watch/pattern.ts";
import type { Manifest } from "../snapshots/manifest.ts";
import {
  booleanOption,
  conflict,
  described,
  functionOption,
  numberOption,
  oneOfOption,
  optionsObject,
  signalOption,
  stringOption,
  stringsOption,
  wholeOption,
} from "../options.ts";
import { OptionRangeError, OptionTypeError } from "../errors.ts";
import { declared, declaredTrigger } from "../declarations/declared.ts";

/** The largest size SystemTap takes for a ring or a rotation: 4095 MiB. */
const MAX_SIZE = 4095 * MiB;
/** The largest whole number a byte count or a duration can be here. */
const HUGE = Number.MAX_SAFE_INTEGER;
/** `tail`'s line count: its default and range are the command line's (lib/declarations/declarations.ts). */
const LINES = declared("tail", "lines");
/** The most snapshots a `keep` bound says. */
const MAX_KEEP = declared("watch", "keep").max;

/** A recorder name: a string of `[a-z][a-z0-9_]*`, at most 40 characters. */
export function nameOption(value: unknown, option = "name"): string {
  return validateName(stringOption(value, option, { required: true, what: "a recorder name (a string)" })!);
}

/** A script: `{ file }` (a path) or `{ text }` (the script itself, as `stap -e`), exactly one of them. */
export function scriptOption(value: unknown, option = "script"): ScriptSource {
  const expected = `{ file: PATH } or { text: SCRIPT }`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OptionTypeError(
      option,
      `Invalid option "${option}": expected ${expected}, got ${described(value)}`,
    );
  }
  const { file, text } = value as { file?: unknown; text?: unknown };
  if ((file === undefined) === (text === undefined)) {
    throw new OptionTypeError(
      option,
      `Invalid option "${option}": expected ${expected}, exactly one of them`,
    );
  }
  if (file !== undefined) return { file: stringOption(file, `${option}.file`, { nonEmpty: true })! };
  return { text: stringOption(text, `${option}.text`, { nonEmpty: true })! };
}

/** The range of a size on a host: whole MiB on the real one, multiples of 4K on the simulator. */
function sizeRange(host: HostKind): { min: number; max: number; unit: string; multipleOf: number } {
  return host === "real"
    ? { min: MiB, max: MAX_SIZE, unit: "bytes", multipleOf: MiB }
    : { min: PAGE, max: MAX_SIZE, unit: "bytes", multipleOf: PAGE };
}

/** Retention bounds; `zero` allows bounds of 0 (an explicit prune: delete what is there). */
export function retentionOption(
  value: unknown,
  option: string,
  zero = false,
): RetentionBounds | undefined {
  if (value === undefined) return undefined;
  const o = optionsObject(value as RetentionBounds, option);
  const min = zero ? 0 : 1;
  const bounds: RetentionBounds = {};
  const keep = wholeOption(o.keep, `${option}.keep`, { min, max: MAX_KEEP, unit: "snapshots" });
  const maxAgeMs = wholeOption(o.maxAgeMs, `${option}.maxAgeMs`, { min, max: HUGE, unit: "milliseconds" });
  const maxSize = wholeOption(o.maxSize, `${option}.maxSize`, { min, max: HUGE, unit: "bytes" });
  if (keep !== undefined) bounds.keep = keep;
  if (maxAgeMs !== undefined) bounds.maxAgeMs = maxAgeMs;
  if (maxSize !== undefined) bounds.maxSize = maxSize;
  return bounds;
}

/** The loose start request the engine takes (lib/recorder/start.ts), from the caller's options. */
export interface StartRequest {
  name: string;
  script?: ScriptSource;
  module?: string;
  buffer?: number;
  output?: string;
  rotate?: { size: number; count?: number };
  bulk?: boolean;
  stapArgs?: string[];
  signal?: AbortSignal;
  adopt?: boolean;
  snapshotRetention?: RetentionBounds;
}

/** Checks `start`'s options for `host`. */
export function startOptions(value: unknown, host: HostKind): StartRequest & { stopOnDispose: boolean } {
  const o = optionsObject(value as Record<string, unknown>, "options");
  const name = nameOption(o.name);
  if ((o.script === undefined) === (o.module === undefined)) {
    throw conflict(
      o.script === undefined ? "script" : "module",
      o.script === undefined
        ? 'Missing option "script" (or "module", a prebuilt module): one of them says what to start'
        : 'Options "script" and "module" exclude each other: give one',
    );
  }
  const output = stringOption(o.output, "output", {
    nonEmpty: true,
    what: "a directory (a non-empty string)",
  });
  const file = output !== undefined;
  if (!file) {
    for (const only of ["rotate", "bulk"] as const) {
      if (o[only] !== undefined) {
        throw conflict(only, `Option "${only}" needs "output": it applies to a file recorder`);
      }
    }
  }
  const request: StartRequest & { stopOnDispose: boolean } = {
    name,
    stopOnDispose: booleanOption(o.stopOnDispose, "stopOnDispose") ?? false,
  };
  if (o.module !== undefined) {
    request.module = stringOption(o.module, "module", { nonEmpty: true, what: "a module file (a path)" });
    for (const compiled of ["stapArgs", "bulk"] as const) {
      if (o[compiled] !== undefined) {
        throw conflict(compiled, `Option "${compiled}" is compiled into a prebuilt module: give it to build`);
      }
    }
  } else {
    request.script = scriptOption(o.script);
    request.stapArgs = stringsOption(o.stapArgs, "stapArgs");
  }
  const range = sizeRange(host);
  request.buffer = wholeOption(o.buffer, "buffer", range);
  if (file) {
    request.output = output;
    if (o.rotate !== undefined) {
      if (typeof o.rotate !== "object" || o.rotate === null || Array.isArray(o.rotate)) {
        throw new OptionTypeError(
          "rotate",
          `Invalid option "rotate": expected { size: BYTES, count?: FILES }, got ${described(o.rotate)}`,
        );
      }
      const r = o.rotate as Record<string, unknown>;
      request.rotate = { size: wholeOption(r.size, "rotate.size", range, true)! };
      const count = wholeOption(r.count, "rotate.count", { min: 1, max: 100_000, unit: "files" });
      if (count !== undefined) request.rotate.count = count;
    }
    request.bulk = booleanOption(o.bulk, "bulk");
  }
  request.signal = signalOption(o.signal);
  request.adopt = booleanOption(o.adopt, "adopt");
  request.snapshotRetention = retentionOption(o.snapshotRetention, "snapshotRetention");
  return request;
}

/** What every read takes, checked. */
export interface ReadRequest {
  signal?: AbortSignal;
  until?: AbortSignal;
  onDiagnostic?: (line: string) => void;
  raw?: boolean;
  command?: string;
}

/** Checks a read's options (`dump`, `attach`, `tail`). */
export function readOptions(value: unknown): ReadRequest {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    signal: signalOption(o.signal),
    until: signalOption(o.until, "until"),
    onDiagnostic: functionOption(o.onDiagnostic as ReadRequest["onDiagnostic"], "onDiagnostic"),
    raw: booleanOption(o.raw, "raw"),
    command: oneOfOption(o.command, "command", ["dump", "attach", "tail"]),
  };
}

/** Checks `tail`'s options. */
export function tailOptions(value: unknown): ReadRequest & { lines: number; follow?: boolean } {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    ...readOptions(o),
    lines: wholeOption(o.lines, "lines", { min: LINES.min, max: LINES.max, unit: "lines" }) ?? LINES.default!,
    follow: booleanOption(o.follow, "follow"),
  };
}

/** Checks `stop`'s options. */
export function stopOptions(value: unknown): {
  discard?: boolean;
  onDiagnostic?: (line: string) => void;
  raw?: boolean;
  signal?: AbortSignal;
} {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    discard: booleanOption(o.discard, "discard"),
    onDiagnostic: functionOption(o.onDiagnostic as (line: string) => void, "onDiagnostic"),
    raw: booleanOption(o.raw, "raw"),
    signal: signalOption(o.signal),
  };
}

/** Checks `snapshot`'s options. */
export function snapshotOptions(value: unknown): {
  reason?: string;
  signal?: AbortSignal;
  onDiagnostic?: (line: string) => void;
  beforeRetention?: (snapshot: { path: string; manifest: Manifest }) => Promise<void>;
} {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    reason: stringOption(o.reason, "reason"),
    signal: signalOption(o.signal),
    onDiagnostic: functionOption(o.onDiagnostic as (line: string) => void, "onDiagnostic"),
    beforeRetention: functionOption(
      o.beforeRetention as (snapshot: { path: string; manifest: Manifest }) => Promise<void>,
      "beforeRetention",
    ),
  };
}

/** Checks a `{ signal }` options object. */
export function signalOnly(value: unknown): { signal?: AbortSignal } {
  return { signal: signalOption(optionsObject(value as Record<string, unknown>).signal) };
}

/** Checks `plan`'s options. */
export function planOptions(value: unknown): {
  script: ScriptSource;
  windowMs: number;
  measureMs?: number;
  stapArgs?: string[];
  signal?: AbortSignal;
  until?: AbortSignal;
} {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    script: scriptOption(o.script),
    windowMs: wholeOption(
      o.windowMs,
      "windowMs",
      { ...declared("plan", "window"), unit: "milliseconds" },
      true,
    )!,
    measureMs: wholeOption(o.measureMs, "measureMs", {
      ...declared("plan", "measure"),
      unit: "milliseconds",
    }),
    stapArgs: stringsOption(o.stapArgs, "stapArgs"),
    signal: signalOption(o.signal),
    until: signalOption(o.until, "until"),
  };
}

/** Checks `build`'s options. */
export function buildOptions(value: unknown): {
  name: string;
  script: ScriptSource;
  kernel?: string;
  bulk?: boolean;
  outDir?: string;
  stapArgs?: string[];
  signal?: AbortSignal;
} {
  const o = optionsObject(value as Record<string, unknown>);
  return {
    name: nameOption(o.name),
    script: scriptOption(o.script),
    kernel: stringOption(o.kernel, "kernel", { nonEmpty: true, what: "a kernel release (a string)" }),
    bulk: booleanOption(o.bulk, "bulk"),
    outDir: stringOption(o.outDir, "outDir", { nonEmpty: true, what: "a directory (a non-empty string)" }),
    stapArgs: stringsOption(o.stapArgs, "stapArgs"),
    signal: signalOption(o.signal),
  };
}

/** Checks `gc`'s options. */
export function gcOptions(value: unknown): { unloadOrphans?: boolean; yes?: boolean } {
  const o = optionsObject(value as Record<string, unknown>);
  return { unloadOrphans: booleanOption(o.unloadOrphans, "unloadOrphans"), yes: booleanOption(o.yes, "yes") };
}

/** A trigger's pattern: RE2 source text, or a pattern object of the caller's own (`source` and `find`). */
function patternOption(
  value: unknown,
  option: string,
  kind: string,
  compile: (text: string) => Pattern,
): Pattern {
  if (typeof value === "string") {
    if (value === "") throw new OptionRangeError(option, `Invalid option "${option}": an empty pattern`);
    return compile(value);
  }
  const p = value as Pattern | null;
  if (typeof p !== "object" || p === null || typeof p.find !== "function" || typeof p.source !== "string") {
    throw new OptionTypeError(
      option,
      `Invalid option "${option}": expected a regular expression (a string, RE2 syntax) or a pattern ` +
        `{ source, find(line) }, got ${described(value)} (the ${kind} trigger)`,
    );
  }
  return p;
}

/** A trigger as the library takes it: a {@linkcode TriggerSpec} whose patterns may be strings. */
export type WatchTrigger =
  | Exclude<TriggerSpec, { kind: "log" } | { kind: "marker" }>
  | { kind: "log"; file: string; pattern: string | Pattern }
  | { kind: "marker"; pattern: string | Pattern };

/** Checks one trigger (`compile` turns a pattern's text into a {@linkcode Pattern}). */
export function triggerOption(
  value: unknown,
  option: string,
  compile: (text: string, kind: string) => Pattern,
): TriggerSpec {
  const t = optionsObject(value as Record<string, unknown>, option);
  const kind = oneOfOption(t.kind, `${option}.kind`, [
    "signal",
    "exit-status",
    "log",
    "pressure",
    "process",
    "marker",
  ]);
  switch (kind) {
    case "signal":
      return { kind };
    case "exit-status": {
      const command = stringsOption(t.command, `${option}.command`);
      if (!command || command.length === 0 || command[0] === "") {
        throw new OptionTypeError(
          `${option}.command`,
          `Invalid option "${option}.command": expected the health check's argv, a non-empty array of strings`,
        );
      }
      const interval = declaredTrigger("exit-status", "interval");
      const intervalMs = wholeOption(t.intervalMs, `${option}.intervalMs`, {
        min: interval.min,
        max: interval.max,
        unit: "milliseconds",
      }) ?? interval.default!;
      return { kind, command, intervalMs };
    }
    case "log":
      return {
        kind,
        file: stringOption(t.file, `${option}.file`, {
          required: true,
          nonEmpty: true,
          what: 'a file ("-" for standard input)',
        })!,
        pattern: patternOption(t.pattern, `${option}.pattern`, kind, (text) => compile(text, kind)),
      };
    case "marker":
      return {
        kind,
        pattern: patternOption(t.pattern, `${option}.pattern`, kind, (text) => compile(text, kind)),
      };
    case "pressure": {
      const expr = t.expr as { field?: unknown; op?: unknown; value?: unknown; text?: unknown } | undefined;
      const e = optionsObject(expr as Record<string, unknown>, `${option}.expr`);
      // Like { field: "avg10", op: ">", value: 40 }: the PSI field, the comparison, the threshold.
      const field = oneOfOption(
        e.field,
        `${option}.expr.field`,
        ["avg10", "avg60", "avg300", "total"],
        true,
      )!;
      const op = oneOfOption(e.op, `${option}.expr.op`, [">", ">=", "<", "<="], true)!;
      const threshold = numberOption(e.value, `${option}.expr.value`, {
        min: 0,
        max: HUGE,
        unit: "percent (avg) or microseconds (total)",
      });
      if (threshold === undefined) {
        throw new OptionTypeError(
          `${option}.expr.value`,
          `Missing option "${option}.expr.value": the threshold`,
        );
      }
      return {
        kind,
        resource: oneOfOption(t.resource, `${option}.resource`, ["cpu", "memory", "io"], true)!,
        scope: oneOfOption(t.scope, `${option}.scope`, ["some", "full"], true)!,
        expr: {
          field,
          op,
          value: threshold,
          text: typeof e.text === "string" ? e.text : `${field}${op}${threshold}`,
        },
      };
    }
    case "process": {
      const pid = wholeOption(t.pid, `${option}.pid`, { min: 1, max: MAX_PID, unit: "" });
      const name = stringOption(t.name, `${option}.name`, { nonEmpty: true });
      if ((pid === undefined) === (name === undefined)) {
        throw new OptionTypeError(
          option,
          `Invalid option "${option}": give "pid" or "name", exactly one of them`,
        );
      }
      if (name !== undefined && (name.length > MAX_COMM || name.includes("/"))) {
        throw new OptionRangeError(
          `${option}.name`,
          `Invalid option "${option}.name": a command name as "ps -o comm" shows it (at most ${MAX_COMM} characters, no "/"), got ${
            described(name)
          }`,
        );
      }
      return pid !== undefined ? { kind, pid } : { kind, name };
    }
    default:
      throw new OptionTypeError(
        `${option}.kind`,
        `Missing option "${option}.kind": signal, exit-status, log, pressure, process or marker`,
      );
  }
}

/** Checks the policies. */
export function policiesOption(value: unknown): Policies {
  const o = optionsObject(value as Record<string, unknown>, "policies");
  const timer = { min: 0, max: MAX_TIMER_MS, unit: "milliseconds" };
  return {
    cooldownMs: wholeOption(o.cooldownMs, "policies.cooldownMs", { ...timer, max: MAX_COOLDOWN_MS }),
    maxPerDay: wholeOption(o.maxPerDay, "policies.maxPerDay", {
      ...declared("watch", "max-per-day"),
      unit: "snapshots",
    }),
    holdMs: wholeOption(o.holdMs, "policies.holdMs", timer),
    delayMs: wholeOption(o.delayMs, "policies.delayMs", timer),
  };
}
