/**
 * The probe catalogue of the simulated machine: every probe point the synthetic workload can fire, with what
 * `pp()` says for it, its tapset alias (for `pn()`), and the context variables the tapset alias defines
 * (`devname`, `bytes_to_read`, `argstr`, …) or the target variables (`$count`, `$return`) it offers.
 * Names and formats follow the 4.8 tapsets under /usr/share/systemtap/tapset/linux.
 * @module
 */
import type { WorkloadEvent } from "./event.ts";
import { textStr } from "../lang/tapset_text.ts";

/** The value of a context or target variable for one hit. */
export type ContextGetter = (e: WorkloadEvent) => number | bigint | string;

/** A context variable: its type and how to read it. */
export interface ContextVar {
  type: "long" | "string";
  get: ContextGetter;
}

/** One component of a catalogue probe point. */
export interface PointComponent {
  name: string;
  arg: string | number | null;
}

/** One probe point the workload can fire. */
export interface CataloguePoint {
  id: number;
  /** Structured form, for matching the script's probe points. */
  components: PointComponent[];
  /** The point as written in a script (`vfs.read`, `kernel.function("vfs_read").return`). */
  text: string;
  /** What `pp()` returns (for an alias: the underlying point). */
  pp: string;
  /** The function the probe sits in (`ppfunc()`, `probefunc()`). */
  func: string;
  /** Alias-defined variables (locals of the alias prologue), by name. */
  vars: Record<string, ContextVar>;
  /** Target variables (`$count`, `$return`), by name with the `$`. */
  targets: Record<string, ContextVar>;
  /** True for `.return` points. */
  isReturn: boolean;
}

