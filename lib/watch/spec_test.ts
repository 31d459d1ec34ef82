import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../errors.ts";
import { splitTriggers } from "./spec.ts";

Deno.test("splitTriggers: every kind, flags between them, the exit-status command after --", () => {
  const { triggers, rest } = splitTriggers([
    "web",
    "--on",
    "signal",
    "--on",
    "pressure",
    "memory",
    "some",
    "avg10>40",
    "--hold",
    "30s",
    "--on",
    "process",
    "1234",
    "--on",
    "exit-status",
    "--interval",
    "5s",
    "--on",
    "marker",
    "ERR.*",
    "--",
    "curl",
    "-fsS",
    "http://127.0.0.1/health",
  ]);
  assertEquals(rest, ["web", "--hold", "30s"]);
  assertEquals(triggers.map((t) => t.kind), ["signal", "pressure", "process", "exit-status", "marker"]);
  assertEquals(triggers[3], {
    kind: "exit-status",
    command: ["curl", "-fsS", "http://127.0.0.1/health"],
    intervalMs: 5000,
  });
  assertEquals(triggers[2], { kind: "process", pid: 1234 });
});

Deno.test("splitTriggers: bad triggers are usage errors", () => {
  for (
    const args of [
      ["--on"],
      ["--on", "nope"],
      ["--on", "log", "/x"],
      ["--on", "log", "/x", "("],
      ["--on", "pressure", "disk", "some", "avg10>1"],
      ["--on", "pressure", "cpu", "some", "avg10"],
      ["--on", "exit-status"],
      ["--on", "signal", "extra"],
      ["x", "--", "cmd"],
    ]
  ) assertThrows(() => splitTriggers(args), UsageError);
});
