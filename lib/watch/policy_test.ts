import { assertEquals } from "@std/assert";
import { PolicyState } from "./policy.ts";

const S = 1000;

Deno.test("cooldown suppresses a second snapshot within it, then allows one", () => {
  const p = new PolicyState({ cooldownMs: 60 * S });
  assertEquals(p.event(0), { action: "snapshot", at: 0 });
  p.done();
  assertEquals(p.event(30 * S), { action: "suppressed", by: "cooldown", until: 60 * S });
  assertEquals(p.event(61 * S), { action: "snapshot", at: 61 * S });
  assertEquals([p.fired, p.suppressed.cooldown], [2, 1]);
});

Deno.test("max-per-day caps snapshots in any 24 hours, and frees a slot a day after the oldest", () => {
  const p = new PolicyState({ maxPerDay: 2 });
  for (const t of [0, 10 * S]) {
    assertEquals(p.event(t).action, "snapshot");
    p.done();
  }
  assertEquals(p.event(20 * S), { action: "suppressed", by: "max-per-day", until: 86_400 * S });
  assertEquals(p.event(86_400 * S + 1).action, "snapshot");
});

Deno.test("hold ignores a blip and fires once on a condition that holds; it re-arms when it turns false", () => {
  const p = new PolicyState({ holdMs: 5 * S });
  assertEquals(p.condition("psi", true, 0), { action: "waiting", until: 5 * S });
  assertEquals(p.condition("psi", false, 2 * S), undefined); // a blip
  assertEquals(p.condition("psi", true, 10 * S), { action: "waiting", until: 15 * S });
  assertEquals(p.condition("psi", true, 15 * S), { action: "snapshot", at: 15 * S });
  p.done();
  assertEquals(p.condition("psi", true, 20 * S), undefined, "fires once per stretch");
  p.condition("psi", false, 21 * S);
  assertEquals(p.condition("psi", true, 22 * S)?.action, "waiting");
});

Deno.test("without hold a condition fires on its rising edge only", () => {
  const p = new PolicyState({});
  assertEquals(p.condition("hc", true, 0)?.action, "snapshot");
  p.done();
  assertEquals(p.condition("hc", true, S), undefined);
});

Deno.test("delay schedules the snapshot later; triggers meanwhile are counted as pending", () => {
  const p = new PolicyState({ delayMs: 10 * S });
  assertEquals(p.event(0), { action: "snapshot", at: 10 * S });
  assertEquals(p.event(S), { action: "suppressed", by: "pending", until: undefined });
  p.done();
  assertEquals(p.event(11 * S).action, "snapshot");
  assertEquals(p.suppressed.pending, 1);
});
