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
import type { RecorderRecord } from "../registry.ts";
import { listModules } from "../driver/kernel.ts";
import { stopRecorder } from "../recorder/stop.ts";
import { sleep, within } from "../driver/run.ts";
import type { ByteSink } from "../read_path/concat.ts";
import { takeSnapshot } from "../snapshots/ops.ts";
import type { RetentionBounds } from "../units.ts";
import type { SnapshotStore } from "../snapshots/store.ts";
import type { Manifest } from "../snapshots/manifest.ts";
import { type Decision, type Policies, PolicyState } from "./policy.ts";
import type { TriggerSpec } from "./spec.ts";
import { makeTrigger, type Trigger, type TriggerSink } from "./triggers.ts";
import { readWatchState, type WatchState, watchStatePath } from "../watcher_record.ts";
import { triggerSocketPath } from "./trigger_socket.ts";
import { eventLine, type WatchEvent } from "./events.ts";
import { errorCode } from "../errors.ts";
import { operationError } from "../os_errors.ts";
import { declared } from "../declarations/declared.ts";
import { writeAtomic } from "../atomic_write.ts";

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

function stamp(): string {
  return new Date().toISOString();
}

/** Distributive, so that each event keeps its own fields. */
type WithoutTime<T> = T extends unknown ? Omit<T, "at"> : never;

/** Runs the watcher until `options.until` or `options.signal` aborts, or the recorder stops recording. */
export async function runWatcher(
  engine: Engine,
  store: SnapshotStore,
  options: WatchOptions,
): Promise<WatchResult> {
  const record = await watchable(engine, options);
  const watcher = new Watcher(engine, store, record, options, (await processStartTime(Deno.pid)) ?? null);
  await watcher.start();
  try {
    await watcher.followRecorder();
  } finally {
    await watcher.finish();
  }
  return watcher.result();
}

/** The recorder, when it can be watched with these options now (and nobody else watches it). */
async function watchable(engine: Engine, options: WatchOptions): Promise<RecorderRecord> {
  const record = await getRecord(engine, options.name);
  if (record.mode === "memory") {
    if (options.triggers.some((t) => t.kind === "marker")) {
      throw new UsageError(
        `"--on marker" needs a file recorder: reading a memory recorder's ring would drain it`,
      );
    }
    if (options.switchEveryMs !== undefined) throw new UsageError(`"--switch-every" needs a file recorder`);
  }
  const state = await stateOf(record, await listModules(engine.host.procRoot));
  if (state !== "recording") {
    throw new StapfrError(`Recorder "${record.name}" is ${state}, not recording`, {
      code: "not_running",
      hint: "Start it first (or again) with stapfr start",
    });
  }
  // One watcher per recorder.
  const other = await readWatchState(engine.registry, record.name);
  if (other && other.pid !== Deno.pid && (await processAlive(other.pid, other.pidStart ?? undefined))) {
    throw new StapfrError(`Recorder "${record.name}" already has a watcher (pid ${other.pid})`, {
      code: "busy",
      hint: `Stop it first ("kill ${other.pid}")`,
    });
  }
  return record;
}

