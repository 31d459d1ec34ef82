import { assertEquals } from "@std/assert";
import { Interrupted, StapfrError, UsageError } from "../errors.ts";
import { KnobError } from "../knobs.ts";
import { failureOf, humanLines, jsonError } from "./failure.ts";

const context = { aborted: false, usage: "stapfr dump NAME [-o FILE]" };

Deno.test("a usage error shows the usage; a knob error is one line; a failure its hint", () => {
  const usage = failureOf(new UsageError('Missing value for "--output"'), context);
  assertEquals(humanLines(usage), [
    'stapfr: Missing value for "--output"',
    "Usage: stapfr dump NAME [-o FILE]",
  ]);
  const knob = failureOf(new KnobError("STAPFR_IDLE_MS", "x", "a number"), context);
  assertEquals(humanLines(knob), ['stapfr: Invalid STAPFR_IDLE_MS "x": expected a number']);
  assertEquals(knob.exitCode, 2);
  const failure = failureOf(
    new StapfrError("Cannot attach", { hint: "Wait", detail: ["ERROR: x"] }),
    context,
  );
  assertEquals(humanLines(failure), ["stapfr: Cannot attach", "  | ERROR: x", "Wait"]);
});

Deno.test("the JSON error object: code, message, hint, exit_code (and detail when SystemTap said something)", () => {
  assertEquals(jsonError(failureOf(new UsageError("Bad"), context)), {
    error: {
      code: "invalid_option",
      message: "Bad",
      hint: "Usage: stapfr dump NAME [-o FILE]",
      exit_code: 2,
    },
  });
  assertEquals(jsonError(failureOf(new StapfrError("Gone", { detail: ["ERROR: y"] }), context)), {
    error: { code: "failed", message: "Gone", hint: null, exit_code: 1, detail: ["ERROR: y"] },
  });
  assertEquals(jsonError(failureOf(new Interrupted(), { ...context, aborted: true })), {
    error: { code: "interrupted", message: "Interrupted", hint: null, exit_code: 130 },
  });
  // After Ctrl-C, an error that is not the interrupt itself (a detach that failed) is reported as itself.
  assertEquals(
    jsonError(failureOf(new StapfrError("Detach failed", { hint: "Never SIGINT" }), {
      ...context,
      aborted: true,
    })),
    { error: { code: "failed", message: "Detach failed", hint: "Never SIGINT", exit_code: 1 } },
  );
  assertEquals(jsonError(failureOf(new TypeError("boom"), context)).error.exit_code, 1);
});

Deno.test("the exit code and the JSON code come from the error's code, for every code", async () => {
  const { ERROR_CODES, OptionRangeError } = await import("../errors.ts");
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
    const f = failureOf(new StapfrError("x", { code: code as keyof typeof ERROR_CODES }), context);
    assertEquals([f.code, f.exitCode, jsonError(f).error.code], [code, exit, code]);
  }
  assertEquals(failureOf(new OptionRangeError("lines", "Bad"), context).exitCode, 2);
});

Deno.test("an OS error nobody wrapped is said with the operation, the path and a hint, never as os error N", () => {
  const err = Object.assign(
    new Deno.errors.PermissionDenied("Permission denied (os error 13): open '/srv/x'"),
    { code: "EACCES" },
  );
  const f = failureOf(err, { ...context, operation: "dump" });
  assertEquals([f.code, f.exitCode], ["permission", 1]);
  assertEquals(f.message, 'Cannot dump: permission denied (open "/srv/x")');
  assertEquals(typeof f.hint, "string");
});

Deno.test("a closed stdout is reported silently: there is nobody to tell", () => {
  assertEquals(failureOf(new Deno.errors.BrokenPipe("closed"), context).silent, true);
});
