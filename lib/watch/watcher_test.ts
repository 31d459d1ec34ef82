import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { SimEngine } from "../../tests/support/sim_engine.ts";
import { until } from "../../tests/support/poll.ts";
import { killAndWait } from "../../tests/support/processes.ts";
import { processStartTime } from "../driver/kernel.ts";
import { StapfrError, UsageError } from "../errors.ts";
import { stopRecorder } from "../recorder/stop.ts";
import { SnapshotStore } from "../snapshots/store.ts";
import { readWatchState, watchStatePath } from "../watcher_record.ts";
import type { WatchEvent } from "./events.ts";
import { compilePattern } from "./pattern.ts";
import { parsePressureExpr } from "./spec.ts";
import { sendTrigger, triggerSocketPath } from "./trigger_socket.ts";
import { runWatcher, type WatchOptions, type WatchResult } from "./watcher.ts";

/** The suppression counts of a watcher that suppressed nothing. */
const NONE = { cooldown: 0, "max-per-day": 0, hold: 0, pending: 0 };

/** A watcher running over the simulator, with what it said. */
class Watching {
  readonly events: WatchEvent[] = [];
  readonly lines: string[] = [];
  readonly until = new AbortController();
  readonly result: Promise<WatchResult>;
  constructor(readonly sim: SimEngine, options: Partial<WatchOptions>, store: SnapshotStore = sim.store) {
    this.result = runWatcher(sim.engine, store, {
      name: "web",
      triggers: [{ kind: "signal" }],
      policies: {},
      pollMs: 100,
      until: this.until.signal,
      onEvent: (e) => this.events.push(e),
      log: (l) => this.lines.push(l),
      ...options,
    });
  }
  /** Waits for the watcher to say it started. */
  async started(): Promise<this> {
    await until("the watcher to start", () => this.types().includes("started") || this.ended());
    return this;
  }
  #ended = false;
  ended(): boolean {
    this.result.then(() => this.#ended = true, () => this.#ended = true);
    return this.#ended;
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
  of<T extends WatchEvent["type"]>(type: T): Extract<WatchEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<WatchEvent, { type: T }> => e.type === type);
  }
  trigger(reason: string | null = "test"): Promise<string> {
    return sendTrigger(triggerSocketPath(this.sim.engine.registry, "web"), reason);
  }
  async stop(): Promise<WatchResult> {
    this.until.abort();
    return await this.result;
  }
}

/** Runs `fn` with a recorder "web" on the simulator (a file recorder unless `memory`). */
function withRecorder(fn: (sim: SimEngine) => Promise<void>, memory = false): Promise<void> {
  return SimEngine.with(async (sim) => {
    await sim.start("web", memory ? {} : { output: `${sim.root}/out` });
    await fn(sim);
  });
}

Deno.test("watch: a trigger request is a snapshot with the trigger in its manifest; the watcher's file while it runs", async () => {
  await withRecorder(async (sim) => {
    const w = await new Watching(sim, {}).started();
    const state = await readWatchState(sim.engine.registry, "web");
    assertEquals([state?.pid, state?.triggers], [Deno.pid, ["signal"]]);
    assertEquals(await w.trigger("deploy went wrong"), "fired: snapshot now");
    await until("the snapshot", () => w.of("snapshot").length === 1 || w.of("snapshot_failed").length > 0);
    const [shot] = w.of("snapshot");
    assertEquals([shot.trigger, shot.detail], ["signal", "deploy went wrong"]);
    const stored = await sim.store.find(shot.id);
    assertEquals(stored.manifest.trigger.kind, "signal");
    assertEquals(stored.manifest.trigger.detail, "deploy went wrong");
    await until(
      "the file to count it",
      async () => (await readWatchState(sim.engine.registry, "web"))?.snapshots === 1,
    );
    const result = await w.stop();
    assertEquals(result, {
      snapshots: [shot.id],
      fired: 1,
      suppressed: NONE,
      reason: "stopped",
      detail: null,
    });
    assertEquals(w.types(), ["started", "fired", "snapshot", "exited"]);
    assertEquals(w.lines.length, 3, "a fired event taken at once has no line of its own");
    await assertRejects(() => Deno.stat(watchStatePath(sim.engine.registry, "web")), Deno.errors.NotFound);
    assertEquals((await sim.engine.registry.get("web"))?.name, "web", "the recorder is left recording");
  });
});