/** The source file of a point's function (`fs/read_write.c`), from its pp, for `function("f@file")`. */
export function sourceFileOf(p: CataloguePoint): string {
  const m = /\("[^"@]*@([^":]+)/.exec(p.pp);
  return m ? m[1] : "";
}

/** What one syscall looks like in the tapsets. */
interface SyscallDef {
  name: string;
  /** The kernel entry function (4.8 on x86_64 kernels ≥ 4.17). */
  kfunc: string;
  source: string;
  vars: Record<string, ContextVar>;
  argstr: (e: WorkloadEvent) => string;
  targets: Record<string, ContextVar>;
}

const long = (get: ContextGetter): ContextVar => ({ type: "long", get });
const str = (get: ContextGetter): ContextVar => ({ type: "string", get });

function hex(v: number): string {
  return v === 0 ? "0x0" : "0x" + (v < 0 ? BigInt.asUintN(64, BigInt(v)) : v).toString(16);
}

/** What user_buffer_quoted(buf, count, syscall_string_trunc = 50) shows for a written buffer. */
export function quoteBuffer(data: string, inlen: number, outlen: number): string {
  return textStr(data, inlen, outlen, true, true);
}

function repeatTo(data: string, n: number): string {
  if (data === "") return "";
  let s = data;
  while (s.length < n && s.length < 512) s += data;
  return s.slice(0, Math.min(n, 512));
}

const fdVars = { fd: long((e) => e.fd) };

const SYSCALLS: SyscallDef[] = [
  {
    name: "openat",
    kfunc: "__x64_sys_openat",
    source: "fs/open.c:1342",
    vars: {
      dfd: long(() => -100),
      dfd_str: str(() => "AT_FDCWD"),
      filename: str((e) => `"${e.file?.path ?? ""}"`),
      flags: long(() => 0o2000000),
      flags_str: str(() => "O_RDONLY|O_CLOEXEC"),
      mode: long(() => 0),
    },
    argstr: (e) => `AT_FDCWD, "${e.file?.path ?? ""}", O_RDONLY|O_CLOEXEC`,
    targets: {
      $dfd: long(() => -100),
      $filename: long((e) => e.buf),
      $flags: long(() => 0o2000000),
      $mode: long(() => 0),
    },
  },
  {
    name: "close",
    kfunc: "__x64_sys_close",
    source: "fs/open.c:1541",
    vars: { fd: long((e) => e.fd) },
    argstr: (e) => String(e.fd),
    targets: { $fd: long((e) => e.fd) },
  },
  {
    name: "read",
    kfunc: "__x64_sys_read",
    source: "fs/read_write.c:621",
    vars: { ...fdVars, buf_uaddr: long((e) => e.buf), count: long((e) => e.count) },
    argstr: (e) => `${e.fd}, ${hex(e.buf)}, ${e.count}`,
    targets: { $fd: long((e) => e.fd), $buf: long((e) => e.buf), $count: long((e) => e.count) },
  },
  {
    name: "write",
    kfunc: "__x64_sys_write",
    source: "fs/read_write.c:646",
    vars: {
      ...fdVars,
      buf_uaddr: long((e) => e.buf),
      count: long((e) => e.count),
      buf_str: str((e) => quoteBuffer(repeatTo(e.data, e.count), e.count, 50)),
    },
    argstr: (e) => `${e.fd}, ${quoteBuffer(repeatTo(e.data, e.count), e.count, 50)}, ${e.count}`,
    targets: { $fd: long((e) => e.fd), $buf: long((e) => e.buf), $count: long((e) => e.count) },
  },
  {
    name: "fsync",
    kfunc: "__x64_sys_fsync",
    source: "fs/sync.c:220",
    vars: fdVars,
    argstr: (e) => String(e.fd),
    targets: { $fd: long((e) => e.fd) },
  },
  {
    name: "fdatasync",
    kfunc: "__x64_sys_fdatasync",
    source: "fs/sync.c:225",
    vars: fdVars,
    argstr: (e) => String(e.fd),
    targets: { $fd: long((e) => e.fd) },
  },
  {
    name: "lseek",
    kfunc: "__x64_sys_lseek",
    source: "fs/read_write.c:385",
    vars: {
      fildes: long((e) => e.fd),
      offset: long((e) => e.pos),
      whence: long(() => 0),
      whence_str: str(() => "SEEK_SET"),
    },
    argstr: (e) => `${e.fd}, ${e.pos}, SEEK_SET`,
    targets: { $fd: long((e) => e.fd), $offset: long((e) => e.pos), $whence: long(() => 0) },
  },
  {
    name: "epoll_wait",
    kfunc: "__x64_sys_epoll_wait",
    source: "fs/eventpoll.c:2267",
    vars: {
      epfd: long((e) => e.fd),
      events_uaddr: long((e) => e.buf),
      maxevents: long(() => 64),
      timeout: long((e) => e.timeout),
    },
    argstr: (e) => `${e.fd}, ${hex(e.buf)}, 64, ${e.timeout}`,
    targets: {
      $epfd: long((e) => e.fd),
      $events: long((e) => e.buf),
      $maxevents: long(() => 64),
      $timeout: long((e) => e.timeout),
    },
  },
  {
    name: "poll",
    kfunc: "__x64_sys_poll",
    source: "fs/select.c:1068",
    vars: { ufds_uaddr: long((e) => e.buf), nfds: long(() => 2), timeout: long((e) => e.timeout) },
    argstr: (e) => `${hex(e.buf)}, 2, ${e.timeout}`,
    targets: { $ufds: long((e) => e.buf), $nfds: long(() => 2), $timeout_msecs: long((e) => e.timeout) },
  },
  {
    name: "select",
    kfunc: "__x64_sys_select",
    source: "fs/select.c:722",
    vars: {
      n: long((e) => e.fd + 1),
      readfds_uaddr: long((e) => e.buf),
      writefds_uaddr: long(() => 0),
      exceptfds_uaddr: long(() => 0),
      timeout_uaddr: long((e) => e.buf + 0x80),
    },
    argstr: (e) =>
      `${e.fd + 1}, ${hex(e.buf)}, 0x0, 0x0, [${Math.floor(e.timeout / 1000)}.${
        String((e.timeout % 1000) * 1000).padStart(6, "0")
      }]`,
    targets: { $n: long((e) => e.fd + 1), $inp: long((e) => e.buf) },
  },
  {
    name: "futex",
    kfunc: "__x64_sys_futex",
    source: "kernel/futex/syscalls.c:160",
    vars: {
      futex_uaddr: long((e) => e.buf),
      op: long(() => 128),
      val: long(() => 0),
      utime_uaddr: long(() => 0),
    },
    argstr: (e) => `${hex(e.buf)}, FUTEX_WAIT_PRIVATE, 0, NULL`,
    targets: { $uaddr: long((e) => e.buf), $op: long(() => 128), $val: long(() => 0) },
  },
  {
    name: "recvfrom",
    kfunc: "__x64_sys_recvfrom",
    source: "net/socket.c:2222",
    vars: {
      s: long((e) => e.fd),
      buf_uaddr: long((e) => e.buf),
      len: long((e) => e.count),
      flags: long(() => 0),
    },
    argstr: (e) => `${e.fd}, ${hex(e.buf)}, ${e.count}, 0x0, 0x0, 0x0`,
    targets: { $fd: long((e) => e.fd), $ubuf: long((e) => e.buf), $size: long((e) => e.count) },
  },
  {
    name: "sendto",
    kfunc: "__x64_sys_sendto",
    source: "net/socket.c:2163",
    vars: {
      s: long((e) => e.fd),
      buf_uaddr: long((e) => e.buf),
      len: long((e) => e.count),
      flags: long(() => 0),
      buf: str((e) => quoteBuffer(repeatTo(e.data, e.count), e.count, 50)),
    },
    argstr: (e) =>
      `${e.fd}, ${quoteBuffer(repeatTo(e.data, e.count), e.count, 50)}, ${e.count}, 0x0, NULL, 0`,
    targets: { $fd: long((e) => e.fd), $buff: long((e) => e.buf), $len: long((e) => e.count) },
  },
];

/**
 * System calls that exist on the simulated kernel (so `syscall.NAME` resolves, as on a real machine) but that
 * the workload never makes: their probes never fire. Only `name`, `argstr` and `retstr` are defined.
 */
const QUIET_SYSCALLS = [
  "open",
  "creat",
  "unlink",
  "unlinkat",
  "rename",
  "renameat2",
  "mkdir",
  "rmdir",
  "stat",
  "lstat",
  "fstat",
  "newfstatat",
  "statx",
  "clone",
  "clone3",
  "fork",
  "vfork",
  "execve",
  "execveat",
  "exit",
  "exit_group",
  "kill",
  "tgkill",
  "mmap",
  "munmap",
  "mprotect",
  "brk",
  "ioctl",
  "fcntl",
  "socket",
  "connect",
  "accept",
  "accept4",
  "bind",
  "listen",
  "sendmsg",
  "recvmsg",
  "pipe",
  "pipe2",
  "dup",
  "dup2",
  "dup3",
  "getdents64",
  "chdir",
  "wait4",
  "nanosleep",
  "clock_nanosleep",
  "readv",
  "writev",
  "pread64",
  "pwrite64",
  "sync",
  "syncfs",
  "truncate",
  "ftruncate",
  "fallocate",
  "epoll_ctl",
  "epoll_pwait",
  "ppoll",
  "pselect6",
  "getpid",
  "gettid",
  "setsid",
  "chmod",
  "fchmod",
  "chown",
  "fchown",
  "access",
  "faccessat",
  "readlink",
  "mount",
  "umount2",
  "shutdown",
  "sendto_unused_placeholder",
].filter((n) => !n.endsWith("_placeholder"));

/** x86_64 system call numbers of the calls the workload makes (for sys_enter/sys_exit and syscall_any). */
export const SYSCALL_NR: Record<string, number> = {
  read: 0,
  write: 1,
  close: 3,
  poll: 7,
  lseek: 8,
  select: 23,
  sendto: 44,
  recvfrom: 45,
  fsync: 74,
  fdatasync: 75,
  futex: 202,
  epoll_wait: 232,
  openat: 257,
};

/** Linux x86_64 errno names, for retstr of failed calls. */
const ERRNO: Record<number, string> = { 2: "ENOENT", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 110: "ETIMEDOUT" };

/** The tapset's `return_str(1, ret)`. */
export function returnString(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = ERRNO[-ret];
  return name ? `${ret} (${name})` : String(ret);
}

function vfsVars(kind: "read" | "write"): Record<string, ContextVar> {
  const bytesName = kind === "read" ? "bytes_to_read" : "bytes_to_write";
  return {
    file: long((e) => e.file?.address ?? 0),
    pathname: str((e) => e.file?.path ?? ""),
    pos: long((e) => e.pos),
    buf: long((e) => e.buf),
    [bytesName]: long((e) => e.count),
    dev: long((e) => e.file?.dev ?? 0),
    devname: str((e) => e.file?.devname ?? "N/A"),
    ino: long((e) => e.file?.ino ?? 0),
    name: str(() => `vfs.${kind}`),
  };
}

function build(): CataloguePoint[] {
  const points: CataloguePoint[] = [];
  const add = (p: Omit<CataloguePoint, "id">) => points.push({ ...p, id: points.length });
  const kf = (fn: string, ret: boolean): PointComponent[] => [
    { name: "kernel", arg: null },
    { name: "function", arg: fn },
    ...(ret ? [{ name: "return", arg: null }] : []),
  ];
  const kfText = (fn: string, ret: boolean) => `kernel.function("${fn}")${ret ? ".return" : ""}`;
  // pp() keeps the components the probe was written with: the syscall tapset writes `.call`, vfs.* and a
  // plain kernel.function("f") do not.
  const kfPp = (fn: string, src: string, ret: boolean, call = false) =>
    `kernel.function("${fn}@${src}")${ret ? ".return" : call ? ".call" : ""}`;
  for (const s of SYSCALLS) {
    const entryVars = { ...s.vars, name: str(() => s.name), argstr: ContextVarOf(s.argstr) };
    // SYSC_RETVALSTR: retval (4.0+) and retstr.
    const retVars = {
      name: str(() => s.name),
      retval: long((e) => e.ret),
      retstr: str((e) => returnString(e.ret)),
    };
    const retTargets = { $return: long((e) => e.ret) };
    for (const family of ["syscall", "nd_syscall"]) {
      const pp = family === "syscall"
        ? kfPp(s.kfunc, s.source, false, true)
        : `kprobe.function("${s.kfunc}")`;
      add({
        components: [{ name: family, arg: null }, { name: s.name, arg: null }],
        text: `${family}.${s.name}`,
        pp,
        func: s.kfunc,
        vars: entryVars,
        targets: family === "syscall" ? s.targets : {},
        isReturn: false,
      });
      add({
        components: [{ name: family, arg: null }, { name: s.name, arg: null }, { name: "return", arg: null }],
        text: `${family}.${s.name}.return`,
        pp: family === "syscall" ? kfPp(s.kfunc, s.source, true) : `kprobe.function("${s.kfunc}").return`,
        func: s.kfunc,
        vars: retVars,
        targets: family === "syscall" ? retTargets : {},
        isReturn: true,
      });
    }
    add({
      components: kf(s.kfunc, false),
      text: kfText(s.kfunc, false),
      pp: kfPp(s.kfunc, s.source, false),
      func: s.kfunc,
      vars: {},
      targets: s.targets,
      isReturn: false,
    });
    add({
      components: kf(s.kfunc, true),
      text: kfText(s.kfunc, true),
      pp: kfPp(s.kfunc, s.source, true),
      func: s.kfunc,
      vars: {},
      targets: retTargets,
      isReturn: true,
    });
  }
  for (const name of QUIET_SYSCALLS) {
    const kfunc = `__x64_sys_${name}`;
    const vars = { name: str(() => name), argstr: str(() => "") };
    const retVars = {
      name: str(() => name),
      retval: long((e) => e.ret),
      retstr: str((e) => returnString(e.ret)),
    };
    for (const family of ["syscall", "nd_syscall"]) {
      add({
        components: [{ name: family, arg: null }, { name, arg: null }],
        text: `${family}.${name}`,
        pp: `kernel.function("${kfunc}").call`,
        func: kfunc,
        vars,
        targets: {},
        isReturn: false,
      });
      add({
        components: [{ name: family, arg: null }, { name, arg: null }, { name: "return", arg: null }],
        text: `${family}.${name}.return`,
        pp: `kernel.function("${kfunc}").return`,
        func: kfunc,
        vars: retVars,
        targets: { $return: long((e) => e.ret) },
        isReturn: true,
      });
    }
  }
  for (const kind of ["read", "write"] as const) {
    const fn = `vfs_${kind}`;
    const src = kind === "read" ? "fs/read_write.c:450" : "fs/read_write.c:564";
    const targets: Record<string, ContextVar> = {
      $file: long((e) => e.file?.address ?? 0),
      $buf: long((e) => e.buf),
      $count: long((e) => e.count),
      $pos: long((e) => e.pos),
    };
    const entry = {
      ...vfsVars(kind),
      argstr: str((e) => `${e.count}, ${e.pos}, ${hex(e.buf)}`),
    };
    const ret: Record<string, ContextVar> = {
      ...vfsVars(kind),
      retstr: str((e) => String(e.ret)),
      ret: long((e) => e.ret),
      [kind === "read" ? "bytes_read" : "bytes_written"]: long((e) => (e.ret > 0 ? e.ret : 0)),
      error: long((e) => (e.ret < 0 ? e.ret : 0)),
      error_str: str((e) => (e.ret < 0 ? ERRNO[-e.ret] ?? "" : "")),
    };
    add({
      components: [{ name: "vfs", arg: null }, { name: kind, arg: null }],
      text: `vfs.${kind}`,
      pp: kfPp(fn, src, false),
      func: fn,
      vars: entry,
      targets,
      isReturn: false,
    });
    add({
      components: [{ name: "vfs", arg: null }, { name: kind, arg: null }, { name: "return", arg: null }],
      text: `vfs.${kind}.return`,
      pp: kfPp(fn, src, true),
      func: fn,
      vars: ret,
      targets: { ...targets, $return: long((e) => e.ret) },
      isReturn: true,
    });
    add({
      components: kf(fn, false),
      text: kfText(fn, false),
      pp: kfPp(fn, src, false),
      func: fn,
      vars: {},
      targets,
      isReturn: false,
    });
    add({
      components: kf(fn, true),
      text: kfText(fn, true),
      pp: kfPp(fn, src, true),
      func: fn,
      vars: {},
      targets: { ...targets, $return: long((e) => e.ret) },
      isReturn: true,
    });
  }
  const state = (running: boolean) => (running ? 0 : 1);
  add({
    components: [{ name: "scheduler", arg: null }, { name: "cpu_off", arg: null }],
    text: "scheduler.cpu_off",
    pp: 'kernel.trace("sched:sched_switch")',
    func: "__schedule",
    vars: {
      name: str(() => "cpu_off"),
      task_prev: long((e) => e.prev.address),
      task_next: long((e) => e.next.address),
      idle: long((e) => (e.prev.pid === 0 ? 1 : 0)),
    },
    targets: {},
    isReturn: false,
  });
  add({
    components: [{ name: "scheduler", arg: null }, { name: "cpu_on", arg: null }],
    text: "scheduler.cpu_on",
    pp: 'kernel.function("finish_task_switch@kernel/sched/core.c:5094")',
    func: "finish_task_switch",
    vars: {
      name: str(() => "cpu_on"),
      task_prev: long((e) => e.prev.address),
      idle: long((e) => (e.next.pid === 0 ? 1 : 0)),
    },
    targets: { $prev: long((e) => e.prev.address) },
    isReturn: false,
  });
  add({
    components: [{ name: "scheduler", arg: null }, { name: "ctxswitch", arg: null }],
    text: "scheduler.ctxswitch",
    pp: 'kernel.trace("sched:sched_switch")',
    func: "__schedule",
    vars: {
      name: str(() => "ctxswitch"),
      prev_pid: long((e) => e.prev.pid),
      next_pid: long((e) => e.next.pid),
      prev_tid: long((e) => e.prev.tid),
      next_tid: long((e) => e.next.tid),
      prev_task_name: str((e) => e.prev.execname),
      next_task_name: str((e) => e.next.execname),
      prev_priority: long((e) => e.prev.priority),
      next_priority: long((e) => e.next.priority),
      prevtsk_state: long((e) => state(e.prev.pid === 0)),
      nexttsk_state: long(() => 0),
    },
    targets: {},
    isReturn: false,
  });
  add({
    components: kf("finish_task_switch", false),
    text: kfText("finish_task_switch", false),
    pp: 'kernel.function("finish_task_switch@kernel/sched/core.c:5094")',
    func: "finish_task_switch",
    vars: {},
    targets: { $prev: long((e) => e.prev.address) },
    isReturn: false,
  });
  add({
    components: [{ name: "kernel", arg: null }, { name: "trace", arg: "sched_switch" }],
    text: 'kernel.trace("sched_switch")',
    pp: 'kernel.trace("sched:sched_switch")',
    func: "__schedule",
    vars: {},
    targets: { $prev: long((e) => e.prev.address), $next: long((e) => e.next.address) },
    isReturn: false,
  });
  const postgres = "/usr/lib/postgresql/9.6/bin/postgres";
  for (const fn of ["exec_simple_query", "XLogFlush", "XLogBackgroundFlush"]) {
    for (const ret of [false, true]) {
      const comps: PointComponent[] = [{ name: "process", arg: postgres }, { name: "function", arg: fn }];
      if (ret) comps.push({ name: "return", arg: null });
      add({
        components: comps,
        text: `process("${postgres}").function("${fn}")${ret ? ".return" : ""}`,
        pp: `process("${postgres}").function("${fn}@postgres.c:0")${ret ? ".return" : ".call"}`,
        func: fn,
        vars: {},
        targets: ret ? { $return: long((e) => e.ret) } : {},
        isReturn: ret,
      });
    }
  }
  // The woken task is `next` of the event; the context (pid(), execname()) is the waker's CPU's task.
  add({
    components: [{ name: "scheduler", arg: null }, { name: "wakeup", arg: null }],
    text: "scheduler.wakeup",
    pp: 'kernel.trace("sched:sched_wakeup")',
    func: "try_to_wake_up",
    vars: {
      name: str(() => "wakeup"),
      task: long((e) => e.next.address),
      task_pid: long((e) => e.next.pid),
      task_tid: long((e) => e.next.tid),
      task_priority: long((e) => e.next.priority),
      task_cpu: long((e) => e.cpu),
      task_state: long(() => 1),
    },
    targets: { $p: long((e) => e.next.address) },
    isReturn: false,
  });
  add({
    components: [{ name: "kernel", arg: null }, { name: "trace", arg: "sched_wakeup" }],
    text: 'kernel.trace("sched_wakeup")',
    pp: 'kernel.trace("sched:sched_wakeup")',
    func: "try_to_wake_up",
    vars: {},
    targets: { $p: long((e) => e.next.address) },
    isReturn: false,
  });
  // Raw syscall tracepoints and the syscall_any tapset aliases on them.
  const nr = (e: WorkloadEvent) => SYSCALL_NR[e.syscall] ?? -1;
  add({
    components: [{ name: "kernel", arg: null }, { name: "trace", arg: "sys_enter" }],
    text: 'kernel.trace("sys_enter")',
    pp: 'kernel.trace("raw_syscalls:sys_enter")',
    func: "syscall_trace_enter",
    vars: {},
    targets: { $id: long(nr) },
    isReturn: false,
  });
  add({
    components: [{ name: "kernel", arg: null }, { name: "trace", arg: "sys_exit" }],
    text: 'kernel.trace("sys_exit")',
    pp: 'kernel.trace("raw_syscalls:sys_exit")',
    func: "syscall_exit_work",
    vars: {},
    targets: { $ret: long((e) => e.ret) },
    isReturn: false,
  });
  add({
    components: [{ name: "syscall_any", arg: null }],
    text: "syscall_any",
    pp: 'kernel.trace("raw_syscalls:sys_enter")',
    func: "syscall_trace_enter",
    vars: { syscall_nr: long(nr), name: str((e) => e.syscall) },
    targets: { $id: long(nr) },
    isReturn: false,
  });
  add({
    components: [{ name: "syscall_any", arg: null }, { name: "return", arg: null }],
    text: "syscall_any.return",
    pp: 'kernel.trace("raw_syscalls:sys_exit")',
    func: "syscall_exit_work",
    vars: { syscall_nr: long(nr), name: str((e) => e.syscall), retval: long((e) => e.ret) },
    targets: { $ret: long((e) => e.ret) },
    isReturn: true,
  });
  // PostgreSQL's SDT markers (built with --enable-dtrace): query__start/query__done around each simple query,
  // $arg1 the query text.
  for (const [mark, ret] of [["query__start", false], ["query__done", true]] as const) {
    add({
      components: [{ name: "process", arg: postgres }, { name: "mark", arg: mark }],
      text: `process("${postgres}").mark("${mark}")`,
      pp: `process("${postgres}").mark("${mark}")`,
      func: "exec_simple_query",
      vars: {},
      targets: { $arg1: long((e) => e.buf) },
      isReturn: ret,
    });
  }
  return points;
}

function ContextVarOf(get: (e: WorkloadEvent) => string): ContextVar {
  return { type: "string", get };
}

/** Every probe point of the simulated machine, ids = index. */
export const CATALOGUE: readonly CataloguePoint[] = build();