/** One run of the watcher: its triggers, its policies, the snapshots it takes, the file it publishes. */
class Watcher {
  readonly #policy: PolicyState;
  readonly #statePath: string;
  readonly #state: WatchState;
  readonly #taken: string[] = [];
  /** Aborted when the watcher stops, for whatever reason; the triggers and the recorder loop end on it. */
  readonly #stop = new AbortController();
  readonly #outside: AbortSignal[];
  readonly #onAbort = () => this.#stop.abort();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Per condition trigger, what it last said (a condition that keeps holding is logged once). */
  readonly #conditions = new Map<string, string>();
  #triggers: Trigger[] = [];
  #running: Promise<unknown>[] = [];
  #switcher: ReturnType<typeof setInterval> | undefined;
  #inFlight: Promise<void> | undefined;
  #reason: WatchResult["reason"] = "stopped";
  #detail: string | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly store: SnapshotStore,
    private readonly record: RecorderRecord,
    private readonly options: WatchOptions,
    pidStart: number | null,
  ) {
    this.#policy = new PolicyState(options.policies);
    this.#statePath = watchStatePath(engine.registry, record.name);
    this.#state = {
      pid: Deno.pid,
      pidStart,
      started_at: stamp(),
      triggers: [],
      fired: 0,
      snapshots: 0,
      failed: 0,
      suppressed: this.#policy.suppressed,
      last: null,
    };
    this.#outside = [options.until, options.signal].filter((s) => s !== undefined);
  }

  /** Prepares and runs the triggers, publishes the watcher's file, starts shipping and file switching. */
  async start(): Promise<void> {
    for (const s of this.#outside) s.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#outside.some((s) => s.aborted)) this.#stop.abort();
    const { engine, record, options } = this;
    this.#triggers = options.triggers.map((spec) =>
      makeTrigger(spec, {
        procRoot: engine.host.procRoot,
        record,
        pollMs: options.pollMs,
        triggerSocket: triggerSocketPath(engine.registry, record.name),
      })
    );
    this.#state.triggers = this.#triggers.map((t) => t.label);
    const sink = this.#sink();
    await Promise.all(this.#triggers.map((t) => t.prepare?.(sink, this.#stop.signal)));
    await this.#save();
    this.#emit({ type: "started", trigger: "watch", recorder: record.name, triggers: this.#state.triggers });
    options.ship?.start();
    this.#running = this.#triggers.map((t) =>
      t.run(sink, this.#stop.signal).catch((err) =>
        // Said in words, with what the program needs where Deno refused (lib/os_errors.ts).
        this.#emit({
          type: "problem",
          trigger: t.label,
          message: (operationError(`run trigger "${t.label}"`, err) as Error).message,
        })
      )
    );
    if (options.switchEveryMs) this.#switcher = setInterval(() => this.#switchFiles(), options.switchEveryMs);
  }

  /** Watches the recorder itself until the watcher is stopped: a recorder that ended leaves nothing to watch. */
  async followRecorder(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      await sleep(Math.max(250, this.options.pollMs ?? declared("watch", "interval").default!), stop);
      if (stop.aborted) return;
      const s = await this.#recorderState();
      if (s !== "recording" && s !== "attached") {
        this.#detail = s === "stopped"
          ? `recorder "${this.record.name}" was stopped`
          : `recorder "${this.record.name}" is ${s}, no longer recording`;
        this.#emit({ type: "recorder_ended", trigger: "watch", detail: this.#detail });
        this.#reason = "recorder-ended";
        return;
      }
    }
  }

  /**
   * Stops: the triggers, the scheduled snapshots (dropped), the one in progress (finished, not cut); in service
   * mode a final snapshot and a stop of the recorder; shipping's last attempt; the watcher's file.
   */
  async finish(): Promise<void> {
    this.#stop.abort();
    for (const s of this.#outside) s.removeEventListener("abort", this.#onAbort);
    if (this.#switcher !== undefined) clearInterval(this.#switcher);
    for (const t of this.#timers) {
      clearTimeout(t);
      this.#emit({ type: "dropped", trigger: "watch", reason: "stopping" });
    }
    // Each trigger ends at once on abort (a hung health check is killed, a blocked open abandoned); a trigger
    // that does not is left behind rather than holding the stop.
    if (!(await within(Promise.all(this.#running), TRIGGERS_STOP_MS))) {
      this.#emit({
        type: "problem",
        trigger: "watch",
        message: `a trigger did not stop within ${TRIGGERS_STOP_MS} ms; stopping without it`,
      });
    }
    if (this.#inFlight) await this.#inFlight;
    // A cancelled watcher (`signal`) leaves the recorder as it is; a stopped service (`until`) stops it.
    if (this.options.service && this.#reason === "stopped" && !this.options.signal?.aborted) {
      await this.#serviceStop();
    }
    // Shipping goes on after the recorder is stopped: what cannot go now stays pending.
    await this.options.ship?.close();
    await Deno.remove(this.#statePath).catch(() => {});
    this.#emit({ type: "exited", trigger: "watch", snapshots: this.#taken.length });
  }

  result(): WatchResult {
    return {
      snapshots: this.#taken,
      fired: this.#policy.fired,
      suppressed: { ...this.#policy.suppressed },
      reason: this.#reason,
      detail: this.#detail,
    };
  }

  /** Service mode's end: a final snapshot, then a clean stop of the recorder. */
  async #serviceStop(): Promise<void> {
    const name = this.record.name;
    // Another reader (a long dump) holds a memory recorder: wait for it, bounded, before the final snapshot and
    // the stop, which both need the reader slot.
    const until = Date.now() + SERVICE_READER_WAIT_MS;
    while ((await this.#recorderState()) === "attached" && Date.now() < until) await sleep(250);
    const before = this.#state.failed;
    await this.#snapshot(undefined, "service", "service stop", "service stop");
    try {
      const r = await stopRecorder(this.engine, name, this.options.out ?? (() => Promise.resolve()));
      this.#emit({ type: "recorder_stopped", trigger: "watch", bytes: r.bytes });
    } catch (err) {
      // Not a clean stop: the recorder is still recording, and systemd must hear of it.
      this.#reason = "stop-failed";
      this.#detail = `${(err as Error).message}; recorder "${name}" is still recording` +
        (this.#state.failed > before ? " and the final snapshot failed" : "");
      this.#emit({ type: "stop_failed", trigger: "watch", detail: this.#detail });
    }
  }

  /** What the triggers report to. */
  #sink(): TriggerSink {
    return {
      event: (trigger, detail) => this.#act(trigger, this.#policy.event(Date.now()), detail),
      condition: (trigger, value, detail) => {
        const decision = this.#policy.condition(trigger.label, value, Date.now());
        if (decision?.action === "waiting" && this.#conditions.get(trigger.label) === "waiting") return;
        this.#conditions.set(trigger.label, decision?.action ?? (value ? "quiet" : "false"));
        this.#act(trigger, decision, detail);
      },
      problem: (trigger, message) => this.#emit({ type: "problem", trigger: trigger.label, message }),
    };
  }

  /** Carries out a decision of the policies; returns it in a few words (the answer to `stapfr trigger`). */
  #act(trigger: Trigger, decision: Decision | undefined, detail: string): string {
    if (!decision) return "no decision";
    this.#state.last = { at: stamp(), trigger: trigger.label, decision: decision.action, detail };
    let said: string;
    if (decision.action === "waiting") {
      const until = new Date(decision.until).toISOString();
      said = `holding; fires if it holds until ${until}`;
      this.#emit({ type: "holding", trigger: trigger.label, detail, until });
    } else if (decision.action === "suppressed") {
      const until = decision.until ? new Date(decision.until).toISOString() : null;
      said = `suppressed by ${decision.by}${until ? ` until ${until}` : ""}`;
      this.#emit({ type: "suppressed", trigger: trigger.label, detail, by: decision.by, until });
    } else {
      const now = Date.now();
      const wait = Math.max(0, decision.at - now);
      said = wait > 0 ? `fired: snapshot in ${Math.round(wait / 1000)}s` : "fired: snapshot now";
      this.#emit({
        type: "fired",
        trigger: trigger.label,
        detail,
        snapshot_at: new Date(now + wait).toISOString(),
      });
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (!this.#stop.signal.aborted) void this.#snapshot(trigger, trigger.kind, detail);
        else this.#policy.done();
      }, wait);
      this.#timers.add(t);
    }
    void this.#save().catch(() => {});
    return said;
  }

  /** Takes a snapshot (one at a time: the policies let one through only when the last is done). */
  #snapshot(trigger: Trigger | undefined, kind: string, detail: string, reason?: string): Promise<void> {
    const { options } = this;
    const label = trigger?.label ?? kind;
    this.#inFlight = (async () => {
      try {
        const { snapshot, pruned } = await takeSnapshot(this.engine, this.store, this.record.name, {
          reason: reason ?? `${kind}: ${detail}`,
          trigger: { kind, detail },
          retention: options.retention,
          beforeRetention: options.ship?.mark,
        });
        this.#taken.push(snapshot.manifest.id);
        this.#state.snapshots++;
        this.#emit({
          type: "snapshot",
          trigger: label,
          detail,
          id: snapshot.manifest.id,
          path: snapshot.path,
        });
        options.ship?.add(snapshot);
        for (const p of pruned) {
          const why = p.shipping === "pending" ? "not shipped yet: over the size bound" : undefined;
          this.#emit({ type: "pruned", trigger: label, id: p.id, ...(why ? { detail: why } : {}) });
        }
      } catch (err) {
        this.#state.failed++;
        this.#emit({
          type: "snapshot_failed",
          trigger: label,
          detail,
          error: (err as Error).message,
          code: errorCode(err) ?? "failed",
        });
      } finally {
        this.#policy.done();
        await this.#save().catch(() => {});
      }
    })();
    return this.#inFlight;
  }

  /** `--switch-every`: stapio switches to a new file on SIGUSR2. */
  #switchFiles(): void {
    if (this.record.pid === null) return;
    try {
      Deno.kill(this.record.pid, "SIGUSR2");
    } catch (err) {
      this.#emit({ type: "problem", trigger: "switch-every", message: (err as Error).message });
    }
  }

  /** The recorder's state now; `stopped` when it is no longer registered (a stop removes it). */
  async #recorderState(): Promise<string> {
    const current = await this.engine.registry.get(this.record.name).catch(() => undefined);
    if (!current) return "stopped";
    return await stateOf(current, await listModules(this.engine.host.procRoot)).catch(() => "gone");
  }

  /** Publishes the watcher's file (`status`, `stapfr trigger`). */
  async #save(): Promise<void> {
    this.#state.fired = this.#policy.fired;
    await writeAtomic(this.#statePath, JSON.stringify(this.#state, null, 2) + "\n");
  }

  #emit(event: WithoutTime<WatchEvent>): void {
    const full = { at: stamp(), ...event } as WatchEvent;
    // A consumer's mistake must not stop the watcher: its events are reported, not relied on.
    try {
      this.options.onEvent?.(full);
    } catch { /* the caller's own */ }
    const text = eventLine(full);
    if (text !== undefined) this.options.log?.(text);
  }
}
