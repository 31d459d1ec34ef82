/**
 * Old import path of the simulator helpers, kept as thin aliases so that tests written against it still work:
 * new tests use tests/support/sim_world.ts (`SimWorld`) and tests/support/poll.ts (`until`).
 * @module
 */
import { Running as WorldRunning, type RunResult, SimWorld, STANDIN_KNOBS } from "./support/sim_world.ts";
import { until as untilOptions } from "./support/poll.ts";

export { reconnectName, SimWorld, STANDIN_KNOBS } from "./support/sim_world.ts";
export { sleep } from "./support/poll.ts";
/** What a finished child printed. */
export type Output = RunResult;

/** `SimWorld.create` with {@linkcode STANDIN_KNOBS}. */
export function makeWorld(env: Record<string, string> = {}): Promise<SimWorld> {
  return SimWorld.create({ ...STANDIN_KNOBS, ...env });
}

/** `world.cleanup()`. */
export function destroyWorld(world: SimWorld): Promise<void> {
  return world.cleanup();
}

/** `world.sim(args, env)`. */
export function sim(world: SimWorld, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return world.sim(args, env);
}

/** `world.running(args, env)`, as a constructor. */
export class Running extends WorldRunning {
  constructor(world: SimWorld, args: string[], env: Record<string, string> = {}) {
    super(world.command(["sim", ...args], { env, cwd: world.work }));
  }
}

/** `until` with the timeout as a number. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs?: number,
): Promise<void> {
  await untilOptions(what, cond, { timeoutMs });
}

/** `world.modules()` as a Map. */
export async function modules(world: SimWorld): Promise<Map<string, number>> {
  return new Map(Object.entries(await world.modules()));
}
