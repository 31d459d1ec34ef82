/**
 * The schema of a registry record, checked field by field on every read. A record is what `start` wrote; a
 * file that someone edited, truncated or replaced can hold anything, and the engine acts on what it reads
 * (which module to unload, which pid to signal, which directory to read), so a record that does not match
 * is never used: it is reported with the first field that is wrong, and its recorder is left alone.
 * @module
 */

/** A loaded SystemTap module's name (`stap_…`, a recorder's is `stap_fr_NAME`): nothing else is ever unloaded. */
const MODULE = /^stap_[A-Za-z0-9_]+$/;

type Check = (value: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const string: Check = (v) => (typeof v === "string" ? undefined : "expected a string");
const nullable = (check: Check): Check => (v) => (v === null ? undefined : check(v));
const oneOf = (...values: string[]): Check => (v) =>
  typeof v === "string" && values.includes(v)
    ? undefined
    : `expected ${values.map((x) => `"${x}"`).join(" or ")}`;
const integer = (min: number): Check => (v) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min
    ? undefined
    : `expected a whole number of at least ${min}`;
const strings: Check = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? undefined : "expected a list of strings";
const date: Check = (v) =>
  typeof v === "string" && !Number.isNaN(Date.parse(v)) ? undefined : "expected an ISO 8601 time";
const path: Check = (v) =>
  typeof v === "string" && v.startsWith("/") ? undefined : "expected an absolute path";

const count: Check = (v) => (v === undefined || v === null ? undefined : integer(1)(v));
/** Checks the fields of an object; the first wrong one is reported as `"PREFIX.field": why`. */
function fields(
  value: Record<string, unknown>,
  checks: Record<string, Check>,
  prefix = "",
): string | undefined {
  for (const [key, check] of Object.entries(checks)) {
    const where = `"${prefix}${key}"`;
    if (!(key in value) && check(undefined) !== undefined) return `missing ${where}`;
    const why = check(value[key]);
    // A nested object's check names its own field ("output.runDir": …).
    if (why !== undefined) return why.startsWith('"') ? why : `${where}: ${why}, not ${shown(value[key])}`;
  }
  return undefined;
}

/** A value as it appears in the file, cut short. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

const output: Check = (v) => {
  if (!isObject(v)) return "expected an object";
  const bulk: Check = (b) => (typeof b === "boolean" ? undefined : "expected true or false");
  const why = fields(v, { dir: path, runDir: path, base: string, bulk }, "output.");
  if (why || v.rotate === undefined || v.rotate === null) return why;
  if (!isObject(v.rotate)) return `"output.rotate": expected an object, not ${shown(v.rotate)}`;
  return fields(v.rotate, { size: integer(1), count }, "output.rotate.");
};

const RECORD: Record<string, Check> = {
  name: string,
  mode: oneOf("memory", "file"),
  host: oneOf("real", "sim"),
  module: (
    v,
  ) => (typeof v === "string" && MODULE.test(v) ? undefined : 'expected a SystemTap module name ("stap_…")'),
  pid: nullable(integer(1)),
  pidStart: nullable(integer(0)),
  startedAt: date,
  scriptFile: nullable(string),
  script: string,
  buffer: nullable(integer(1)),
  output: nullable(output),
  stapArgs: strings,
  cpus: nullable(integer(1)),
  notes: strings,
};

/**
 * Why `value` (a parsed registry file for recorder `name`) is not a valid record, or undefined when it is.
 * Fields it does not know are allowed (a newer stapfr may add some); a `format` other than 1 is not.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const record = {
 *   format: 1, name: "io", mode: "memory", host: "sim", module: "stap_fr_io", pid: null, pidStart: null,
 *   startedAt: "2026-01-01T00:00:00.000Z", scriptFile: null, script: "probe begin {}", buffer: null,
 *   output: null, stapArgs: [], cpus: 2, notes: [],
 * };
 * assertEquals(recordProblem(record, "io"), undefined);
 * assertEquals(recordProblem({ ...record, mode: "bogus" }, "io"), '"mode": expected "memory" or "file", not "bogus"');
 * assertEquals(recordProblem({ ...record, stapArgs: "-v" }, "io"), '"stapArgs": expected a list of strings, not "-v"');
 * ```
 */
export function recordProblem(value: unknown, name: string): string | undefined {
  if (!isObject(value)) return `expected a JSON object, not ${shown(value)}`;
  if (value.format !== undefined && value.format !== 1) {
    return `"format": expected 1, not ${shown(value.format)} (written by another version of stapfr?)`;
  }
  const why = fields(value, RECORD);
  if (why) return why;
  if (value.name !== name) return `"name": expected "${name}" (the file's name), not ${shown(value.name)}`;
  if (value.endedAt !== undefined && value.endedAt !== null && date(value.endedAt)) {
    return `"endedAt": ${date(value.endedAt)}, not ${shown(value.endedAt)}`;
  }
  if (value.snapshotRetention !== undefined && value.snapshotRetention !== null) {
    const r = value.snapshotRetention;
    if (!isObject(r)) return `"snapshotRetention": expected an object, not ${shown(r)}`;
    const optional = (v: unknown) => (v === undefined ? undefined : integer(0)(v));
    const why = fields(r, { keep: optional, maxAgeMs: optional, maxSize: optional }, "snapshotRetention.");
    if (why) return why;
  }
  for (const key of ["bulk", "counters"]) {
    const v = value[key];
    if (v !== undefined && typeof v !== "boolean") return `"${key}": expected true or false, not ${shown(v)}`;
  }
  if (value.mode === "file" && value.output === null) return `"output": a file recorder needs its output`;
  if (value.mode === "memory" && value.output !== null) return `"output": a memory recorder has none`;
  return undefined;
}
