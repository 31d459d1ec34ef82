/**
 * SystemTap 4.8's runtime does not compile against kernels that renamed `task_work_cancel(task, func)` to
 * `task_work_cancel_func()` (Linux 6.11, backported to Debian 12's 6.1 kernels): pass 4 fails in
 * `stp_task_work.c` (docs/kernel-lab.md "The runtime fix"). The lab compiles with a copy of the runtime in which
 * that file says `task_work_cancel_func` for the kernel function, handed to stap with `-R DIR`.
 * @module
 */
import { cp } from "node:fs/promises";

/** Where Debian's systemtap package keeps the runtime stap compiles into every module. */
export const RUNTIME_DIR = "/usr/share/systemtap/runtime";

/**
 * `stp_task_work.c` with every use of the kernel's `task_work_cancel` (the typedef, the `#define`, the symbol
 * looked up by name, the call) renamed; `stp_task_work_cancel`, `kallsyms_task_work_cancel` and
 * `task_work_cancel_fn` are the runtime's own names and stay.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(
 *   renameTaskWorkCancel('x = kallsyms_lookup_name("task_work_cancel"); stp_task_work_cancel(t, f);'),
 *   'x = kallsyms_lookup_name("task_work_cancel_func"); stp_task_work_cancel(t, f);',
 * );
 * ```
 */
export function renameTaskWorkCancel(source: string): string {
  return source.replace(/(?<![A-Za-z0-9_])task_work_cancel(?![A-Za-z0-9_])/g, "task_work_cancel_func");
}

/** Copies the runtime into `dir` (which must not exist) and applies the rename; returns `dir`. */
export async function fixedRuntime(dir: string, from = RUNTIME_DIR): Promise<string> {
  await cp(from, dir, { recursive: true });
  const file = `${dir}/stp_task_work.c`;
  const before = await Deno.readTextFile(file);
  const after = renameTaskWorkCancel(before);
  if (after === before) throw new Error(`No "task_work_cancel" to rename in "${file}"`);
  await Deno.writeTextFile(file, after);
  return dir;
}
