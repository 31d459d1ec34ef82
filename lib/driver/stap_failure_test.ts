import { assert, assertEquals, assertMatch } from "@std/assert";
import { explainFailure, type FailureContext } from "./stap_failure.ts";
import type { StapfrError } from "../errors.ts";

const base: FailureContext = {
  operation: "attach",
  recorder: "io",
  module: "stap_fr_io",
  program: "staprun",
  code: 1,
};
const notRunning = "ERROR: Cannot attach to module stap_fr_io control channel; not running?\n";
const notZombie = notRunning + "ERROR: 'stap_fr_io' is not a zombie systemtap module.\n";

Deno.test("explainFailure tells the look-alike attach and unload errors apart by the module table", () => {
  assertMatch(explainFailure(notRunning, { ...base, moduleState: "absent" }).message, /is not loaded/);
  assertMatch(explainFailure(notRunning, { ...base, moduleState: "attached" }).message, /already attached/);
  assertMatch(explainFailure(notRunning, { ...base, moduleState: "detached" }).message, /refused/);
  const unload = { ...base, operation: "unload" as const, code: 234 };
  assertMatch(
    explainFailure(notZombie, { ...unload, moduleState: "absent" }).message,
    /Cannot unload .*not loaded/,
  );
  assertMatch(explainFailure(notZombie, { ...unload, moduleState: "attached" }).message, /already attached/);
});

Deno.test("explainFailure: stapfr's explanation is the message, SystemTap's own lines its detail, always a hint", () => {
  const e = explainFailure(notRunning, { ...base, moduleState: "absent" });
  assertEquals(e.message.split("\n").length, 1);
  assertMatch(e.message, /^Cannot attach to recorder "io": /);
  assertEquals(e.detail, ["ERROR: Cannot attach to module stap_fr_io control channel; not running?"]);
  assert(e.hint && e.hint.length > 0);
});

Deno.test("explainFailure offers -v after -- only to start, the one command that passes arguments to stap", () => {
  for (const operation of ["start", "attach", "unload", "check"] as const) {
    const e = explainFailure("ERROR: boom\n", { ...base, operation, moduleState: "detached", code: 1 });
    assertEquals(e.hint!.includes("-v"), operation === "start", `${operation}: ${e.hint}`);
    assertEquals(e.detail, ["ERROR: boom"]);
  }
});

Deno.test("explainFailure maps every error of docs/systemtap-4.8.md 2.8 to its own message", () => {
  const start = { ...base, operation: "start" as const, program: "stap" };
  const cases: [string, FailureContext, RegExp][] = [
    ["", { ...base, moduleState: "detached" }, /permission denied on the control channel/],
    [
      "ERROR: Couldn't insert module '/x/stap_fr_io.ko': File exists\nERROR: Rerun with staprun option '-R' to rename this module.\n",
      start,
      /already loaded/,
    ],
    ["ERROR: Couldn't insert module '/x.ko': Function not implemented\n", start, /does not load modules/],
    ["ERROR: Couldn't insert module '/x.ko': Invalid module format\n", start, /built for another kernel/],
    ["ERROR: Couldn't insert module '/x.ko': Module has wrong symbol version\n", start, /another kernel/],
    ["ERROR: Couldn't insert module '/x.ko': Cannot allocate memory\n", start, /free memory/],
    ["ERROR: Couldn't insert module in FIPS mode '/x.ko': Operation not permitted\n", start, /FIPS/],
    ["ERROR: Couldn't insert module '/x.ko': Unknown symbol in module\n", start, /refused to load/],
    ["ERROR: You are trying to run systemtap as a normal user.\n", start, /not privileged/],
    [
      "ERROR: The effective user ID of staprun must be set to the root user.\n  Check permissions\n",
      start,
      /not setuid root/,
    ],
    ["sh: 1: /usr/bin/staprun: Permission denied\n", { ...start, code: 126 }, /not allowed to run staprun/],
    ["ERROR: Module name ('stap_x') is too long.\n", start, /too long/],
    [
      'Checking "/lib/modules/6.1.0/build/.config" failed with error: No such file or directory\n',
      start,
      /kernel headers/,
    ],
    ["semantic error: no match\nPass 2: analysis failed.  [man error::pass2]\n", start, /does not compile/],
    [
      "ERROR: Couldn't open script file 'x.stp': No such file or directory\n",
      start,
      /cannot read the script/,
    ],
    ["something new\n", { ...start, code: 7 }, /stap failed with exit status 7/],
  ];
  for (const [stderr, ctx, expected] of cases) {
    assertMatch(explainFailure(stderr, ctx).message, expected, stderr);
  }
});

