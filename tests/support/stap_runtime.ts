/**
 * What the tests that compile real SystemTap modules need to know about this machine: a kernel with a build
 * tree to compile for, whether that kernel renamed `task_work_cancel` (Linux 6.11, backported to 6.1.103+),
 * whether the installed SystemTap runtime still calls the old name (4.8 does), and a fixed copy of that
 * runtime (docs/prebuilt-modules.md "The SystemTap 4.8 runtime on current kernels").
 * @module
 */

/** The installed SystemTap runtime. */
export const RUNTIME_DIR = "/usr/share/systemtap/runtime";

/** A kernel release with a build tree (`/lib/modules/RELEASE/build`), the running one first; undefined if none. */
export function buildTarget(): { release: string; build: string } | undefined {
  const releases: string[] = [];
  try {
    for (const e of Deno.readDirSync("/lib/modules")) releases.push(e.name);
  } catch {
    return undefined;
  }
  releases.sort((a, b) => (a === Deno.osRelease() ? -1 : b === Deno.osRelease() ? 1 : a < b ? -1 : 1));
  for (const release of releases) {
    const build = `/lib/modules/${release}/build`;
    try {
      if (Deno.statSync(`${build}/Makefile`).isFile) return { release, build };
    } catch {
      // No headers for this one.
    }
  }
  return undefined;
}

/**
 * Whether a kernel's headers declare `task_work_cancel_func` (the renamed old `task_work_cancel`). Debian's
 * per-flavour tree includes the common tree from its Makefile, so both are looked at.
 */
export function kernelRenamedTaskWorkCancel(build: string): boolean {
  const dirs = [build];
  try {
    const m = /^include (\S+)\/Makefile$/m.exec(Deno.readTextFileSync(`${build}/Makefile`));
    if (m) dirs.push(m[1]);
  } catch {
    // No Makefile: look at the tree itself only.
  }
  return dirs.some((dir) => {
    try {
      return Deno.readTextFileSync(`${dir}/include/linux/task_work.h`).includes("task_work_cancel_func");
    } catch {
      return false;
    }
  });
}

/** Whether a SystemTap runtime still resolves the old `task_work_cancel` (SystemTap 4.8 and older do). */
export function runtimeCallsOldName(runtime = RUNTIME_DIR): boolean {
  try {
    return Deno.readTextFileSync(`${runtime}/stp_task_work.c`).includes(
      'kallsyms_lookup_name("task_work_cancel")',
    );
  } catch {
    return false;
  }
}

/**
 * Copies the runtime into `dest` (which must not exist) and renames `task_work_cancel` to
 * `task_work_cancel_func` in its `stp_task_work.c`, as a whole identifier: the typedef, the `#define`, the
 * `kallsyms_lookup_name` string and the call; `stp_task_work_cancel` and `kallsyms_task_work_cancel` stay.
 * Returns `dest`, for stap's `-R`.
 */
export async function makeFixedRuntime(dest: string, runtime = RUNTIME_DIR): Promise<string> {
  const cp = await new Deno.Command("cp", { args: ["-a", runtime, dest], stdout: "null", stderr: "piped" })
    .output();
  if (cp.code !== 0) throw new Error(`cp -a ${runtime} ${dest}: ${new TextDecoder().decode(cp.stderr)}`);
  const file = `${dest}/stp_task_work.c`;
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(file, text.replace(/\btask_work_cancel\b/g, "task_work_cancel_func"));
  return dest;
}
