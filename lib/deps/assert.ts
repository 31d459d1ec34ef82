/**
 * Assertions for tests with the signatures of `@std/assert`, built on `node:assert/strict` because JSR is
 * unreachable from our build machines. Switching to `@std/assert` is a change to this one file.
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Fails unless `actual` and `expected` are deeply equal (strict). */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Fails when `actual` and `expected` are deeply equal. */
export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, msg);
}

/** Fails unless `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr {
  nodeAssert.ok(expr, msg);
}

/** Fails unless `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.match(actual, expected, msg);
}

/** Fails when `actual` matches `expected`. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void {
  nodeAssert.doesNotMatch(actual, expected, msg);
}

/** Fails unless `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    nodeAssert.fail(msg ?? `Expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`);
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function checkError(err: unknown, errorClass?: ErrorClass, msgIncludes?: string | RegExp): Error {
  if (errorClass && !(err instanceof errorClass)) {
    nodeAssert.fail(
      `Expected error to be instance of "${errorClass.name}", but was "${(err as Error)?.name}": ${err}`,
    );
  }
  const message = (err as Error)?.message ?? String(err);
  if (typeof msgIncludes === "string" && !message.includes(msgIncludes)) {
    nodeAssert.fail(
      `Expected error message to include ${JSON.stringify(msgIncludes)}, but got ${JSON.stringify(message)}`,
    );
  }
  if (msgIncludes instanceof RegExp && !msgIncludes.test(message)) {
    nodeAssert.fail(`Expected error message to match ${msgIncludes}, but got ${JSON.stringify(message)}`);
  }
  return err as Error;
}

/** Fails unless `fn` throws; optionally of `errorClass`, with a message including (or matching) `msgIncludes`. */
export function assertThrows(
  fn: () => unknown,
  errorClass?: ErrorClass,
  msgIncludes?: string | RegExp,
): Error {
  try {
    fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  return nodeAssert.fail("Expected function to throw");
}

/** The promise-returning form of {@linkcode assertThrows}. */
export async function assertRejects(
  fn: () => PromiseLike<unknown>,
  errorClass?: ErrorClass,
  msgIncludes?: string | RegExp,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return checkError(err, errorClass, msgIncludes);
  }
  return nodeAssert.fail("Expected function to reject");
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  nodeAssert.fail(msg);
}