// What Debian's stap 4.8 printed here, building for Debian 12's 6.1.0-57 kernel (which renamed
// task_work_cancel): the compiler's lines name files under /usr/src/linux-headers-*, so the headers case
// must not catch it first.
const TASK_WORK_FAILURE = `WARNING: Kernel function symbol table missing [man warning::symbols]
In file included from /usr/share/systemtap/runtime/stp_utrace.c:28,
                 from /usr/share/systemtap/runtime/runtime.h:26,
                 from /tmp/stapV91wCv/stap_fr_t2_src.c:21:
/usr/share/systemtap/runtime/stp_task_work.c: In function 'stp_task_work_cancel':
/usr/share/systemtap/runtime/stp_task_work.c:107:40: error: passing argument 2 of '(bool (*)(struct task_struct *, struct callback_head *))kallsyms_task_work_cancel' from incompatible pointer type [-Werror=incompatible-pointer-types]
  107 |         twork = task_work_cancel(task, func);
cc1: all warnings being treated as errors
make[1]: *** [/usr/src/linux-headers-6.1.0-57-common/scripts/Makefile.build:255: /tmp/stapV91wCv/stap_fr_t2_src.o] Error 1
make: *** [/usr/src/linux-headers-6.1.0-57-common/Makefile:2065: /tmp/stapV91wCv] Error 2
WARNING: kbuild exited with status: 2
Pass 4: compilation failed.  [man error::pass4]
`;

Deno.test("explainFailure recognises SystemTap 4.8's task_work_cancel failure and points at the runtime fix", () => {
  for (const operation of ["build", "start"] as const) {
    const e = explainFailure(TASK_WORK_FAILURE, { ...base, operation, program: "stap" });
    assertMatch(
      e.message,
      new RegExp(`^Cannot ${operation} recorder "io": SystemTap's runtime does not compile`),
    );
    assertMatch((e as StapfrError).detail!.join("\n"), /stp_task_work\.c:107:40: error/);
    assertMatch(
      e.hint!,
      /^Upgrade SystemTap, or pass a fixed copy of its runtime after "--" with stap's -R DIR/,
    );
    assertMatch(e.hint!, /docs\/prebuilt-modules\.md "The SystemTap 4\.8 runtime on current kernels"/);
  }
});

Deno.test("explainFailure names the kernel whose build tree is missing when build targets another one", () => {
  const stderr =
    'Checking "/lib/modules/6.12.9-x/build/.config" failed with error: No such file or directory\n';
  const start = explainFailure(stderr, { ...base, operation: "start", program: "stap" });
  assertMatch(start.message, /the kernel headers of the running kernel are missing/);
  assertMatch(start.hint!, /linux-headers-\$\(uname -r\)\) and start again/);
  const build = explainFailure(stderr, { ...base, operation: "build", program: "stap", release: "6.12.9-x" });
  assertMatch(
    build.message,
    /^Cannot build recorder "io": the kernel headers of kernel "6\.12\.9-x" are missing/,
  );
  assertMatch(build.hint!, /apt install linux-headers-6\.12\.9-x\) and build again/);
});

Deno.test("explainFailure: a prebuilt module the kernel rejects is to be built again, not headers installed", () => {
  const stderr = "ERROR: Couldn't insert module '/srv/stap_fr_io.ko': Invalid module format\n";
  const start = { ...base, operation: "start" as const, program: "staprun" };
  assertMatch(explainFailure(stderr, start).hint!, /linux-headers/);
  const prebuilt = explainFailure(stderr, { ...start, prebuilt: true });
  assertMatch(prebuilt.message, /rejected the module as built for another kernel/);
  assertMatch(
    prebuilt.hint!,
    /^Build it again for this kernel \("stapfr build NAME SCRIPT --kernel \$\(uname -r\)"\)$/,
  );
});