Deno.test("watch: cooldown suppresses a second trigger, said to the sender and counted", async () => {
  await withRecorder(async (sim) => {
    const w = await new Watching(sim, { policies: { cooldownMs: 3_600_000 } }).started();
    assertEquals(await w.trigger(), "fired: snapshot now");
    await until("the snapshot", () => w.of("snapshot").length === 1 || w.of("snapshot_failed").length > 0);
    assertMatch(await w.trigger(), /^suppressed by cooldown until \d{4}-\d\d-\d\dT/);
    const result = await w.stop();
    assertEquals([result.fired, result.suppressed], [1, { ...NONE, cooldown: 1 }]);
    assertEquals(w.of("suppressed").map((e) => e.by), ["cooldown"]);
  });
});

Deno.test("watch: a delayed snapshot still waiting when the watcher stops is dropped, not taken", async () => {
  await withRecorder(async (sim) => {
    const w = await new Watching(sim, { policies: { delayMs: 3_600_000 } }).started();
    assertEquals(await w.trigger(), "fired: snapshot in 3600s");
    const result = await w.stop();
    assertEquals(result.snapshots, []);
    assertEquals(w.of("dropped").map((e) => e.reason), ["stopping"]);
    assertEquals((await sim.store.list()).snapshots, []);
  });
});

Deno.test("watch: a condition that keeps holding is said once; it fires when it has held long enough", async () => {
  await withRecorder(async (sim) => {
    const psi = `${sim.engine.host.procRoot}/pressure/memory`;
    await Deno.mkdir(`${sim.engine.host.procRoot}/pressure`, { recursive: true });
    await Deno.writeTextFile(psi, "some avg10=90.00 avg60=1.00 avg300=0.00 total=5\n");
    const w = await new Watching(sim, {
      triggers: [{
        kind: "pressure",
        resource: "memory",
        scope: "some",
        expr: parsePressureExpr("avg10>50"),
      }],
      policies: { holdMs: 600 },
      pollMs: 50,
    }).started();
    await until("the snapshot", () => w.of("snapshot").length === 1 || w.of("snapshot_failed").length > 0);
    assertEquals(w.of("holding").length, 1, w.lines.join("\n"));
    assertEquals(w.of("snapshot")[0].detail, "some avg10=90");
    const result = await w.stop();
    assertEquals(result.fired, 1, "once per stretch of the condition");
  });
});

Deno.test("watch: the recorder stopped from outside ends the watcher, which says why", async () => {
  await withRecorder(async (sim) => {
    const w = await new Watching(sim, {}).started();
    await stopRecorder(sim.engine, "web", () => Promise.resolve(), { discard: true });
    const result = await w.result;
    assertEquals([result.reason, result.detail], ["recorder-ended", `recorder "web" was stopped`]);
    assertEquals(w.types(), ["started", "recorder_ended", "exited"]);
  });
});

Deno.test("watch: service mode takes a final snapshot and stops the recorder; a cancel leaves it recording", async () => {
  await withRecorder(async (sim) => {
    const cancel = new AbortController();
    const cancelled = await new Watching(sim, { service: true, signal: cancel.signal }).started();
    cancel.abort();
    await cancelled.result;
    assertEquals(cancelled.types(), ["started", "exited"]);
    assert(await sim.engine.registry.get("web"), "a cancelled watcher leaves the recorder");

    const w = await new Watching(sim, { service: true }).started();
    const result = await w.stop();
    assertEquals([result.reason, result.snapshots.length], ["stopped", 1]);
    assertEquals(w.types(), ["started", "snapshot", "recorder_stopped", "exited"]);
    assertEquals(w.of("snapshot")[0].trigger, "service");
    assertEquals((await sim.store.find(result.snapshots[0])).manifest.trigger.kind, "service");
    assertEquals(await sim.engine.registry.get("web").catch(() => undefined), undefined, "stopped");
  });
});

