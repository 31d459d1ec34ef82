/**
 * The simulated machine: its tasks (a PostgreSQL 9.6 server with its background processes, sshd, bash,
 * journald, kworkers, …), the files they touch and what each of them does, with rate shares.
 * Everything here is data; `workload.ts` turns it into a deterministic stream of events.
 * @module
 */

/** A file (or socket, pipe, tty) as the vfs probes see it. */
export interface SimFile {
  path: string;
  /** `devname` of the vfs probes: a block device name, or "N/A" for sockets, pipes and ttys. */
  devname: string;
  /** `dev` (major << 20 | minor, as the kernel's MKDEV). */
  dev: number;
  ino: number;
  /** A made-up kernel `struct file *` (negative as a signed 64-bit value, like real kernel pointers). */
  address: number;
  /** The file position (files are shared between tasks, e.g. the WAL). */
  pos: number;
}

/** One kind of thing a task does, with its share of the task's events. */
export interface Activity {
  /** The system call (its tapset name) or "switch" (the task gives up the CPU) or "ufunc" (user function). */
  syscall: string;
  weight: number;
  /** Index into the task's files (its fd table), or -1. */
  file: number;
  /** Bytes per read or write: min and max. */
  bytes: [number, number];
  /** How long the call takes, mean in nanoseconds (exponentially distributed). */
  durationNs: number;
  /** For "ufunc": the user-space function. */
  fn: string;
  /** Text written (for the `buf_str` of write), repeated to length. */
  data: string;
}

/** A process (one thread) on the machine. */
export interface SimTask {
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  euid: number;
  gid: number;
  /** The kernel `comm` (execname), at most 15 bytes. */
  execname: string;
  /** The executable's path (for `process("…")` probes). */
  exe: string;
  /** The raw argv area between `mm->arg_start` and `mm->arg_end`, NULs included. */
  argvArea: string;
  /** `cmdline_str()` of this task, computed once from argvArea as the tapset does. */
  cmdline: string;
  /** Share of all workload events. */
  weight: number;
  activities: Activity[];
  files: SimFile[];
  /** The CPU it prefers; it also runs on others sometimes. */
  homeCpu: number;
  priority: number;
  /** Index in the machine's task list. */
  index: number;
  /** Internal: fds of its files, same order as files. */
  fds: number[];
  /** A made-up `struct task_struct *`. */
  address: number;
}

/** The tapset's `cmdline_args(0, -1, " ")` over a raw argv area. */
export function cmdlineOfArea(area: string): string {
  let out = "";
  let start = 0;
  let nr = 0;
  while (start < area.length) {
    const end = area.indexOf("\0", start);
    const arg = area.slice(start, end === -1 ? area.length : end);
    start += arg.length + 1;
    if (nr === 0) out = arg;
    else out += arg === "" ? ' ""' : " " + arg;
    nr++;
  }
  return out;
}

/** A normal argv area: the arguments, each followed by a NUL. */
export function argvAreaOf(argv: string[]): string {
  return argv.map((a) => a + "\0").join("");
}

/**
 * The argv area of a process that rewrote its title in place (PostgreSQL 9.x `ps_status.c` with
 * PS_USE_CLOBBER_ARGV, sshd): the title is cut to the area and the rest is NUL-padded, which `cmdline_str()`
 * shows as a run of `""` arguments.
 */
export function clobberedArea(originalArgv: string[], title: string): string {
  const size = argvAreaOf(originalArgv).length;
  const t = title.slice(0, size - 1);
  return t + "\0".repeat(size - t.length);
}

let fileAddress = -0x777efc5b3700;
function file(path: string, devname: string, ino: number): SimFile {
  fileAddress += 0x100;
  const dev = devname === "N/A" ? 0x9 : devname === "dm-0" ? (253 << 20) : (8 << 20) | 1;
  return { path, devname, dev, ino, address: fileAddress, pos: 0 };
}

const pgData = "/var/lib/postgres/data";
const postmasterArgv = ["postgres", "-D", pgData];

