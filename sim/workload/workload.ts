/**
 * The synthetic workload: a deterministic stream of probe hits on virtual time from the simulated machine
 * (`workload_machine.ts`), for a seed and a rate.
 *
 * `rate` counts workload *events* per second of virtual time over all CPUs: one event is one thing a task does
 * (a system call, a user-space function call, giving up the CPU). One event fires several probe points: a
 * `read` fires `syscall.read`, `kernel.function("vfs_read")`, `vfs.read`, and later (after the call's
 * duration) the `.return` points; a task that gets a CPU fires the scheduler points first. The random draws do
 * not depend on which points a script probes, so a seed gives the same machine history to every script.
 * @module
 */
import { Prng } from "./prng.ts";
import { type Activity, idleTask, machineTasks, type SimTask } from "./machine.ts";
import { WorkloadEvent } from "./event.ts";
import { CATALOGUE, type CataloguePoint } from "./catalogue.ts";

export { CATALOGUE, type CataloguePoint, WorkloadEvent };
export type { SimTask };

/** How a workload is set up. */
export interface WorkloadOptions {
  cpus: number;
  seed: number;
  /** Events per second of virtual time over all CPUs (0: no events). */
  rate: number;
}

/** A call whose return points are still to fire. */
interface Pending {
  time: number;
  task: SimTask;
  activity: Activity;
  cpu: number;
  fd: number;
  count: number;
  pos: number;
  buf: number;
  ret: number;
  timeout: number;
  fileIndex: number;
  activityIndex: number;
  data: string;
}

const byText = new Map(CATALOGUE.map((p) => [p.text, p.id]));
function id(text: string): number {
  const v = byText.get(text);
  if (v === undefined) throw new Error(`Unknown catalogue point "${text}"`);
  return v;
}

interface CallPoints {
  entry: number[];
  ret: number[];
  /** The enabled ones among entry and ret (rebuilt by enable()). */
  liveEntry: number[];
  liveRet: number[];
}

function callPoints(activity: Activity): CallPoints {
  if (activity.syscall === "ufunc") {
    const pg = `process("/usr/lib/postgresql/9.6/bin/postgres")`;
    const base = `${pg}.function("${activity.fn}")`;
    if (activity.fn === "exec_simple_query") {
      return live({
        entry: [id(base), id(`${pg}.mark("query__start")`)],
        ret: [id(`${pg}.mark("query__done")`), id(base + ".return")],
      });
    }
    return live({ entry: [id(base)], ret: [id(base + ".return")] });
  }
  const s = activity.syscall;
  const k = CATALOGUE.find((p) => p.text === `syscall.${s}`)!.func;
  const entry = [
    id('kernel.trace("sys_enter")'),
    id("syscall_any"),
    id(`syscall.${s}`),
    id(`nd_syscall.${s}`),
    id(`kernel.function("${k}")`),
  ];
  const ret = [
    id(`kernel.function("${k}").return`),
    id(`nd_syscall.${s}.return`),
    id(`syscall.${s}.return`),
    id('kernel.trace("sys_exit")'),
    id("syscall_any.return"),
  ];
  if (s === "read" || s === "write") {
    entry.push(id(`kernel.function("vfs_${s}")`), id(`vfs.${s}`));
    ret.unshift(id(`kernel.function("vfs_${s}").return`), id(`vfs.${s}.return`));
  }
  return live({ entry, ret });
}

function live(p: { entry: number[]; ret: number[] }): CallPoints {
  return { ...p, liveEntry: [], liveRet: [] };
}

const SWITCH_POINTS = [
  id("scheduler.cpu_off"),
  id('kernel.trace("sched_switch")'),
  id("scheduler.ctxswitch"),
];
const WAKEUP_POINTS = [id('kernel.trace("sched_wakeup")'), id("scheduler.wakeup")];
const SWITCH_ON_POINTS = [id('kernel.function("finish_task_switch")'), id("scheduler.cpu_on")];

/** A deterministic generator of probe hits. */
export class Workload {
  readonly tasks: SimTask[];
  readonly cpus: number;
  /** Set by the consumer: called for every hit of an enabled point, with the reused event record. */
  onHit: (event: WorkloadEvent) => void = () => {};
  /** enabled[pointId]: whether anyone listens (hits of other points are not delivered); set with enable(). */
  readonly enabled: Uint8Array = new Uint8Array(CATALOGUE.length);
  /** The task on each CPU. */
  readonly current: SimTask[];
  /** Events generated so far. */
  events = 0;

  private readonly rng: Prng;
  private readonly meanGapNs: number;
  private nextEventTime: number;
  private readonly cumulative: number[];
  private readonly totalWeight: number;
  /** Per task (by index): cumulative activity weights and the points each activity fires. */
  private readonly activityTables: { cum: number[]; total: number; points: CallPoints[] }[] = [];
  private readonly idle: SimTask[];
  private readonly pending: Pending[] = [];
  private readonly pool: Pending[] = [];
  /** The call each task has in flight (by task index), or null. */
  private readonly inFlight: (Pending | null)[] = [];
  private pendingMin = Infinity;
  private pendingMinIndex = -1;
  private readonly event = new WorkloadEvent();
  private liveSwitch: number[] = [];
  private liveSwitchOn: number[] = [];
  private liveWakeup: number[] = [];