Deno.test("watch: a snapshot that fails is said with its code and counted; the watcher goes on", async () => {
  await withRecorder(async (sim) => {
    // A store whose directory cannot be made: a file stands where its parent should be.
    await Deno.writeTextFile(`${sim.root}/not-a-dir`, "");
    const broken = new SnapshotStore(`${sim.root}/not-a-dir/snapshots`);
    const w = await new Watching(sim, {}, broken).started();
    await w.trigger();
    await until("the failure", () => w.of("snapshot_failed").length === 1);
    assertEquals((await readWatchState(sim.engine.registry, "web"))?.failed, 1);
    assertEquals(await w.trigger(), "fired: snapshot now", "the next one is let through");
    await until("the second failure", () => w.of("snapshot_failed").length === 2);
    const result = await w.stop();
    assertEquals([result.snapshots, result.fired], [[], 2]);
  });
});

Deno.test("watch: a consumer whose event handler throws does not stop the watcher", async () => {
  await withRecorder(async (sim) => {
    const seen: string[] = [];
    const w = new Watching(sim, {
      onEvent: (e) => {
        seen.push(e.type);
        throw new Error("the consumer's own mistake");
      },
    });
    await until("the watcher to start", () => seen.includes("started"));
    assertEquals(await w.trigger(), "fired: snapshot now");
    await until("the snapshot", () => seen.includes("snapshot") || seen.includes("snapshot_failed"));
    assertEquals((await w.stop()).snapshots.length, 1);
  });
});

Deno.test("watch: refused when it cannot watch (marker or switch-every on memory, not recording, another watcher)", async () => {
  await withRecorder(async (sim) => {
    // Stopped before it starts: a watcher that is not refused ends at once (and the test fails, not hangs).
    const options = { name: "web", triggers: [], policies: {}, until: AbortSignal.abort() };
    await assertRejects(
      () =>
        runWatcher(sim.engine, sim.store, {
          ...options,
          triggers: [{ kind: "marker", pattern: compilePattern("X", "marker") }],
        }),
      UsageError,
      "needs a file recorder",
    );
    await assertRejects(
      () => runWatcher(sim.engine, sim.store, { ...options, switchEveryMs: 1000 }),
      UsageError,
      "--switch-every",
    );
    await assertRejects(() => runWatcher(sim.engine, sim.store, { ...options, name: "nobody" }), StapfrError);

    // Another watcher, alive, holds the recorder; its file is left as it was.
    const other = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      const record = {
        pid: other.pid,
        pidStart: (await processStartTime(other.pid))!,
        started_at: new Date().toISOString(),
        triggers: ["signal"],
        fired: 0,
        snapshots: 0,
        failed: 0,
        suppressed: {},
        last: null,
      };
      await Deno.writeTextFile(watchStatePath(sim.engine.registry, "web"), JSON.stringify(record));
      const err = await assertRejects(() => runWatcher(sim.engine, sim.store, options), StapfrError);
      assertEquals([(err as StapfrError).code, err.message], [
        "busy",
        `Recorder "web" already has a watcher (pid ${other.pid})`,
      ]);
      assertEquals((await readWatchState(sim.engine.registry, "web"))?.pid, other.pid);
    } finally {
      await killAndWait([other.pid]);
      await other.status;
    }
    // Its watcher gone, the file is stale: a new watcher takes the recorder.
    const w = await new Watching(sim, {}).started();
    assertEquals((await readWatchState(sim.engine.registry, "web"))?.pid, Deno.pid);
    await w.stop();

    await stopRecorder(sim.engine, "web", () => Promise.resolve(), { discard: true });
    await assertRejects(() => runWatcher(sim.engine, sim.store, options), StapfrError);
  }, true);
});
