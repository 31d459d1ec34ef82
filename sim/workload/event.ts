/**
 * One probe hit of the synthetic workload: a mutable record the generator fills and the interpreter reads
 * (reused for every hit, so a hit allocates nothing).
 * @module
 */
import type { SimFile, SimTask } from "./machine.ts";

/** What the workload knows about the hit being delivered. */
export class WorkloadEvent {
  /** Virtual time in nanoseconds since the module was loaded. */
  time = 0;
  cpu = 0;
  /** The task running on the CPU (the one the context functions describe). */
  task!: SimTask;
  /** The catalogue id of the probe point. */
  point = 0;
  /** The system call (tapset name), for syscall-side points. */
  syscall = "";
  /** fd argument, or -1. */
  fd = -1;
  file: SimFile | null = null;
  /** Byte count argument (count, len). */
  count = 0;
  /** File position. */
  pos = 0;
  /** User buffer address. */
  buf = 0;
  /** Bytes the buffer holds (for write-like calls: the text written). */
  data = "";
  /** Return value (for return points). */
  ret = 0;
  /** Timeout argument (ms) for waits. */
  timeout = 0;
  /** Scheduler points: the task switched out and the one switched in. */
  prev!: SimTask;
  next!: SimTask;
  /** User-space function for process(…).function(…) points. */
  fn = "";
}
