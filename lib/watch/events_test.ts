import { assertEquals } from "@std/assert";
import { eventLine, type WatchEvent } from "./events.ts";

const AT = "2026-12-01T05:12:00.000Z";

Deno.test("each event is one log line: time, trigger, decision, and the detail in brackets", () => {
  const cases: [WatchEvent, string][] = [
    [
      { type: "started", at: AT, trigger: "watch", recorder: "web", triggers: ["signal", "log /a ERR"] },
      `${AT} watch started (web: signal, log /a ERR)`,
    ],
    [
      { type: "started", at: AT, trigger: "watch", recorder: "web", triggers: [] },
      `${AT} watch started (web: no triggers)`,
    ],
    [
      {
        type: "holding",
        at: AT,
        trigger: "pressure cpu some avg10>40",
        detail: "some avg10=50",
        until: "T2",
      },
      `${AT} pressure cpu some avg10>40 holding (some avg10=50; fires if it holds until T2)`,
    ],
    [
      { type: "suppressed", at: AT, trigger: "signal", detail: "stapfr trigger", by: "pending", until: null },
      `${AT} signal suppressed by pending (stapfr trigger)`,
    ],
    [
      {
        type: "snapshot",
        at: AT,
        trigger: "signal",
        detail: "by hand",
        id: "20261201T051200Z-001",
        path: "/s",
      },
      `${AT} signal snapshot 20261201T051200Z-001 (by hand)`,
    ],
    [
      {
        type: "snapshot_failed",
        at: AT,
        trigger: "signal",
        detail: "d",
        error: "disk full",
        code: "no_space",
      },
      `${AT} signal snapshot failed (disk full)`,
    ],
    [{ type: "pruned", at: AT, trigger: "signal", id: "X" }, `${AT} signal pruned X`],
    [
      { type: "pruned", at: AT, trigger: "signal", id: "X", detail: "not shipped yet: over the size bound" },
      `${AT} signal pruned X (not shipped yet: over the size bound)`,
    ],
    [
      { type: "problem", at: AT, trigger: "log /a x", message: "cannot read" },
      `${AT} log /a x problem (cannot read)`,
    ],
    [
      { type: "dropped", at: AT, trigger: "watch", reason: "stopping" },
      `${AT} watch dropped a scheduled snapshot (stopping)`,
    ],
    [
      { type: "recorder_ended", at: AT, trigger: "watch", detail: 'recorder "web" was stopped' },
      `${AT} watch recorder ended (recorder "web" was stopped)`,
    ],
    [
      { type: "recorder_stopped", at: AT, trigger: "watch", bytes: 0 },
      `${AT} watch stopped the recorder (0 bytes of buffered and end-probe output)`,
    ],
    [{ type: "stop_failed", at: AT, trigger: "watch", detail: "busy" }, `${AT} watch stop failed (busy)`],
    [{ type: "exited", at: AT, trigger: "watch", snapshots: 2 }, `${AT} watch exited (2 snapshots)`],
  ];
  for (const [event, line] of cases) assertEquals(eventLine(event), line, event.type);
});

Deno.test("a fired event is a line only when its snapshot waits (the snapshot's own line says the rest)", () => {
  const fired = (snapshotAt: string): WatchEvent => ({
    type: "fired",
    at: AT,
    trigger: "signal",
    detail: "stapfr trigger",
    snapshot_at: snapshotAt,
  });
  assertEquals(eventLine(fired(AT)), undefined);
  // A clock read a little late never says "in -0s".
  assertEquals(eventLine(fired("2026-12-01T05:11:59.990Z")), undefined);
  assertEquals(
    eventLine(fired("2026-12-01T05:12:30.400Z")),
    `${AT} signal fired: snapshot in 30s (stapfr trigger)`,
  );
});
