/**
 * `watch`: runs in the foreground (made for systemd, fine in a terminal), runs the triggers, passes what they
 * report through the policies, takes snapshots through the store with the trigger in the manifest, and logs
 * one line per event. It never unloads the recorder, except in service mode when asked to stop (a final
 * snapshot, then a clean stop). Its state is in `STATE_DIR/NAME.watch` while it runs, for `status` and
 * `stapfr trigger`. Every event is reported as data (`onEvent`, lib/watch/events.ts) and as a log line made
 * from it (`log`). See docs/watch.md.
 * @module
 */
import { StapfrError, UsageError } from "../errors.ts";
import { processAlive, processStartTime } from "../driver/kernel.ts";
import { type Engine, getRecord, stateOf } from "../recorder/engine.ts";
import { listModules } from "../driver/kernel.ts";
import { stopRecorder } from "../recorder/stop.ts";
import { sleep } from "../driver/run.ts";
import type { ByteSink } from "../readers/concat.ts";
import { takeSnapshot } from "../snapshots/ops.ts";
import type { RetentionBounds } from "../snapshots/retention.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import type { Manifest } from "../snapshots/manifest.ts";
import { type Decision, type Policies, PolicyState } from "./policy.ts";
import type { TriggerSpec } from "./spec.ts";
import { makeTrigger, type Trigger, type TriggerSink } from "./triggers.ts";
import { readWatchState, type WatchState, watchStatePath } from "./state.ts";
import { triggerSocketPath } from "./trigger_socket.ts";
import { eventLine, type WatchEvent } from "./events.ts";
import { errorCode } from "../errors.ts";
import { operationError } from "../os_errors.ts";
import { declared } from "../cli/declared.ts";

/** What to watch, and how. */
export interface WatchOptions {
  /** The recorder. */
  name: string;
  /** Its triggers. */
  triggers: TriggerSpec[];
  /** The policies. */
  policies: Policies;
  /** Retention bounds applied after each snapshot (beyond the recorder's own). */
  retention?: RetentionBounds;
  /** File recorders: send stapio SIGUSR2 (switch files) this often. */
  switchEveryMs?: number;
  /** Service mode: when `until` stops it, take a final snapshot, then stop the recorder. */
  service?: boolean;
  /** Aborting it stops the watcher (after a snapshot in progress): it resolves, `reason: "stopped"`. */
  until?: AbortSignal;
  /**
   * Aborting it cancels the watcher: it stops as with `until` (but never stops the recorder, even in service
   * mode), and the call rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** One line per event, as `stapfr watch` prints them. */
  log?: (line: string) => void;
  /** Each event as data (lib/watch/events.ts). */
  onEvent?: (event: WatchEvent) => void;
  /** Where a service stop's buffered and end-probe output go. */
  out?: ByteSink;
  /** How often conditions and the recorder are checked (default 1 s). */
  pollMs?: number;
  /** Ships each snapshot (`--ship`; lib/fleet/shipper.ts): told of every snapshot, closed before exiting. */
  ship?: SnapshotShipping;
}

/** What the watcher needs of shipping (lib/fleet/shipper.ts has it). */
export interface SnapshotShipping {
  /** Starts shipping (what earlier watchers left pending first), once the watcher runs. */
  start(): void;
  /** Marks a new snapshot (its directory and manifest) to be shipped, before retention looks at it. */
  mark(snapshot: { path: string; manifest: Manifest }): Promise<void>;
  /** Ships it in the background. */
  add(snapshot: { path: string; manifest: Manifest }): void;
  /** A last attempt for what is queued; what is left stays pending. */
  close(): Promise<void>;
}

/** How the watcher ended. */
export interface WatchResult {
  /** The snapshots it took. */
  snapshots: string[];
  /** Triggers the policies let through. */
  fired: number;
  /** Triggers suppressed, by policy. */
  suppressed: Record<string, number>;
  /**
   * Why it stopped: asked to (`stopped`), the recorder ended (`recorder-ended`), or, in service mode, asked to
   * stop but the recorder could not be stopped (`stop-failed`: it is still recording).
   */
  reason: "stopped" | "recorder-ended" | "stop-failed";
  /** What ended the recorder, or why the service stop failed, in a few words; null when it was asked to stop. */
  detail: string | null;
}

/** How long a stopping watcher waits for its triggers to end (each ends at once; this is the backstop). */
const TRIGGERS_STOP_MS = 5000;
/**
 * How long a service stop waits for another reader (a long dump) to let go of a memory recorder before its
 * final snapshot and stop, so that the whole stop stays well within systemd's stop timeout.
 */
const SERVICE_READER_WAIT_MS = 20_000;

