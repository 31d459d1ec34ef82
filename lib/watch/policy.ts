/**
 * The watcher's policies as a pure state machine on a clock the caller passes in, so each rule is tested on
 * fake time: `hold` (a condition must stay true that long), `cooldown` (no second snapshot within it),
 * `maxPerDay` (at most N snapshots in any 24 hours), `delay` (the snapshot is taken that long after the
 * trigger, so the aftermath is in it), and one snapshot at a time. Every suppressed trigger is reported with the
 * policy that suppressed it, and counted. See docs/watch.md "Policies".
 * @module
 */

/** The policy settings (milliseconds); zero or absent means none. */
export interface Policies {
  /** No second snapshot within this. */
  cooldownMs?: number;
  /** At most this many snapshots in any 24 hours. */
  maxPerDay?: number;
  /** A condition must hold this long. */
  holdMs?: number;
  /** The snapshot is taken this long after the trigger. */
  delayMs?: number;
}

/** Why a trigger did not lead to a snapshot. */
export type Suppression = "cooldown" | "max-per-day" | "pending" | "hold";

/** What the policy decided about one trigger. */
export type Decision =
  | { action: "snapshot"; at: number }
  | { action: "suppressed"; by: Suppression; until?: number }
  | { action: "waiting"; until: number };

const DAY = 86_400_000;

/** The policy state of one watcher. */
export class PolicyState {
  #p: Policies;
  /** Times of the snapshots taken (or scheduled), for cooldown and the daily cap. */
  #taken: number[] = [];
  /** A snapshot is scheduled or running: triggers meanwhile add nothing. */
  #pending = false;
  /** Per condition: since when it has been true (hold). */
  #since = new Map<string, number>();
  /** Per condition: it fired during this stretch of being true (re-armed when it turns false). */
  #fired = new Set<string>();
  /** Suppressions counted by policy. */
  readonly suppressed: Record<Suppression, number> = { cooldown: 0, "max-per-day": 0, pending: 0, hold: 0 };
  /** Snapshots asked for. */
  fired = 0;

  /** The state for these settings. */
  constructor(policies: Policies) {
    this.#p = policies;
  }

  /** An event trigger (a signal, a log line, a marker) at `now`. */
  event(now: number): Decision {
    return this.#decide(now);
  }

  /**
   * A condition trigger (pressure, a failing health check, a process gone) observed at `now`. It fires once
   * when it has held for `hold` (at once without one), and again only after it has turned false.
   */
  condition(key: string, value: boolean, now: number): Decision | undefined {
    if (!value) {
      this.#since.delete(key);
      this.#fired.delete(key);
      return undefined;
    }
    if (this.#fired.has(key)) return undefined;
    const since = this.#since.get(key) ?? now;
    this.#since.set(key, since);
    const hold = this.#p.holdMs ?? 0;
    if (now - since < hold) return { action: "waiting", until: since + hold };
    this.#fired.add(key);
    return this.#decide(now);
  }

  #decide(now: number): Decision {
    if (this.#pending) return this.#suppress("pending");
    const last = this.#taken.at(-1);
    const cooldown = this.#p.cooldownMs ?? 0;
    if (last !== undefined && cooldown > 0 && now - last < cooldown) {
      return this.#suppress("cooldown", last + cooldown);
    }
    const max = this.#p.maxPerDay ?? 0;
    this.#taken = this.#taken.filter((t) => now - t < DAY);
    if (max > 0 && this.#taken.length >= max) return this.#suppress("max-per-day", this.#taken[0] + DAY);
    const at = now + (this.#p.delayMs ?? 0);
    this.#taken.push(at);
    this.#pending = true;
    this.fired++;
    return { action: "snapshot", at };
  }

  #suppress(by: Suppression, until?: number): Decision {
    this.suppressed[by]++;
    return { action: "suppressed", by, until };
  }

  /** The scheduled snapshot is over (taken or failed): triggers count again. */
  done(): void {
    this.#pending = false;
  }
}
