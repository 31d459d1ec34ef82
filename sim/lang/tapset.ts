/**
 * The tapset functions the simulator provides, over the workload's context: process context (`pid`,
 * `execname`, `cmdline_str`, …), probe context (`pp`, `pn`, `ppfunc`), time, strings, and control (`exit`,
 * `error`, `warn`, `abort`). Names, argument types and behaviour follow /usr/share/systemtap/tapset (4.8).
 * Functions that need real kernel or user memory are limited to what the workload knows; see the comments.
 * @module
 */
import { AbortSignal_, type Runtime, ScriptRuntimeError } from "./interp_runtime.ts";
import { clampString, fromBig, type Long, longToString, type Scalar, toNumber } from "./values.ts";
import { textStr } from "./tapset_text.ts";
import { cmdlineOfArea } from "../workload/machine.ts";
import { SYSCALL_NR } from "../workload/catalogue.ts";
import { NATIVES } from "./tapset_natives.ts";

/** A value type in signatures. */
export type Type = "long" | "string";

/** One tapset function. */
export interface TapsetFunction {
  params: Type[];
  /** How many trailing params may be left out. */
  optional?: number;
  ret: Type | "void";
  impl: (rt: Runtime, a: Scalar, b: Scalar, c: Scalar) => Scalar | void;
  /** Pure functions of their arguments (no context); none of them are folded today, kept for the future. */
  pure?: boolean;
}

const HZ = 250;

function fault(kind: string, addr: Long, near: string | null = null): never {
  const hex = BigInt.asUintN(64, BigInt(addr)).toString(16);
  throw new ScriptRuntimeError(`${kind} copy fault -14 at 0x${hex} [man error::fault]`, near);
}

/** Where user_string() calls user_string_n() in the 4.8 tapset (the statement its faults are reported near). */
const USER_STRING_N_CALL = "identifier 'user_string_n' at /usr/share/systemtap/tapset/uconversions.stp:29:9";

/**
 * The user memory the simulator knows: the buffer of the current system call (the path of an openat, the data
 * of a write or sendto). Any other address faults.
 */
export function userMemory(rt: Runtime, addr: Long): string | null {
  const e = rt.ev;
  if (addr !== e.buf || e.buf === 0) return null;
  if (e.syscall === "openat") return e.file?.path ?? "";
  if (e.syscall === "ufunc") return e.data === "" ? null : e.data;
  if (e.data === "") return null;
  let s = e.data;
  while (s.length < e.count && s.length < 512) s += e.data;
  return s.slice(0, Math.min(e.count, 512));
}

function userString(
  rt: Runtime,
  addr: Long,
  max: number,
  fallback: string | undefined,
  near: string | null = null,
): string {
  const s = userMemory(rt, addr);
  if (s === null) return fallback !== undefined ? fallback : fault("user string", addr, near);
  const nul = s.indexOf("\0");
  const str = nul >= 0 ? s.slice(0, nul) : s;
  return str.slice(0, Math.max(0, Math.min(max, 511)));
}

function cmdlineArgs(area: string, n: number, m: number, delim: string): string {
  let out = "";
  let start = 0;
  let nr = 0;
  while (start < area.length && (m < 0 || nr <= m)) {
    const end = area.indexOf("\0", start);
    const arg = area.slice(start, end === -1 ? area.length : end);
    start += arg.length + 1;
    if (nr === n) out = arg;
    else if (nr > n) out += delim + (arg === "" ? '""' : arg);
    nr++;
  }
  return clampString(out);
}

function strtol(s: string, base: number): Long {
  let i = 0;
  while (i < s.length && " \t\n\r\f\v".includes(s[i])) i++;
  let neg = false;
  if (s[i] === "-" || s[i] === "+") neg = s[i++] === "-";
  let b = base;
  if ((b === 0 || b === 16) && s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    i += 2;
    b = 16;
  } else if (b === 0) b = s[i] === "0" ? 8 : 10;
  let v = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i], 36);
    if (Number.isNaN(d) || d >= b) break;
    v = v * BigInt(b) + BigInt(d);
  }
  return fromBig(neg ? -v : v);
}

