import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { SimEngine } from "../../tests/support/sim_engine.ts";
import { until } from "../../tests/support/poll.ts";
import { alive, killAndWait } from "../../tests/support/processes.ts";
import { listModules, moduleState } from "../driver/kernel.ts";
import { StapfrError } from "../errors.ts";
import { listRunFiles } from "../read_path/files.ts";
import { stateOf } from "./engine.ts";
import { signalDaemonUntilGone, stopRecorder } from "./stop.ts";

const decoder = new TextDecoder();

/** A sink that keeps what it is given, as text. */
function collector(): { sink: (chunk: Uint8Array) => Promise<void>; text: () => string } {
  const chunks: string[] = [];
  return {
    sink: (chunk) => {
      chunks.push(decoder.decode(chunk, { stream: true }));
      return Promise.resolve();
    },
    text: () => chunks.join(""),
  };
}

/** Two lines, one at the start and one at the end: all a stop must pass on. */
const BEGIN_END =
  'global n\nprobe begin { printf("tick %d\\n", ++n) }\nprobe end { printf("tick %d\\n", ++n) }\n';

Deno.test("stop (memory): what is buffered and the end probes' output are passed on; the module unloads, the entry goes", async () => {
  await SimEngine.with(async (sim) => {
    const { engine } = sim;
    await sim.start("web", { script: { text: BEGIN_END } });
    const module = (await engine.registry.get("web"))!.module;
    const host = await sim.hostPid(module);
    const out = collector();
    const result = await stopRecorder(engine, "web", out.sink);
    assertEquals(out.text(), "tick 1\ntick 2\n");
    assertEquals(
      [result.mode, result.state, result.stopped, result.discarded, result.bytes, result.run_dir],
      ["memory", "recording", true, false, 14, null],
    );
    assertEquals(await moduleState(engine.host.procRoot, module), "absent");
    assertEquals(await engine.registry.get("web"), undefined);
    await until("the module host to end", async () => !(await alive(host)), { timeoutMs: 10_000 });
  });
});

Deno.test("stop (memory) discard: unloaded unread, nothing passed on", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web");
    const module = (await sim.engine.registry.get("web"))!.module;
    const out = collector();
    const result = await stopRecorder(sim.engine, "web", out.sink, { discard: true });
    assertEquals(out.text(), "");
    assertEquals([result.stopped, result.discarded, result.bytes, result.loss_unknown], [
      true,
      true,
      0,
      "discarded unread",
    ]);
    assertEquals(await moduleState(sim.engine.host.procRoot, module), "absent");
    assertEquals(await sim.engine.registry.get("web"), undefined);
  });
});

Deno.test("stop asked to stop before it began (memory, file): an AbortError, and the recorders keep recording", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("mem");
    await sim.start("web", { output: `${sim.root}/out` });
    for (const name of ["mem", "web"]) {
      const err = await assertRejects(
        () => stopRecorder(sim.engine, name, () => Promise.resolve(), { signal: AbortSignal.abort() }),
        DOMException,
      );
      assertEquals(err.name, "AbortError");
      const record = await sim.engine.registry.get(name);
      assert(record, "still registered");
      assertEquals(await stateOf(record, await listModules(sim.engine.host.procRoot)), "recording", name);
    }
  });
});

Deno.test("stop (file): only what was appended while ending is passed on; the daemon ends; the files stay", async () => {
  await SimEngine.with(async (sim) => {
    const { engine } = sim;
    await sim.start("web", { output: `${sim.root}/out`, script: { text: BEGIN_END } });
    const record = (await engine.registry.get("web"))!;
    const output = record.output!;
    const written = async () =>
      (await Promise.all(
        listRunFiles(output.runDir, output.base).map((f) => Deno.readTextFile(f.path)),
      )).join("");
    await until("the begin probe's line in the files", async () => (await written()) === "tick 1\n");
    const out = collector();
    const result = await stopRecorder(engine, "web", out.sink);
    assertEquals(out.text(), "tick 2\n", "the end probe's line, not what was there before");
    assertEquals(await written(), "tick 1\ntick 2\n", "the files are kept");
    assertEquals(
      [result.mode, result.state, result.stopped, result.bytes, result.run_dir],
      ["file", "recording", true, 7, output.runDir],
    );
    assert(!(await alive(record.pid!)), "the daemon ended");
    assertEquals(await moduleState(engine.host.procRoot, record.module), "absent");
    assertEquals(await engine.registry.get("web"), undefined);
  });
});

Deno.test("stop (file) discard: ended, nothing passed on, the files kept", async () => {
  await SimEngine.with(async (sim) => {
    const { engine } = sim;
    await sim.start("web", { output: `${sim.root}/out`, script: { text: BEGIN_END } });
    const record = (await engine.registry.get("web"))!;
    const out = collector();
    const result = await stopRecorder(engine, "web", out.sink, { discard: true });
    assertEquals([out.text(), result.stopped, result.discarded, result.bytes], ["", true, true, 0]);
    assert(!(await alive(record.pid!)), "the daemon ended");
    assert(listRunFiles(record.output!.runDir, record.output!.base).length > 0, "the files are kept");
    assertEquals(await engine.registry.get("web"), undefined);
  });
});

Deno.test("stop (file) of a recording that already ended: nothing to end, the entry is removed", async () => {
  await SimEngine.with(async (sim) => {
    const { engine } = sim;
    await sim.start("web", { output: `${sim.root}/out` });
    const record = (await engine.registry.get("web"))!;
    // The daemon ends the recording itself on SIGTERM (as when the script calls exit()).
    Deno.kill(record.pid!, "SIGTERM");
    await until(
      "it to have ended",
      async () => (await stateOf(record, await listModules(engine.host.procRoot))) === "exited",
    );
    const out = collector();
    const result = await stopRecorder(engine, "web", out.sink);
    assertEquals([result.state, result.stopped, result.bytes], ["exited", false, 0]);
    assertEquals(await engine.registry.get("web"), undefined);
  });
});

Deno.test("stop of a recorder that does not exist is an error, not_found", async () => {
  await SimEngine.with(async (sim) => {
    const err = await assertRejects(
      () => stopRecorder(sim.engine, "nobody", () => Promise.resolve()),
      StapfrError,
    );
    assertEquals((err as StapfrError).code, "not_found");
  });
});

Deno.test("signalDaemonUntilGone: a process that ends on the signal, one already gone, one that ignores it", async () => {
  const ends = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const ignores = new Deno.Command("sh", {
    args: ["-c", `trap "" TERM; echo ready; exec sleep 30`],
    stdout: "piped",
  })
    .spawn();
  try {
    await signalDaemonUntilGone(ends.pid, undefined, "SIGTERM", 2000);
    assertEquals((await ends.status).signal, "SIGTERM");
    await signalDaemonUntilGone(ends.pid, undefined, "SIGTERM", 2000);
    // Wait until the trap is set (the shell says so after setting it).
    const reader = ignores.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    const t = Date.now();
    const err = await assertRejects(
      () => signalDaemonUntilGone(ignores.pid, undefined, "SIGTERM", 100, 3),
      StapfrError,
    );
    assertEquals((err as StapfrError).code, "timeout");
    assertMatch(err.message, new RegExp(`pid ${ignores.pid}\\) did not exit after 3 SIGTERM signals`));
    assert(Date.now() - t >= 300, "three waits of 100 ms");
    assert(await alive(ignores.pid));
  } finally {
    await killAndWait([ends.pid, ignores.pid]);
    await ends.status;
    await ignores.stdout.cancel().catch(() => {});
    await ignores.status;
  }
});
