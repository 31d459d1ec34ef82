/**
 * Command-line parsing. Stands in for `@std/cli` parseArgs (JSR is unreachable here).
 * @module
 */
export { parseArgs } from "node:util";
export type { ParseArgsConfig } from "node:util";
