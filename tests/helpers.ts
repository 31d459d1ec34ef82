/**
 * Old import path of the test support, kept so that tests written against it still work: new tests import
 * tests/support/stapfr.ts (stapfr as a child process) and tests/support/in_process.ts (`main` in memory).
 * @module
 */
export { CLI, runCli, type RunResult, stapfrArgv } from "./support/stapfr.ts";
export { memoryWriter, runMain } from "./support/in_process.ts";