interface TaskDef {
  pid: number;
  ppid: number;
  uid: number;
  execname: string;
  exe: string;
  argv: string[];
  title?: string;
  weight: number;
  files: SimFile[];
  activities: Activity[];
  priority?: number;
}

function act(
  syscall: string,
  weight: number,
  fileIndex: number,
  bytes: [number, number],
  durationNs: number,
  extra?: Partial<Activity>,
): Activity {
  // Every activity has every field, in one order (one hidden class on the hot path).
  return {
    syscall,
    weight,
    file: fileIndex,
    bytes,
    durationNs,
    fn: extra?.fn ?? "",
    data: extra?.data ?? "",
  };
}

const walFile = file(`${pgData}/pg_xlog/000000010000000000000003`, "dm-0", 1835041);
const relFile = file(`${pgData}/base/16384/16397`, "dm-0", 1836210);
const idxFile = file(`${pgData}/base/16384/16405`, "dm-0", 1836233);
const catFile = file(`${pgData}/base/16384/2619`, "dm-0", 1835677);
const statsFile = file(`${pgData}/pg_stat_tmp/global.stat`, "dm-0", 1835102);
const clientSock = file("socket:[48213]", "N/A", 48213);
const latchPipe = file("pipe:[40115]", "N/A", 40115);
const journalFile = file("/var/log/journal/3f9c0a1d/system.journal", "sda1", 262201);
const devKmsg = file("/dev/kmsg", "N/A", 10);
const sshSock = file("socket:[51007]", "N/A", 51007);
const ptmx = file("/dev/ptmx", "N/A", 87);
const tty = file("/dev/pts/0", "N/A", 3);
const bashrc = file("/home/alice/.bash_history", "sda1", 393311);

const postgresBin = "/usr/lib/postgresql/9.6/bin/postgres";

