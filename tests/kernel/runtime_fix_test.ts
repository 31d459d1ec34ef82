import { assert, assertEquals } from "@std/assert";
import { fixedRuntime, renameTaskWorkCancel, RUNTIME_DIR } from "./runtime_fix.ts";

Deno.test("renameTaskWorkCancel renames the kernel function and leaves the runtime's own names", () => {
  const source = [
    "typedef typeof(&task_work_cancel) task_work_cancel_fn;",
    "#define task_work_cancel (* (task_work_cancel_fn)kallsyms_task_work_cancel)",
    'kallsyms_task_work_cancel = (void *)kallsyms_lookup_name("task_work_cancel");',
    "stp_task_work_cancel(struct task_struct *task, task_work_func_t func)",
    "twork = task_work_cancel(task, func);",
  ].join("\n");
  assertEquals(renameTaskWorkCancel(source).split("\n"), [
    "typedef typeof(&task_work_cancel_func) task_work_cancel_fn;",
    "#define task_work_cancel_func (* (task_work_cancel_fn)kallsyms_task_work_cancel)",
    'kallsyms_task_work_cancel = (void *)kallsyms_lookup_name("task_work_cancel_func");',
    "stp_task_work_cancel(struct task_struct *task, task_work_func_t func)",
    "twork = task_work_cancel_func(task, func);",
  ]);
});

let installed = true;
try {
  Deno.statSync(`${RUNTIME_DIR}/stp_task_work.c`);
} catch {
  installed = false;
}

Deno.test({
  name: "fixedRuntime copies the installed runtime and changes stp_task_work.c only",
  ignore: !installed,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "stapfr-runtime-" });
    try {
      const dir = await fixedRuntime(`${tmp}/runtime`);
      const fixed = await Deno.readTextFile(`${dir}/stp_task_work.c`);
      assert(fixed.includes('kallsyms_lookup_name("task_work_cancel_func")'));
      assertEquals(
        await Deno.readTextFile(`${dir}/runtime.h`),
        await Deno.readTextFile(`${RUNTIME_DIR}/runtime.h`),
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
