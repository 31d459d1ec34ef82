import { assertEquals, assertMatch } from "@std/assert";
import { findKernel } from "../../tests/kernel/machine.ts";
import { COUNTERS_FILE, parseCounters, readCounters } from "./counters.ts";
import {
  COUNTERS_PROBE,
  COUNTERS_TAPSET,
  COUNTERS_TAPSET_FILE,
  writeCountersTapset,
} from "./counters_tapset.ts";

Deno.test("counters: the file's format; anything else is no counters", () => {
  assertEquals(parseCounters("transport_failures 0\nsequence 3\n"), { transport_failures: 0, sequence: 3 });
  assertEquals(parseCounters("transport_failures 14622\nsequence 4294967295\n"), {
    transport_failures: 14622,
    sequence: 4294967295,
  });
  for (const bad of ["", "transport_failures 1\n", "sequence 3\n", "transport_failures x\nsequence 3\n"]) {
    assertEquals(parseCounters(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("counters: the tapset is written where -I points; the file is read from the module's directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stapfr-counters-" });
  try {
    const args = await writeCountersTapset(dir);
    assertEquals(args, ["-I", `${dir}/stapfr_tapset`, "-E", COUNTERS_PROBE]);
    assertEquals(await Deno.readTextFile(`${dir}/stapfr_tapset/${COUNTERS_TAPSET_FILE}`), COUNTERS_TAPSET);
    assertEquals(await readCounters(`${dir}/proc`, "stap_fr_x"), undefined, "no file: no counters");
    await Deno.mkdir(`${dir}/proc/systemtap/stap_fr_x`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/proc/systemtap/stap_fr_x/${COUNTERS_FILE}`,
      "transport_failures 2\nsequence 9\n",
    );
    assertEquals(await readCounters(`${dir}/proc`, "stap_fr_x"), { transport_failures: 2, sequence: 9 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The host's own stap 4.8 elaborates the tapset without guru mode (pass 2 needs a kernel build tree, which the
// kernel lab's machine has; the lab compiles and runs it, docs/loss-accounting.md "The counters file").
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
      const args = await writeCountersTapset(dir);
      const out = await new Deno.Command("/usr/bin/stap", {
        args: ["-p2", "-r", kernel!.release, ...args, "-e", "probe timer.s(1) {}"],
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
