import { assertEquals } from "@std/assert";
import {
  decideWait,
  type TrickleWindow,
  type WaitDecision,
  type WaitLimits,
  type WaitOutcome,
} from "./drain_wait.ts";

/**
 * A fake session on a fake clock: `feed(ms, bytes)` advances time in 25 ms steps (as waitIdle polls), with
 * `bytes` per step arriving, and asks the decision at each step. Returns the first outcome and when it came.
 */
class FakeDrain {
  now = 0;
  bytes = 0;
  lastDataAt = 0;
  exited = false;
  sinkClosed = false;
  aborted = false;
  window: TrickleWindow = { start: 0, bytes: 0 };
  readonly startedAt = 0;

  constructor(readonly limits: WaitLimits) {}

  decide(): WaitDecision {
    const d = decideWait({
      now: this.now,
      startedAt: this.startedAt,
      lastDataAt: this.lastDataAt,
      bytes: this.bytes,
      window: this.window,
      exited: this.exited,
      sinkClosed: this.sinkClosed,
      aborted: this.aborted,
    }, this.limits);
    if (!d.outcome) this.window = d.window;
    return d;
  }

  /** Runs for at most `ms`, `perStep(t)` bytes arriving at each 25 ms step; the outcome and its time. */
  run(ms: number, perStep: (t: number) => number): { outcome: WaitOutcome | undefined; at: number } {
    for (const end = this.now + ms; this.now <= end; this.now += 25) {
      const n = perStep(this.now);
      if (n > 0) {
        this.bytes += n;
        this.lastDataAt = this.now;
      }
      const d = this.decide();
      if (d.outcome) return { outcome: d.outcome, at: this.now };
    }
    return { outcome: undefined, at: this.now };
  }
}

Deno.test("decideWait: an empty ring is idle after idleMs of silence", () => {
  const drain = new FakeDrain({ idleMs: 800 });
  assertEquals(drain.run(5000, () => 0), { outcome: "idle", at: 800 });
});

Deno.test("decideWait: a backlog then silence is idle at the first quiet window, before idleMs", () => {
  const drain = new FakeDrain({ idleMs: 2500 });
  // 1 MB/s for 300 ms (the backlog through the pipe), then nothing: the window 500–1000 ms saw nothing new.
  assertEquals(drain.run(5000, (t) => t < 300 ? 25_000 : 0), { outcome: "idle", at: 1000 });
});

Deno.test("decideWait: a live trickle after the backlog ends the drain at the first quiet window", () => {
  const drain = new FakeDrain({ idleMs: 2500 });
  // The backlog at 1 MB/s for 1 s, then 1 KB per 25 ms (40 KB/s: below 64K per 500 ms) forever.
  const r = drain.run(10_000, (t) => t < 1000 ? 25_000 : 1000);
  assertEquals(r.outcome, "idle");
  // Not before the backlog is over, and within two windows of it (never the idle time: data keeps coming).
  assertEquals(r.at > 1000 && r.at <= 2000, true, `ended at ${r.at}`);
});

Deno.test("decideWait: a trickle from the very start is not mistaken for a drained backlog in the first window", () => {
  const drain = new FakeDrain({ idleMs: 2500 });
  const r = drain.run(10_000, () => 100);
  assertEquals(r, { outcome: "idle", at: 1000 });
});

Deno.test("decideWait: a fast live stream stops at the ring's capacity", () => {
  const drain = new FakeDrain({ idleMs: 800, maxBytes: 128 * 1024, maxMs: 30_000 });
  // 4 MB/s: never quiet, never a trickle.
  const r = drain.run(60_000, () => 100_000);
  assertEquals(r, { outcome: "full", at: 25 });
});

Deno.test("decideWait: a stream above the trickle rate into a big ring ends by the time limit", () => {
  const drain = new FakeDrain({ idleMs: 800, maxBytes: 32 * 1024 * 1024, maxMs: 2000 });
  // 200 KB/s: above 64K per 500 ms, and 2 s of it is far below 32 MiB.
  assertEquals(drain.run(60_000, () => 5000), { outcome: "timeout", at: 2000 });
});

Deno.test("decideWait: without maxMs the same stream would never end (the bug of dump's 30 s)", () => {
  const drain = new FakeDrain({ idleMs: 800, maxBytes: 32 * 1024 * 1024 });
  assertEquals(drain.run(30_000, () => 5000).outcome, undefined);
});

Deno.test("decideWait: exited, closed and aborted win over everything, in that order", () => {
  const drain = new FakeDrain({ idleMs: 800, maxBytes: 10, maxMs: 1 });
  drain.now = 5000;
  drain.bytes = 100;
  drain.exited = drain.sinkClosed = drain.aborted = true;
  assertEquals(drain.decide().outcome, "exited");
  drain.exited = false;
  assertEquals(drain.decide().outcome, "closed");
  drain.sinkClosed = false;
  assertEquals(drain.decide().outcome, "aborted");
  drain.aborted = false;
  assertEquals(drain.decide().outcome, "full");
});

Deno.test("decideWait: the wake-up time is the nearest deadline", () => {
  const d = decideWait({
    now: 100,
    startedAt: 0,
    lastDataAt: 90,
    bytes: 10,
    window: { start: 0, bytes: 0 },
    exited: false,
    sinkClosed: false,
    aborted: false,
  }, { idleMs: 800, maxMs: 250 });
  assertEquals(d.outcome, undefined);
  if (!d.outcome) assertEquals(d.wakeInMs, 150);
});
