import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import { findKernel } from "../../tests/kernel/machine.ts";
import {
  COUNTERS_PROBE,
  COUNTERS_TAPSET,
  countersPath,
  countersStapArgs,
  parseCounters,
  readCounters,
  writeCountersTapset,
} from "./counters.ts";

Deno.test("counters: the file's format, parsed exactly", () => {
  assertEquals(parseCounters("transport_failures 0\nsequence 3\n"), { transportFailures: 0, sequence: 3 });
  assertEquals(parseCounters("transport_failures 14622\nsequence 4294967295\n"), {
    transportFailures: 14622,
    sequence: 4294967295,
  });
  for (
    const bad of [
      "",
      "transport_failures 1\n",
      "sequence 3\ntransport_failures 0\n",
      "transport_failures -1\nsequence 3\n",
    ]
  ) {
    assertThrows(() => parseCounters(bad), Error, "Not a counters file");
  }
});

Deno.test("counters: the tapset is written where -I points, and read back from the module's directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stapfr-counters-" });
  try {
    const path = await writeCountersTapset(dir);
    assertEquals(path, `${dir}/stapfr_counters.stp`);
    assertEquals(await Deno.readTextFile(path), COUNTERS_TAPSET);
    assertEquals(countersStapArgs(dir), ["-I", dir, "-E", COUNTERS_PROBE]);
    assertEquals(countersPath("/proc", "stap_fr_x"), "/proc/systemtap/stap_fr_x/stapfr_counters");
    await Deno.mkdir(`${dir}/proc/systemtap/stap_fr_x`, { recursive: true });
    await Deno.writeTextFile(countersPath(`${dir}/proc`, "stap_fr_x"), "transport_failures 2\nsequence 9\n");
    assertEquals(await readCounters(`${dir}/proc`, "stap_fr_x"), { transportFailures: 2, sequence: 9 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The host's own stap 4.8 elaborates the tapset without guru mode (pass 2 needs a kernel build tree, which the
// kernel lab's machine has; the lab itself compiles and runs it, docs/loss-accounting.md).
const kernel = findKernel();
let stap = false;
try {
  stap = Deno.statSync("/usr/bin/stap").isFile;
} catch {
  // Not installed.
}
Deno.test({
  name: "counters: SystemTap 4.8 accepts the tapset and the probe without -g (stap -p2)",
  ignore: !stap || !kernel,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "stapfr-counters-" });
    try {
      await writeCountersTapset(dir);
      const out = await new Deno.Command("/usr/bin/stap", {
        args: ["-p2", "-r", kernel!.release, ...countersStapArgs(dir), "-e", "probe timer.s(1) {}"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertMatch(text, /stapfr_transport_failures:long \(\)/);
      assertMatch(text, /stapfr_sequence:long \(\)/);
      assertMatch(text, /procfs\("stapfr_counters"\)\.read/);
      // The same embedded C in the user's script is refused without -g: it is the tapset that allows it.
      const refused = await new Deno.Command("/usr/bin/stap", {
        args: [
          "-p2",
          "-r",
          kernel!.release,
          "-e",
          "function f:long () %{ STAP_RETVALUE = 1; %} probe timer.s(1) { f() }",
        ],
        cwd: dir,
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(refused.code, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
