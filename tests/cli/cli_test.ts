/**
 * The command line as docs/architecture.md lists it: `--help` names every command and shows each one's usage,
 * `--version`, usage errors (one reason line, the usage, exit 2), in process and as a child process.
 * @module
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { COMMANDS } from "../../lib/declarations/declarations.ts";
import { usageOf } from "../../lib/cli/help.ts";
import { runCli } from "../support/stapfr.ts";
import { runMain } from "../support/in_process.ts";

const DESIGN_COMMANDS = [
  "start",
  "build",
  "list",
  "status",
  "dump",
  "attach",
  "tail",
  "stop",
  "gc",
  "check",
  "demo",
  "sim",
];

Deno.test("--help lists every command of docs/architecture.md", async () => {
  const r = await runMain(["--help"]);
  assertEquals(r.code, 0);
  for (const name of DESIGN_COMMANDS) {
    const row = r.stdout.split("\n").find((l) => l.trimStart().startsWith(name + " "));
    assert(row, `command "${name}" missing from --help`);
  }
});

Deno.test("--version prints the version from deno.json", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assertEquals(await runMain(["--version"]), { code: 0, stdout: `stapfr ${version}\n`, stderr: "" });
  assertEquals((await runMain(["-V"])).stdout, `stapfr ${version}\n`);
});

Deno.test("COMMAND --help shows the usage of that command", async () => {
  for (const name of DESIGN_COMMANDS.filter((n) => n !== "sim")) {
    const r = await runMain([name, "--help"]);
    assertEquals(r.code, 0, name);
    assertStringIncludes(r.stdout, `Usage: stapfr ${usageOf(COMMANDS[name])}`);
  }
});

Deno.test("usage errors print one reason line plus the usage, and exit 2", async (t) => {
  const cases: [string[], string, string][] = [
    [["frobnicate"], 'stapfr: Unknown command "frobnicate"', "Usage: stapfr [--sim]"],
    [["--frob", "list"], 'stapfr: Unknown option "--frob"', "Usage: stapfr [--sim]"],
    [["--state-dir"], 'stapfr: Missing value for "--state-dir"', "Usage: stapfr [--sim]"],
    [[], "stapfr ", "Commands:"],
  ];
  for (const [args, first, usage] of cases) {
    await t.step(args.join(" ") || "(no arguments)", async () => {
      const r = await runMain(args);
      assertEquals(r.code, 2);
      assertEquals(r.stdout, "");
      assert(r.stderr.startsWith(first), r.stderr);
      assertStringIncludes(r.stderr, usage);
      assert(!r.stderr.includes("    at "), "no stack trace");
    });
  }
});

Deno.test("the CLI as a process: --version, an unknown command", async () => {
  const ok = await runCli(["--version"]);
  assertEquals(ok.code, 0);
  assertMatch(ok.stdout, /^stapfr \d+\.\d+\.\d+\n$/);
  const bad = await runCli(["nope"]);
  assertEquals([bad.code, bad.stdout], [2, ""]);
  assertEquals(bad.stderr.split("\n")[0], 'stapfr: Unknown command "nope"');
});