  constructor(options: WorkloadOptions) {
    this.cpus = Math.max(1, options.cpus);
    this.tasks = machineTasks(this.cpus);
    this.rng = new Prng(options.seed);
    this.meanGapNs = options.rate > 0 ? 1e9 / options.rate : Infinity;
    this.idle = Array.from({ length: this.cpus }, (_, c) => idleTask(c));
    this.current = this.idle.slice();
    this.cumulative = [];
    let total = 0;
    for (const t of this.tasks) {
      total += t.weight;
      this.cumulative.push(total);
      let at = 0;
      const cum: number[] = [];
      for (const a of t.activities) cum.push(at += a.weight);
      this.activityTables[t.index] = {
        cum,
        total: at,
        points: t.activities.map((
          a,
        ) => (a.syscall === "switch" ? live({ entry: [], ret: [] }) : callPoints(a))),
      };
    }
    this.totalWeight = total;
    this.nextEventTime = this.rng.exponential(this.meanGapNs);
  }

  /** Delivers the hits of a point from now on (the lists of live points are rebuilt, so a hit checks nothing). */
  enable(pointId: number): void {
    this.enabled[pointId] = 1;
    const on = (list: number[]) => list.filter((p) => this.enabled[p] === 1);
    for (const table of this.activityTables) {
      for (const cp of table.points) {
        cp.liveEntry = on(cp.entry);
        cp.liveRet = on(cp.ret);
      }
    }
    this.liveSwitch = on(SWITCH_POINTS);
    this.liveSwitchOn = on(SWITCH_ON_POINTS);
    this.liveWakeup = on(WAKEUP_POINTS);
  }

  /** The idle task of a CPU. */
  idleTask(cpu: number): SimTask {
    return this.idle[cpu];
  }

  /** Time of the next hit-producing step (Infinity when there is none). */
  nextTime(): number {
    const p = this.pendingMin;
    return p < this.nextEventTime ? p : this.nextEventTime;
  }

  /** Runs the next step (one event, or one pending return), delivering its hits. */
  step(): void {
    if (this.pendingMin <= this.nextEventTime) {
      this.finishCall(this.removePending(this.pendingMinIndex));
      return;
    }
    this.startEvent();
  }

