/**
 * Bad input on the command line: one clear line, the usage of the command, exit 2, no stack trace, and nothing
 * changed (the state directory stays empty). Runs the CLI as a child process, as a user would.
 */
import { assert, assertEquals } from "@std/assert";
import { runCli } from "../support/stapfr.ts";

const SCRIPT = ["-e", "probe begin { exit() }"];

const CASES: { args: string[]; reason: string; sim?: boolean }[] = [
  { args: ["start", "rec", ...SCRIPT, "--buffer", "0"], reason: 'Invalid buffer size "0"' },
  { args: ["start", "rec", ...SCRIPT, "--buffer", "5000M"], reason: 'Invalid buffer size "5000M"' },
  { args: ["start", "rec", ...SCRIPT, "--buffer", "1.5M"], reason: 'Invalid buffer size "1.5M"' },
  { args: ["start", "rec", ...SCRIPT, "--buffer", "6K"], reason: 'Invalid buffer size "6K"', sim: true },
  {
    args: ["start", "rec", ...SCRIPT, "--output", "o", "--rotate", "10,x"],
    reason: 'Invalid rotation count "x"',
  },
  { args: ["start", "rec", ...SCRIPT, "--output", "o", "--rotate", ",2"], reason: 'Invalid rotation ",2"' },
  { args: ["start", "a;b", ...SCRIPT], reason: 'Invalid recorder name "a;b"' },
  { args: ["start", "../x", ...SCRIPT], reason: 'Invalid recorder name "../x"' },
  { args: ["start", "a".repeat(41), ...SCRIPT], reason: `Invalid recorder name "${"a".repeat(41)}"` },
  { args: ["status", "a;b"], reason: 'Invalid recorder name "a;b"' },
  { args: ["frobnicate"], reason: 'Unknown command "frobnicate"' },
  { args: ["list", "--frob"], reason: 'Unknown option "--frob"' },
  { args: ["start", "rec", ...SCRIPT, "--bogus"], reason: 'Unknown option "--bogus"' },
  { args: ["start", "rec", ...SCRIPT, "--buffer"], reason: 'Missing value for "--buffer"' },
  { args: ["dump", "rec", "-o"], reason: 'Missing value for "--output"' },
  { args: ["tail", "rec", "-n", "many"], reason: 'Invalid line count "many"' },
  { args: ["start"], reason: "Missing recorder name" },
  { args: ["start", "rec"], reason: "Missing script" },
];

Deno.test("bad input: one line saying why, the usage, exit 2, nothing changed", async (t) => {
  const stateDir = await Deno.makeTempDir({ prefix: "stapfr-usage-" });
  const simRoot = await Deno.makeTempDir({ prefix: "stapfr-usage-sim-" });
  try {
    for (const c of CASES) {
      await t.step(c.args.join(" ").slice(0, 70), async () => {
        const args = ["--state-dir", stateDir, ...(c.sim ? ["--sim"] : []), ...c.args];
        const r = await runCli(args, { env: { STAPFR_SIM_ROOT: simRoot } });
        const lines = r.stderr.trimEnd().split("\n");
        assertEquals(r.code, 2, r.stderr);
        assertEquals(r.stdout, "");
        assert(lines[0].startsWith(`stapfr: ${c.reason}`), `got: ${lines[0]}`);
        assert(lines[1].startsWith("Usage: stapfr "), r.stderr);
        assertEquals(lines.length, 2, r.stderr);
      });
    }
    assertEquals([...Deno.readDirSync(stateDir)], [], "usage errors leave the state directory untouched");
  } finally {
    await Deno.remove(stateDir, { recursive: true });
    await Deno.remove(simRoot, { recursive: true });
  }
});