const TASKS: TaskDef[] = [
  {
    pid: 1,
    ppid: 0,
    uid: 0,
    execname: "systemd",
    exe: "/usr/lib/systemd/systemd",
    argv: ["/sbin/init"],
    weight: 1,
    files: [file("/proc/1/mountinfo", "N/A", 4026532), latchPipe],
    activities: [
      act("epoll_wait", 6, -1, [0, 0], 2e6),
      act("read", 2, 0, [1024, 4096], 8e3),
      act("switch", 2, -1, [0, 0], 0),
    ],
  },
  {
    pid: 312,
    ppid: 1,
    uid: 0,
    execname: "systemd-journal",
    exe: "/usr/lib/systemd/systemd-journald",
    argv: ["/lib/systemd/systemd-journald"],
    weight: 4,
    files: [journalFile, devKmsg],
    activities: [
      act("write", 5, 0, [64, 512], 6e3, { data: "\x01\x00\x00\x00MESSAGE=connection received" }),
      act("read", 3, 1, [128, 1024], 4e3),
      act("fsync", 1, 0, [0, 0], 3e6),
      act("epoll_wait", 4, -1, [0, 0], 1e6),
      act("switch", 2, -1, [0, 0], 0),
    ],
  },
  {
    pid: 701,
    ppid: 1,
    uid: 0,
    execname: "sshd",
    exe: "/usr/sbin/sshd",
    argv: ["/usr/sbin/sshd", "-D"],
    title: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
    weight: 1,
    files: [sshSock],
    activities: [act("poll", 5, -1, [0, 0], 5e6), act("switch", 1, -1, [0, 0], 0)],
  },
  {
    pid: 2201,
    ppid: 701,
    uid: 1000,
    execname: "sshd",
    exe: "/usr/sbin/sshd",
    argv: ["/usr/sbin/sshd", "-D", "-R"],
    title: "sshd: alice@pts/0",
    weight: 3,
    files: [sshSock, ptmx],
    activities: [
      act("read", 4, 1, [1, 256], 3e3),
      act("write", 4, 0, [36, 292], 5e3, { data: "\x00\x00\x00\x1c\x0a\x5e\x8b" }),
      act("select", 4, -1, [0, 0], 8e5),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 2210,
    ppid: 2201,
    uid: 1000,
    execname: "bash",
    exe: "/usr/bin/bash",
    argv: ["-bash"],
    weight: 2,
    files: [tty, bashrc],
    activities: [
      act("read", 5, 0, [1, 1], 2e6),
      act("write", 3, 0, [1, 80], 4e3, { data: "psql -c 'select count(*) from orders'\r\n" }),
      act("write", 1, 1, [20, 60], 9e3, { data: "psql -c 'select count(*) from orders'\n" }),
      act("openat", 1, 1, [0, 0], 6e3),
      act("close", 1, 1, [0, 0], 1e3),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7001,
    ppid: 1,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    weight: 1,
    files: [latchPipe],
    activities: [act("select", 5, -1, [0, 0], 6e7), act("switch", 1, -1, [0, 0], 0)],
  },
  {
    pid: 7012,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: checkpointer process   ",
    weight: 2,
    files: [relFile, idxFile, walFile],
    activities: [
      act("write", 4, 0, [8192, 8192], 1.2e4, { data: "\x00\x00\x00\x00\x88\x1f\x00\x01" }),
      act("write", 2, 1, [8192, 8192], 1.2e4, { data: "\x00\x00\x00\x00\x10\x2a\x00\x01" }),
      act("fsync", 1, 0, [0, 0], 4e6),
      act("epoll_wait", 3, -1, [0, 0], 5e6),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7013,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: writer process   ",
    weight: 3,
    files: [relFile, idxFile],
    activities: [
      act("write", 5, 0, [8192, 8192], 1.1e4, { data: "\x00\x00\x00\x00\x88\x1f\x00\x01" }),
      act("write", 2, 1, [8192, 8192], 1.1e4, { data: "\x00\x00\x00\x00\x10\x2a\x00\x01" }),
      act("epoll_wait", 4, -1, [0, 0], 2e6),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7014,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: wal writer process   ",
    weight: 8,
    files: [walFile],
    activities: [
      act("write", 6, 0, [8192, 65536], 1.5e4, { data: "\x93\xd0\x05\x00\x01\x00\x00\x00" }),
      act("fdatasync", 3, 0, [0, 0], 1.8e6),
      act("read", 2, 0, [8192, 8192], 9e3),
      act("ufunc", 2, -1, [0, 0], 2e3, { fn: "XLogBackgroundFlush" }),
      act("epoll_wait", 4, -1, [0, 0], 2e5),
      act("switch", 2, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7015,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: autovacuum launcher process   ",
    weight: 1,
    files: [catFile],
    activities: [
      act("read", 2, 0, [8192, 8192], 1e4),
      act("epoll_wait", 3, -1, [0, 0], 1e7),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7016,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: stats collector process   ",
    weight: 2,
    files: [statsFile, latchPipe],
    activities: [
      act("recvfrom", 4, 1, [64, 1024], 3e3),
      act("write", 2, 0, [512, 4096], 1e4, { data: "\x9a\xbc\xa5\x01PGSTAT" }),
      act("poll", 3, -1, [0, 0], 5e5),
      act("switch", 1, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7120,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: app appdb [local] idle",
    weight: 12,
    files: [relFile, idxFile, catFile, clientSock, walFile],
    activities: [
      act("read", 8, 0, [8192, 8192], 2.5e4),
      act("read", 5, 1, [8192, 8192], 2e4),
      act("read", 1, 2, [8192, 8192], 1.5e4),
      act("recvfrom", 4, 3, [5, 512], 4e3),
      act("sendto", 4, 3, [40, 8192], 6e3, { data: "T\x00\x00\x00\x1e\x00\x01count\x00" }),
      act("lseek", 3, 0, [0, 0], 1e3),
      act("openat", 1, 2, [0, 0], 9e3),
      act("close", 1, 2, [0, 0], 2e3),
      act("write", 1, 4, [8192, 8192], 1.2e4, { data: "\x93\xd0\x05\x00\x01\x00\x00\x00" }),
      act("ufunc", 3, -1, [0, 0], 4e5, { fn: "exec_simple_query" }),
      act("ufunc", 1, -1, [0, 0], 2e4, { fn: "XLogFlush" }),
      act("futex", 1, -1, [0, 0], 3e4),
      act("epoll_wait", 3, -1, [0, 0], 1e6),
      act("switch", 2, -1, [0, 0], 0),
    ],
  },
  {
    pid: 7121,
    ppid: 7001,
    uid: 112,
    execname: "postgres",
    exe: postgresBin,
    argv: postmasterArgv,
    title: "postgres: app appdb [local] SELECT",
    weight: 10,
    files: [relFile, idxFile, catFile, clientSock],
    activities: [
      act("read", 9, 0, [8192, 8192], 2.5e4),
      act("read", 4, 1, [8192, 8192], 2e4),
      act("recvfrom", 3, 3, [5, 512], 4e3),
      act("sendto", 3, 3, [40, 8192], 6e3, { data: "D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x0142" }),
      act("lseek", 2, 1, [0, 0], 1e3),
      act("ufunc", 3, -1, [0, 0], 4e5, { fn: "exec_simple_query" }),
      act("epoll_wait", 2, -1, [0, 0], 1e6),
      act("switch", 2, -1, [0, 0], 0),
    ],
  },
  {
    pid: 95,
    ppid: 2,
    uid: 0,
    execname: "kworker/0:1H",
    exe: "",
    argv: [],
    weight: 2,
    files: [],
    activities: [act("switch", 1, -1, [0, 0], 0)],
  },
  {
    pid: 211,
    ppid: 2,
    uid: 0,
    execname: "kworker/u4:2",
    exe: "",
    argv: [],
    weight: 2,
    files: [],
    activities: [act("switch", 1, -1, [0, 0], 0)],
  },
  {
    pid: 14,
    ppid: 2,
    uid: 0,
    execname: "rcu_sched",
    exe: "",
    argv: [],
    weight: 1,
    files: [],
    activities: [act("switch", 1, -1, [0, 0], 0)],
  },
];

/** The tasks of the machine, in a fixed order. */
export function machineTasks(cpus: number): SimTask[] {
  return TASKS.map((d, index) => {
    const argvArea = d.argv.length === 0 ? "" : d.title ? clobberedArea(d.argv, d.title) : argvAreaOf(d.argv);
    return {
      pid: d.pid,
      tid: d.pid,
      ppid: d.ppid,
      uid: d.uid,
      euid: d.uid,
      gid: d.uid,
      execname: d.execname.slice(0, 15),
      exe: d.exe,
      argvArea,
      cmdline: cmdlineOfArea(argvArea),
      weight: d.weight,
      activities: d.activities,
      files: d.files,
      fds: d.files.map((_, i) => 3 + i + (d.pid % 5)),
      homeCpu: index % Math.max(1, cpus),
      priority: d.priority ?? 120,
      index,
      address: -0x777f00000000 + d.pid * 0x2000,
    };
  });
}

/** The idle task of a CPU (`swapper/N`, pid 0). */
export function idleTask(cpu: number): SimTask {
  return makeTask({
    pid: 0,
    ppid: 0,
    uid: 0,
    execname: `swapper/${cpu}`,
    exe: "",
    argvArea: "",
    homeCpu: cpu,
    index: -1 - cpu,
    address: -0x777f80000000 + cpu * 0x2000,
  });
}

/** A task outside the workload's table (idle tasks, stapio), with the same shape as the others. */
export function makeTask(t: {
  pid: number;
  ppid: number;
  uid: number;
  execname: string;
  exe: string;
  argvArea: string;
  homeCpu: number;
  index: number;
  address: number;
}): SimTask {
  return {
    pid: t.pid,
    tid: t.pid,
    ppid: t.ppid,
    uid: t.uid,
    euid: t.uid,
    gid: t.uid,
    execname: t.execname,
    exe: t.exe,
    argvArea: t.argvArea,
    cmdline: cmdlineOfArea(t.argvArea),
    weight: 0,
    activities: [],
    files: [],
    fds: [],
    homeCpu: t.homeCpu,
    priority: 120,
    index: t.index,
    address: t.address,
  };
}