  private pick(cum: number[], total: number, u: number): number {
    const x = u * total;
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private deliver(points: number[], e: WorkloadEvent): void {
    for (let i = 0; i < points.length; i++) {
      e.point = points[i];
      this.onHit(e);
    }
  }

  private switchTo(cpu: number, next: SimTask, time: number): void {
    const prev = this.current[cpu];
    if (prev === next) return;
    // A task runs on one CPU at a time: if it is current elsewhere, that CPU goes idle silently.
    for (let c = 0; c < this.cpus; c++) {
      if (c !== cpu && this.current[c] === next) this.current[c] = this.idle[c];
    }
    const e = this.event;
    e.time = time;
    e.cpu = cpu;
    e.prev = prev;
    e.next = next;
    e.task = prev;
    this.deliver(this.liveSwitch, e);
    this.current[cpu] = next;
    e.task = next;
    this.deliver(this.liveSwitchOn, e);
  }

  private startEvent(): void {
    const time = this.nextEventTime;
    this.nextEventTime = time + this.rng.exponential(this.meanGapNs);
    this.events++;
    // One draw picks the CPU and, from what is left of it, whether the running task continues.
    const u = this.rng.next() * this.cpus;
    const cpu = u | 0;
    const running = this.current[cpu];
    let task: SimTask;
    if (running.pid !== 0 && u - cpu < 0.7) task = running;
    else task = this.tasks[this.pick(this.cumulative, this.totalWeight, this.rng.next())];
    const table = this.activityTables[task.index];
    // One draw picks the activity and, from its place inside the activity's share, the call's size and result.
    const x = this.rng.next() * table.total;
    const which = this.pick(table.cum, table.total, x / table.total);
    const activity = task.activities[which];
    const low = which === 0 ? 0 : table.cum[which - 1];
    const draw = (x - low) / (table.cum[which] - low);
    const busy = this.inFlight[task.index];
    if (busy) {
      // One call per task at a time: the task's blocking call returns now (it was woken up).
      busy.time = time;
      this.finishCall(this.removePending(this.pending.indexOf(busy)));
    }
    this.switchTo(cpu, task, time);
    if (activity.syscall === "switch") {
      this.switchTo(cpu, this.idle[cpu], time);
      return;
    }
    const e = this.event;
    e.time = time;
    e.cpu = cpu;
    e.task = task;
    e.prev = e.next = task;
    e.syscall = activity.syscall;
    e.fn = activity.fn;
    const fileIndex = activity.file;
    e.file = fileIndex >= 0 ? task.files[fileIndex] : null;
    e.fd = fileIndex >= 0
      ? task.fds[fileIndex]
      : (activity.syscall === "epoll_wait" ? 3 + (task.pid % 7) : -1);
    const [lo, hi] = activity.bytes;
    e.count = lo + Math.floor(draw * (hi - lo + 1));
    if (e.count > 4096) e.count -= e.count % 4096;
    const file = e.file;
    e.pos = file !== null ? file.pos : 0;
    if (activity.syscall === "read" || activity.syscall === "write") {
      if (file !== null) file.pos = (e.pos + e.count) % (1 << 30);
    }
    e.buf = 0x55d0c8a00000 + task.pid * 0x10000 + fileIndex * 0x2000;
    e.data = activity.syscall === "ufunc" && activity.fn === "exec_simple_query"
      ? QUERIES[Math.floor(draw * QUERIES.length)]
      : activity.data;
    e.timeout = activity.syscall === "epoll_wait" || activity.syscall === "poll" ? 200 : 1000;
    e.ret = 0;
    const points = table.points[which];
    this.deliver(points.liveEntry, e);
    const p = this.pool.pop() ?? ({} as Pending);
    p.time = time + Math.max(1, Math.round(this.rng.exponential(activity.durationNs)));
    p.task = task;
    p.activity = activity;
    p.cpu = cpu;
    p.fd = e.fd;
    p.count = e.count;
    p.pos = e.pos;
    p.buf = e.buf;
    p.timeout = e.timeout;
    p.fileIndex = fileIndex;
    p.activityIndex = which;
    p.data = e.data;
    p.ret = returnValue(activity, e.count, draw, e.fd);
    this.pushPending(p);
  }

  private finishCall(p: Pending): void {
    const task = p.task;
    const e = this.event;
    if (p.activity.durationNs >= 1e5 && p.activity.syscall !== "ufunc") {
      // A blocking call ends with a wakeup, in the context of whatever runs on that CPU.
      e.time = p.time;
      e.cpu = p.cpu;
      e.task = this.current[p.cpu];
      e.prev = e.task;
      e.next = task;
      this.deliver(this.liveWakeup, e);
    }
    this.switchTo(p.cpu, task, p.time);
    e.time = p.time;
    e.cpu = p.cpu;
    e.task = task;
    e.prev = e.next = task;
    e.syscall = p.activity.syscall;
    e.fn = p.activity.fn;
    e.file = p.fileIndex >= 0 ? task.files[p.fileIndex] : null;
    e.fd = p.fd;
    e.count = p.count;
    e.pos = p.pos;
    e.buf = p.buf;
    e.data = p.data;
    e.timeout = p.timeout;
    e.ret = p.ret;
    const points = this.activityTables[task.index].points[p.activityIndex];
    this.pool.push(p);
    this.deliver(points.liveRet, e);
  }

  private pushPending(p: Pending): void {
    this.inFlight[p.task.index] = p;
    this.pending.push(p);
    if (p.time < this.pendingMin) {
      this.pendingMin = p.time;
      this.pendingMinIndex = this.pending.length - 1;
    }
  }

  /** Removes pending call i (order does not matter: at most one call per task is in flight). */
  private removePending(i: number): Pending {
    const h = this.pending;
    const p = h[i];
    const last = h.pop()!;
    if (i < h.length) h[i] = last;
    this.inFlight[p.task.index] = null;
    let min = Infinity, at = -1;
    for (let k = 0; k < h.length; k++) if (h[k].time < min) (min = h[k].time), (at = k);
    this.pendingMin = min;
    this.pendingMinIndex = at;
    return p;
  }
}

/** What the PostgreSQL backends run (the query text of query__start's $arg1). */
const QUERIES = [
  "SELECT count(*) FROM orders WHERE created_at > now() - interval '1 hour';",
  "SELECT id, status FROM orders WHERE customer_id = 4211;",
  "UPDATE accounts SET balance = balance - 25.00 WHERE id = 77;",
  "INSERT INTO audit_log (who, what) VALUES ('app', 'login');",
  "BEGIN;",
  "COMMIT;",
];

function returnValue(a: Activity, count: number, draw: number, fd: number): number {
  switch (a.syscall) {
    case "openat":
      return draw < 0.05 ? -2 : fd;
    case "read":
    case "recvfrom":
      return draw < 0.03 ? -11 : count;
    case "write":
    case "sendto":
      return count;
    case "epoll_wait":
    case "poll":
    case "select":
      return draw < 0.4 ? 0 : 1;
    case "lseek":
      return 8192 * Math.floor(draw * 1000);
    case "futex":
      return draw < 0.2 ? -11 : 0;
    default:
      return 0;
  }
}
