import { assert, assertEquals } from "@std/assert";
import { until } from "../../tests/support/poll.ts";
import {
  listModules,
  moduleState,
  parseModules,
  processAlive,
  processesAlive,
  processStartTime,
  readProcText,
  relayChannels,
} from "./kernel.ts";

Deno.test("parseModules reads names and refcounts of /proc/modules lines", () => {
  const text = "stap_fr_a 4096 0 - Live 0xffffffffc0a3d000 (OE)\nstap_fr_b 4096 1 - Live 0x0 (OE)\n\n";
  assertEquals(parseModules(text).map((m) => [m.name, m.refcount]), [["stap_fr_a", 0], ["stap_fr_b", 1]]);
});

Deno.test("listModules and moduleState read a /proc root and leave out modules whose host died", async () => {
  const root = await Deno.makeTempDir();
  try {
    assertEquals(await listModules(root), []);
    await Deno.writeTextFile(
      `${root}/modules`,
      "stap_fr_a 1 0 - Live 0x0 (OE)\nstap_fr_b 1 1 - Live 0x0 (OE)\nstap_fr_c 1 0 - Live 0x0 (OE)\n",
    );
    await Deno.mkdir(`${root}/systemtap/stap_fr_a`, { recursive: true });
    await Deno.writeTextFile(`${root}/systemtap/stap_fr_a/trace0`, "");
    await Deno.writeTextFile(`${root}/systemtap/stap_fr_a/trace1`, "");
    await Deno.writeTextFile(`${root}/systemtap/stap_fr_a/host.pid`, String(Deno.pid));
    // A pid that cannot exist: the host of stap_fr_c is gone.
    await Deno.mkdir(`${root}/systemtap/stap_fr_c`, { recursive: true });
    await Deno.writeTextFile(`${root}/systemtap/stap_fr_c/host.pid`, "999999999");
    assertEquals((await listModules(root)).map((m) => m.name), ["stap_fr_a", "stap_fr_b"]);
    assertEquals((await listModules(root, { includeGone: true })).length, 3);
    assertEquals(await moduleState(root, "stap_fr_a"), "detached");
    assertEquals(await moduleState(root, "stap_fr_b"), "attached");
    assertEquals(await moduleState(root, "stap_fr_c"), "absent");
    assertEquals(await relayChannels(root, "stap_fr_a"), 2);
    assertEquals(await relayChannels(root, "stap_fr_x"), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("processAlive tells a live process from a gone one, a zombie and a reused pid", async () => {
  assert(await processAlive(Deno.pid));
  assert(!(await processAlive(999999999)));
  assert(!(await processAlive(undefined)));
  const start = await processStartTime(Deno.pid);
  assert(start !== undefined);
  assert(await processAlive(Deno.pid, start));
  assert(!(await processAlive(Deno.pid, start + 1)));
  // A child that exited and is not reaped yet is a zombie: not alive.
  const child = new Deno.Command("true").spawn();
  await until("the child to exit", async () => (await processStartTime(child.pid)) === undefined, {
    intervalMs: 5,
  });
  assert(!(await processAlive(child.pid)));
  await child.status;
});

Deno.test("processesAlive: a pid that does not exist costs no helper process", async () => {
  // A `head` first on PATH that logs each run, then runs the real one.
  const dir = await Deno.makeTempDir({ prefix: "stapfr-kernel-test-" });
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  await Deno.writeTextFile(
    `${dir}/head`,
    `#!/bin/sh\necho "$*" >> '${dir}/log'\nPATH='${path}' exec head "$@"\n`,
    {
      mode: 0o755,
    },
  );
  const runs = async () =>
    (await Deno.readTextFile(`${dir}/log`).catch(() => "")).split("\n").filter(Boolean);
  Deno.env.set("PATH", `${dir}:${path}`);
  try {
    // 2^22 + 1 is above any pid_max: no process has this pid, and kill(pid, 0) says so without /proc.
    assertEquals(await processesAlive([{ pid: 4_194_305 }]), [false]);
    assertEquals(await runs(), []);
    // A live one is still read: through libc with --allow-ffi (no helper either), else through one helper.
    assertEquals(await processesAlive([{ pid: 4_194_305 }, { pid: Deno.pid }]), [false, true]);
    assert((await runs()).every((args) => !args.includes("4194305")), (await runs()).join("\n"));
    if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") assertEquals(await runs(), []);
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without --allow-ffi, the real /proc is still read (through helper processes) as with it", async () => {
  // The same reads in a Deno that may not use FFI (as a library program may run): kernel.ts falls back on
  // `cat`, `ls` and `head`, and answers what it answers here, where libc reads them.
  const script = `
    import { listModules, processesAlive, processStartTime, readProcDir, readProcText } from ${
    JSON.stringify(new URL("./kernel.ts", import.meta.url).href)
  };
    const pid = Number(Deno.args[0]);
    console.log(JSON.stringify({
      ffi: Deno.permissions.querySync({ name: "ffi" }).state,
      stat: (await readProcText("/proc/" + pid + "/cmdline")),
      gone: (await readProcText("/proc/999999999/stat")) ?? null,
      dir: (await readProcDir("/proc/" + pid))?.includes("stat"),
      start: await processStartTime(pid),
      alive: await processesAlive([{ pid }, { pid: 999999999 }]),
      modules: (await listModules("/proc")).length,
    }));
  `;
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    await until(
      "the child to run sleep",
      async () => (await readProcText(`/proc/${child.pid}/cmdline`))?.includes("30"),
      {
        intervalMs: 5,
      },
    );
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        "--allow-read",
        "--allow-run",
        "--allow-env",
        file,
        String(child.pid),
      ],
      stderr: "inherit",
    }).output().finally(() => Deno.remove(file));
    assert(out.success);
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      ffi: "prompt",
      stat: await readProcText(`/proc/${child.pid}/cmdline`),
      gone: null,
      dir: true,
      start: await processStartTime(child.pid),
      alive: [true, false],
      modules: (await listModules("/proc")).length,
    });
  } finally {
    child.kill();
    await child.status;
  }
});