/** Waits for `work`, at most `ms`; whether it ended in time. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function stamp(): string {
  return new Date().toISOString();
}

/** Runs the watcher until `options.signal` aborts or the recorder stops recording. */
export async function runWatcher(
  engine: Engine,
  store: SnapshotStore,
  options: WatchOptions,
): Promise<WatchResult> {
  const record = await getRecord(engine, options.name);
  if (record.mode === "memory") {
    if (options.triggers.some((t) => t.kind === "marker")) {
      throw new UsageError(
        `"--on marker" needs a file recorder: reading a memory recorder's ring would drain it`,
      );
    }
    if (options.switchEveryMs !== undefined) throw new UsageError(`"--switch-every" needs a file recorder`);
  }
  const state0 = await stateOf(record, await listModules(engine.host.procRoot));
  if (state0 !== "recording") {
    throw new StapfrError(`Recorder "${record.name}" is ${state0}, not recording`, {
      code: "not_running",
      hint: "Start it first (or again) with stapfr start",
    });
  }
  // One watcher per recorder.
  const statePath = watchStatePath(engine.registry, record.name);
  const other = await readWatchState(engine.registry, record.name);
  if (other && other.pid !== Deno.pid && (await processAlive(other.pid, other.pidStart ?? undefined))) {
    throw new StapfrError(`Recorder "${record.name}" already has a watcher (pid ${other.pid})`, {
      code: "busy",
      hint: `Stop it first ("kill ${other.pid}")`,
    });
  }
  const policy = new PolicyState(options.policies);
  const taken: string[] = [];
  const state: WatchState = {
    pid: Deno.pid,
    pidStart: (await processStartTime(Deno.pid)) ?? null,
    started_at: stamp(),
    triggers: [],
    fired: 0,
    snapshots: 0,
    failed: 0,
    suppressed: policy.suppressed,
    last: null,
  };
  const saveState = async () => {
    state.fired = policy.fired;
    const temp = `${statePath}.tmp.${Deno.pid}`;
    await Deno.writeTextFile(temp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
    await Deno.rename(temp, statePath);
  };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  const outside = [options.until, options.signal].filter((s) => s !== undefined);
  for (const s of outside) s.addEventListener("abort", onAbort, { once: true });
  if (outside.some((s) => s.aborted)) stop.abort();
  let inFlight: Promise<void> | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  // Distributive, so that each event keeps its own fields.
  type Omitted<T> = T extends unknown ? Omit<T, "at"> : never;
  const emit = (event: Omitted<WatchEvent>): void => {
    const full = { at: stamp(), ...event } as WatchEvent;
    // A consumer's mistake must not stop the watcher: its events are reported, not relied on.
    try {
      options.onEvent?.(full);
    } catch { /* the caller's own */ }
    const text = eventLine(full);
    if (text !== undefined) options.log?.(text);
  };

  const snapshot = (trigger: Trigger | undefined, kind: string, detail: string, reason?: string) => {
    inFlight = (async () => {
      try {
        const { snapshot, pruned } = await takeSnapshot(engine, store, record.name, {
          reason: reason ?? `${kind}: ${detail}`,
          trigger: { kind, detail },
          retention: options.retention,
          beforeRetention: options.ship?.mark,
        });
        taken.push(snapshot.manifest.id);
        state.snapshots++;
        const label = trigger?.label ?? kind;
        emit({ type: "snapshot", trigger: label, detail, id: snapshot.manifest.id, path: snapshot.path });
        options.ship?.add(snapshot);
        for (const p of pruned) {
          const why = p.shipping === "pending" ? "not shipped yet: over the size bound" : undefined;
          emit({ type: "pruned", trigger: label, id: p.id, ...(why ? { detail: why } : {}) });
        }
      } catch (err) {
        state.failed++;
        emit({
          type: "snapshot_failed",
          trigger: trigger?.label ?? kind,
          detail,
          error: (err as Error).message,
          code: errorCode(err) ?? "failed",
        });
      } finally {
        policy.done();
        await saveState().catch(() => {});
      }
    })();
    return inFlight;
  };

  /** Carries out a decision of the policies; returns it in a few words (the answer to `stapfr trigger`). */
  const act = (trigger: Trigger, decision: Decision | undefined, detail: string): string => {
    if (!decision) return "no decision";
    state.last = { at: stamp(), trigger: trigger.label, decision: decision.action, detail };
    let said: string;
    if (decision.action === "waiting") {
      const until = new Date(decision.until).toISOString();
      said = `holding; fires if it holds until ${until}`;
      emit({ type: "holding", trigger: trigger.label, detail, until });
    } else if (decision.action === "suppressed") {
      const until = decision.until ? new Date(decision.until).toISOString() : null;
      said = `suppressed by ${decision.by}${until ? ` until ${until}` : ""}`;
      emit({ type: "suppressed", trigger: trigger.label, detail, by: decision.by, until });
    } else {
      const now = Date.now();
      const wait = Math.max(0, decision.at - now);
      said = wait > 0 ? `fired: snapshot in ${Math.round(wait / 1000)}s` : "fired: snapshot now";
      emit({
        type: "fired",
        trigger: trigger.label,
        detail,
        snapshot_at: new Date(now + wait).toISOString(),
      });
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stop.signal.aborted) void snapshot(trigger, trigger.kind, detail);
        else policy.done();
      }, wait);
      timers.add(t);
    }
    void saveState().catch(() => {});
    return said;
  };

  const waiting = new Map<string, string>();
  const sink: TriggerSink = {
    event: (trigger, detail) => act(trigger, policy.event(Date.now()), detail),
    condition: (trigger, value, detail) => {
      const decision = policy.condition(trigger.label, value, Date.now());
      // A condition that keeps holding is logged once while it waits, not at every poll.
      if (decision?.action === "waiting") {
        if (waiting.get(trigger.label) === "waiting") return;
      }
      waiting.set(trigger.label, decision?.action ?? (value ? "quiet" : "false"));
      act(trigger, decision, detail);
    },
    problem: (trigger, message) => emit({ type: "problem", trigger: trigger.label, message }),
  };

  const triggers = options.triggers.map((spec) =>
    makeTrigger(spec, {
      procRoot: engine.host.procRoot,
      record,
      pollMs: options.pollMs,
      triggerSocket: triggerSocketPath(engine.registry, record.name),
    })
  );
  state.triggers = triggers.map((t) => t.label);
  await Promise.all(triggers.map((t) => t.prepare?.(sink, stop.signal)));
  await saveState();
  emit({ type: "started", trigger: "watch", recorder: record.name, triggers: state.triggers });
  options.ship?.start();
  const running = triggers.map((t) =>
    t.run(sink, stop.signal).catch((err) =>
      // Said in words, with what the program needs where Deno refused (lib/os_errors.ts).
      emit({
        type: "problem",
        trigger: t.label,
        message: (operationError(`run trigger "${t.label}"`, err) as Error).message,
      })
    )
  );

  let switcher: ReturnType<typeof setInterval> | undefined;
  if (options.switchEveryMs) {
    switcher = setInterval(() => {
      if (record.pid === null) return;
      try {
        Deno.kill(record.pid, "SIGUSR2");
      } catch (err) {
        emit({ type: "problem", trigger: "switch-every", message: (err as Error).message });
      }
    }, options.switchEveryMs);
  }

  let reason: WatchResult["reason"] = "stopped";
  let detail: string | null = null;
  /** The recorder's state now; `stopped` when it is no longer registered (a stop removes it). */
  const recorderState = async () => {
    const current = await engine.registry.get(record.name).catch(() => undefined);
    if (!current) return "stopped";
    return await stateOf(current, await listModules(engine.host.procRoot)).catch(() => "gone");
  };
  try {
    // Watch the recorder itself: a watcher of a recorder that ended has nothing left to watch.
    while (!stop.signal.aborted) {
      await sleep(Math.max(250, options.pollMs ?? declared("watch", "interval").default!), stop.signal);
      if (stop.signal.aborted) break;
      const s = await recorderState();
      if (s !== "recording" && s !== "attached") {
        detail = s === "stopped"
          ? `recorder "${record.name}" was stopped`
          : `recorder "${record.name}" is ${s}, no longer recording`;
        emit({ type: "recorder_ended", trigger: "watch", detail });
        reason = "recorder-ended";
        break;
      }
    }
  } finally {
    stop.abort();
    for (const s of outside) s.removeEventListener("abort", onAbort);
    if (switcher !== undefined) clearInterval(switcher);
    for (const t of timers) {
      clearTimeout(t);
      emit({ type: "dropped", trigger: "watch", reason: "stopping" });
    }
    // Each trigger ends at once on abort (a hung health check is killed, a blocked open abandoned); a trigger
    // that does not is left behind rather than holding the stop.
    if (!(await within(Promise.all(running), TRIGGERS_STOP_MS))) {
      emit({
        type: "problem",
        trigger: "watch",
        message: `a trigger did not stop within ${TRIGGERS_STOP_MS} ms; stopping without it`,
      });
    }
    // A snapshot in progress is finished, not cut.
    if (inFlight) await inFlight;
    // A cancelled watcher (`signal`) leaves the recorder as it is; a stopped service (`until`) stops it.
    if (options.service && reason === "stopped" && !options.signal?.aborted) {
      // Another reader (a long dump) holds a memory recorder: wait for it, bounded, before the final snapshot
      // and the stop, which both need the reader slot.
      const until = Date.now() + SERVICE_READER_WAIT_MS;
      while ((await recorderState()) === "attached" && Date.now() < until) await sleep(250);
      const before = state.failed;
      await snapshot(undefined, "service", "service stop", "service stop");
      try {
        const r = await stopRecorder(engine, record.name, options.out ?? (() => Promise.resolve()));
        emit({ type: "recorder_stopped", trigger: "watch", bytes: r.bytes });
      } catch (err) {
        // Not a clean stop: the recorder is still recording, and systemd must hear of it.
        reason = "stop-failed";
        detail = `${(err as Error).message}; recorder "${record.name}" is still recording` +
          (state.failed > before ? " and the final snapshot failed" : "");
        emit({ type: "stop_failed", trigger: "watch", detail });
      }
    }
    // Shipping goes on after the recorder is stopped: what cannot go now stays pending.
    await options.ship?.close();
    await Deno.remove(statePath).catch(() => {});
    emit({ type: "exited", trigger: "watch", snapshots: taken.length });
  }
  return { snapshots: taken, fired: policy.fired, suppressed: { ...policy.suppressed }, reason, detail };
}
