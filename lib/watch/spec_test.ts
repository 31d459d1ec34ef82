import { assertEquals, assertRejects } from "@std/assert";
import { UsageError } from "../errors.ts";
import { splitTriggers } from "./spec.ts";

Deno.test("splitTriggers: every kind, flags between them, the exit-status command after --", async () => {
  const { triggers, rest } = await splitTriggers([
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

Deno.test("splitTriggers: bad triggers are usage errors", async () => {
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
      // RE2 takes no backreferences or lookaround.
      ["--on", "log", "/x", "(a)\\1"],
      ["--on", "marker", "(?=a)"],
      ["--on", "process", "0"],
      ["--on", "process", "-1"],
      ["--on", "process", "4194305"],
      ["--on", "process", "a-name-longer-than-15"],
      ["--on", "exit-status", "--interval", "25d", "--", "true"],
      ["--on", "exit-status", "--interval", "50ms", "--", "true"],
    ]
  ) await assertRejects(() => splitTriggers(args), UsageError);
});

Deno.test("splitTriggers: an option of the command after the health check's -- is refused, not handed to it", async () => {
  const args = [
    "io",
    "--on",
    "exit-status",
    "--",
    "curl",
    "-fsS",
    "http://127.0.0.1/health",
    "--cooldown",
    "10m",
  ];
  await assertRejects(
    () => splitTriggers(args, { ownFlags: ["--cooldown", "--delay"] }),
    UsageError,
    `"--cooldown" after "--" is one of watch's options`,
  );
  await assertRejects(
    () => splitTriggers([...args.slice(0, -2), "--delay=30s"], { ownFlags: ["--cooldown", "--delay"] }),
    UsageError,
    `"--delay=30s" after "--"`,
  );
  // Its own options, spelled unlike the command's, are the check's.
  const { triggers } = await splitTriggers(args.slice(0, -2), { ownFlags: ["--cooldown"] });
  assertEquals(triggers, [{
    kind: "exit-status",
    command: ["curl", "-fsS", "http://127.0.0.1/health"],
    intervalMs: 10_000,
  }]);
});

Deno.test("splitTriggers: log and marker patterns match in linear time and keep only what matched", async () => {
  const { triggers } = await splitTriggers(["--on", "log", "/x", "(a+)+$", "--on", "marker", "ERROR \\w+"]);
  const [log, marker] = triggers as { kind: string; pattern: { find(line: string): string | undefined } }[];
  const started = performance.now();
  // Catastrophic for a backtracking engine: 2^41 paths.
  assertEquals(log.pattern.find("a".repeat(41) + "!"), undefined);
  assertEquals(log.pattern.find("a".repeat(100_000) + "!"), undefined);
  const ms = performance.now() - started;
  assertEquals(ms < 2000, true, `took ${ms} ms`);
  assertEquals(marker.pattern.find("12:00 ERROR disk full; secret=hunter2"), "ERROR disk");
});