/** Every function the simulator knows, by name. */
export const TAPSET: Record<string, TapsetFunction> = {
  ...NATIVES,
  pid: { params: [], ret: "long", impl: (rt) => rt.ev.task.pid },
  tid: { params: [], ret: "long", impl: (rt) => rt.ev.task.tid },
  ppid: { params: [], ret: "long", impl: (rt) => rt.ev.task.ppid },
  uid: { params: [], ret: "long", impl: (rt) => rt.ev.task.uid },
  euid: { params: [], ret: "long", impl: (rt) => rt.ev.task.euid },
  gid: { params: [], ret: "long", impl: (rt) => rt.ev.task.gid },
  egid: { params: [], ret: "long", impl: (rt) => rt.ev.task.gid },
  execname: { params: [], ret: "string", impl: (rt) => rt.ev.task.execname },
  pexecname: { params: [], ret: "string", impl: (rt) => (rt.ev.task.ppid === 0 ? "swapper/0" : "") },
  cmdline_str: { params: [], ret: "string", impl: (rt) => rt.ev.task.cmdline },
  cmdline_args: {
    params: ["long", "long", "string"],
    ret: "string",
    impl: (rt, n, m, d) =>
      cmdlineArgs(rt.ev.task.argvArea, toNumber(n as Long), toNumber(m as Long), d as string),
  },
  cmdline_arg: {
    params: ["long"],
    ret: "string",
    impl: (rt, n) => cmdlineArgs(rt.ev.task.argvArea, toNumber(n as Long), toNumber(n as Long), ""),
  },
  target: { params: [], ret: "long", impl: () => 0 },
  is_return: { params: [], ret: "long", impl: (rt) => (rt.pp.endsWith(".return") ? 1 : 0) },
  pp: { params: [], ret: "string", impl: (rt) => rt.pp },
  pn: { params: [], ret: "string", impl: (rt) => rt.pn },
  ppfunc: { params: [], ret: "string", impl: (rt) => rt.func },
  probefunc: { params: [], ret: "string", impl: (rt) => rt.func },
  probemod: { params: [], ret: "string", impl: (rt) => (rt.func === "" ? "" : "kernel") },
  cpu: { params: [], ret: "long", impl: (rt) => rt.cpu },
  num_online_cpus: { params: [], ret: "long", impl: (rt) => rt.cpus },
  task_current: { params: [], ret: "long", impl: (rt) => rt.ev.task.address },
  gettimeofday_s: {
    params: [],
    ret: "long",
    impl: (rt) => fromBig((rt.epochNs + BigInt(Math.floor(rt.now))) / 1000000000n),
  },
  gettimeofday_ms: {
    params: [],
    ret: "long",
    impl: (rt) => fromBig((rt.epochNs + BigInt(Math.floor(rt.now))) / 1000000n),
  },
  gettimeofday_us: {
    params: [],
    ret: "long",
    impl: (rt) => fromBig((rt.epochNs + BigInt(Math.floor(rt.now))) / 1000n),
  },
  gettimeofday_ns: {
    params: [],
    ret: "long",
    impl: (rt) => fromBig(rt.epochNs + BigInt(Math.floor(rt.now))),
  },
  // Virtual time since load stands for time since boot (the simulated machine booted when the module loaded).
  local_clock_ns: { params: [], ret: "long", impl: (rt) => Math.floor(rt.now) },
  local_clock_us: { params: [], ret: "long", impl: (rt) => Math.floor(rt.now / 1e3) },
  local_clock_ms: { params: [], ret: "long", impl: (rt) => Math.floor(rt.now / 1e6) },
  local_clock_s: { params: [], ret: "long", impl: (rt) => Math.floor(rt.now / 1e9) },
  cpu_clock_ns: { params: ["long"], ret: "long", impl: (rt) => Math.floor(rt.now) },
  cpu_clock_us: { params: ["long"], ret: "long", impl: (rt) => Math.floor(rt.now / 1e3) },
  cpu_clock_ms: { params: ["long"], ret: "long", impl: (rt) => Math.floor(rt.now / 1e6) },
  jiffies: { params: [], ret: "long", impl: (rt) => 4294892296 + Math.floor(rt.now / (1e9 / HZ)) },
  HZ: { params: [], ret: "long", impl: () => HZ },
  // A 2.5 GHz TSC.
  get_cycles: { params: [], ret: "long", impl: (rt) => Math.floor(rt.now * 2.5) },
  strlen: { params: ["string"], ret: "long", impl: (_rt, s) => (s as string).length, pure: true },
  substr: {
    params: ["string", "long", "long"],
    ret: "string",
    impl: (_rt, s, start, len) => {
      const str = s as string;
      const st = toNumber(start as Long), ln = toNumber(len as Long);
      if (st < 0 || ln < 0 || st >= str.length) return "";
      return str.slice(st, st + ln);
    },
    pure: true,
  },
  isinstr: {
    params: ["string", "string"],
    ret: "long",
    impl: (_rt, a, b) => ((a as string).includes(b as string) ? 1 : 0),
  },
  str_replace: {
    params: ["string", "string", "string"],
    ret: "string",
    impl: (
      _rt,
      s,
      from,
      to,
    ) => ((from as string) === "" ? s : clampString((s as string).split(from as string).join(to as string))),
  },
  stringat: {
    params: ["string", "long"],
    ret: "long",
    impl: (_rt, s, pos) => {
      const p = toNumber(pos as Long);
      const str = s as string;
      if (p < 0 || p >= str.length) throw new ScriptRuntimeError("Position out of range", null);
      return str.charCodeAt(p);
    },
  },
  strtol: {
    params: ["string", "long"],
    ret: "long",
    impl: (_rt, s, b) => strtol(s as string, toNumber(b as Long)),
  },
  text_str: { params: ["string"], ret: "string", impl: (_rt, s) => textStr(s as string, 0, 0, false, false) },
  text_strn: {
    params: ["string", "long", "long"],
    ret: "string",
    impl: (_rt, s, n, q) =>
      textStr(s as string, 0, Math.min(511, Math.max(0, toNumber(n as Long))), q !== 0, false),
  },
  string_quoted: {
    params: ["string"],
    ret: "string",
    impl: (_rt, s) => textStr(s as string, 0, 0, true, false),
  },
  tokenize: {
    params: ["string", "string"],
    ret: "string",
    impl: (rt, input, delim) => {
      // 4.8's tokenize: a non-empty input starts over, an empty one continues; empty tokens are skipped.
      let rest = (input as string) !== "" ? (input as string) : rt.tokenizeRest;
      const d = delim as string;
      if (rest === null) return "";
      for (;;) {
        if (rest === "") {
          rt.tokenizeRest = null;
          return "";
        }
        let i = 0;
        while (i < rest.length && !d.includes(rest[i])) i++;
        const token = rest.slice(0, i);
        rest = i < rest.length ? rest.slice(i + 1) : "";
        if (token !== "" || rest === "") {
          rt.tokenizeRest = rest === "" ? null : rest;
          return token;
        }
      }
    },
  },
  user_string: {
    params: ["long", "string"],
    optional: 1,
    ret: "string",
    impl: (rt, addr, err) => userString(rt, addr as Long, 511, err as string | undefined, USER_STRING_N_CALL),
  },
  user_string_n: {
    params: ["long", "long", "string"],
    optional: 1,
    ret: "string",
    impl: (rt, addr, n, err) => userString(rt, addr as Long, toNumber(n as Long), err as string | undefined),
  },
  user_string_quoted: {
    params: ["long"],
    ret: "string",
    impl: (rt, addr) => {
      const s = userMemory(rt, addr as Long);
      return s === null
        ? "0x" + BigInt.asUintN(64, BigInt(addr as Long)).toString(16)
        : textStr(s, 0, 0, true, false);
    },
  },
  user_buffer_quoted: {
    params: ["long", "long", "long"],
    ret: "string",
    impl: (rt, addr, inlen, outlen) => {
      const s = userMemory(rt, addr as Long);
      if (s === null) return "0x" + BigInt.asUintN(64, BigInt(addr as Long)).toString(16);
      return textStr(s, toNumber(inlen as Long), toNumber(outlen as Long), true, true);
    },
  },
  kernel_string: {
    params: ["long", "string"],
    optional: 1,
    ret: "string",
    // No kernel memory is simulated: reads fault (or return the fallback of the 2-argument form).
    impl: (_rt, addr, err) => (err !== undefined ? err : fault("kernel string", addr as Long)),
  },
  exit: { params: [], ret: "void", impl: (rt) => rt.requestExit() },
  abort: {
    params: [],
    ret: "void",
    impl: (rt) => {
      rt.requestExit();
      throw new AbortSignal_();
    },
  },
  error: {
    params: ["string"],
    ret: "void",
    impl: (_rt, msg) => {
      throw new ScriptRuntimeError(msg as string, null);
    },
  },
  warn: { params: ["string"], ret: "void", impl: (rt, msg) => rt.sink.warning(msg as string) },
  log: { params: ["string"], ret: "void", impl: (rt, msg) => rt.emit((msg as string) + "\n") },
  randint: {
    params: ["long"],
    ret: "long",
    impl: (rt, n) => {
      const max = toNumber(n as Long);
      if (max < 1 || max > 0xffffffff) throw new ScriptRuntimeError("Unsupported randint() range", null);
      // Deterministic: a hash of the virtual time and hit count (the simulator has no entropy source).
      const x = Math.imul((rt.hits * 2654435761) ^ Math.floor(rt.now), 0x9e3779b1) >>> 0;
      return x % max;
    },
  },
  errno_str: {
    params: ["long"],
    ret: "string",
    impl: (_rt, e) => ERRNO_NAMES[-toNumber(e as Long)] ?? `${longToString(e as Long)}`,
  },
  task_pid: { params: ["long"], ret: "long", impl: (rt, t) => taskBy(rt, t as Long)?.pid ?? 0 },
  task_tid: { params: ["long"], ret: "long", impl: (rt, t) => taskBy(rt, t as Long)?.tid ?? 0 },
  task_execname: { params: ["long"], ret: "string", impl: (rt, t) => taskBy(rt, t as Long)?.execname ?? "" },
  target_set_pid: { params: ["long"], ret: "long", impl: () => 0 },
  returnval: { params: [], ret: "long", impl: (rt) => rt.ev.ret },
  user_mode: { params: [], ret: "long", impl: (rt) => (rt.pp.startsWith("process(") ? 1 : 0) },
  syscall_name: {
    params: ["long"],
    ret: "string",
    impl: (_rt, n) => SYSCALL_NAMES_BY_NR[toNumber(n as Long)] ?? `syscall_${longToString(n as Long)}`,
  },
  ctime: { params: ["long"], ret: "string", impl: (_rt, s) => ctime(s as Long) },
  task_cpu: { params: ["long"], ret: "long", impl: (rt) => rt.cpu },
};

const SYSCALL_NAMES_BY_NR: Record<number, string> = Object.fromEntries(
  Object.entries(SYSCALL_NR).map(([name, nr]) => [nr, name]),
);

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The tapset's ctime(): always 24 characters, GMT, limited to 32-bit seconds. */
function ctime(secs: Long): string {
  const s = toNumber(secs);
  if (s > 2147483647) throw new ScriptRuntimeError("Time too far in the future to be converted", null);
  if (s < -2147483648) throw new ScriptRuntimeError("Time too far in the past to be converted", null);
  const d = new Date(s * 1000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  22: "EINVAL",
  110: "ETIMEDOUT",
};

function taskBy(rt: Runtime, address: Long) {
  const e = rt.ev;
  if (e.task.address === address) return e.task;
  if (e.prev?.address === address) return e.prev;
  if (e.next?.address === address) return e.next;
  return undefined;
}

/** The `cmdline_str()` of a raw argv area (re-exported for tests). */
export { cmdlineOfArea };
