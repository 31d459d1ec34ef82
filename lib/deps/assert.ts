/**
 * Assertions for tests. `@std/assert` is the wished-for package but JSR is unreachable from our build
 * machines, so the Node built-in stands in; switching back is a change to this one file.
 * @module
 */
export {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
export { default as assertStrict } from "node:assert/strict";
