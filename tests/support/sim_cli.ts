/**
 * Old import path of the end-to-end world, kept as an alias: new tests import tests/support/sim_world.ts.
 * @module
 */
export { readAll, readUntil, type RunResult as CliResult, SimWorld } from "./sim_world.ts";
