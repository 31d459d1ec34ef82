import { assert, assertEquals, assertRejects } from "@std/assert";
import { SimEngine } from "../../tests/support/sim_engine.ts";
import { until } from "../../tests/support/poll.ts";
import { StapfrError } from "../errors.ts";
import { watchStatePath } from "../watcher_record.ts";
import type { TriggerSpec } from "./spec.ts";
import { fireTrigger } from "./trigger_request.ts";
import { runWatcher } from "./watcher.ts";

/** Runs `fn` while a watcher of "web" with these triggers runs in this process; stops it after. */
async function whileWatching(
  sim: SimEngine,
  triggers: TriggerSpec[],
  fn: () => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  let started = false;
  const watching = runWatcher(sim.engine, sim.store, {
    name: "web",
    triggers,
    policies: {},
    pollMs: 100,
    until: stop.signal,
    onEvent: (e) => started ||= e.type === "started",
  });
  try {
    await until("the watcher to start", () => started);
    await fn();
  } finally {
    stop.abort();
    await watching;
  }
}

Deno.test("trigger with no watcher takes a plain snapshot, by the user, with the reason", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web", { output: `${sim.root}/out` });
    const r = await fireTrigger(sim.engine, sim.store, "web", { reason: "deploy" });
    assertEquals([r.sent_to, r.decision], [null, null]);
    assertEquals([r.snapshot?.recorder, r.snapshot?.reason, r.snapshot?.trigger], ["web", "deploy", "user"]);
    const stored = await sim.store.find(r.snapshot!.id);
    assertEquals(stored.manifest.trigger, { kind: "user", detail: "stapfr trigger (no watcher)" });
  });
});

Deno.test("trigger with a watcher goes to it and answers with its decision; no snapshot of its own", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web", { output: `${sim.root}/out` });
    await whileWatching(sim, [{ kind: "signal" }], async () => {
      const r = await fireTrigger(sim.engine, sim.store, "web", { reason: "deploy" });
      assertEquals(r, { sent_to: Deno.pid, decision: "fired: snapshot now", snapshot: null });
      await until("the watcher's snapshot", async () => (await sim.store.list()).snapshots.length === 1);
      const [shot] = (await sim.store.list()).snapshots;
      assertEquals(shot.manifest.trigger, { kind: "signal", detail: "deploy" });
    });
  });
});

Deno.test("trigger with a watcher that has no signal trigger is refused, and nothing is taken", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web", { output: `${sim.root}/out` });
    await whileWatching(sim, [{ kind: "process", pid: Deno.pid }], async () => {
      const err = await assertRejects(() => fireTrigger(sim.engine, sim.store, "web"), StapfrError);
      assertEquals((err as StapfrError).code, "not_running");
      assertEquals(err.message, `The watcher of "web" (pid ${Deno.pid}) has no signal trigger`);
    });
    assertEquals((await sim.store.list()).snapshots, []);
  });
});

Deno.test("trigger with a watcher's file left by a watcher that is gone takes a plain snapshot", async () => {
  await SimEngine.with(async (sim) => {
    await sim.start("web", { output: `${sim.root}/out` });
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    await Deno.writeTextFile(
      watchStatePath(sim.engine.registry, "web"),
      JSON.stringify({
        pid: gone.pid,
        pidStart: 1,
        started_at: new Date().toISOString(),
        triggers: ["signal"],
        fired: 0,
        snapshots: 0,
        failed: 0,
        suppressed: {},
        last: null,
      }),
    );
    const r = await fireTrigger(sim.engine, sim.store, "web");
    assertEquals(r.sent_to, null);
    assert(r.snapshot);
  });
});

Deno.test("trigger of a recorder that does not exist is not_found", async () => {
  await SimEngine.with(async (sim) => {
    const err = await assertRejects(() => fireTrigger(sim.engine, sim.store, "nobody"), StapfrError);
    assertEquals((err as StapfrError).code, "not_found");
  });
});
