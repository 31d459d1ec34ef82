/**
 * `stapfr demo` as a user runs it: exit 0, the seed scenario's facts, and no process left behind.
 */
import { assert, assertEquals } from "@std/assert";
import { runCli } from "../support/stapfr.ts";
import { type DemoResult, demoSurprises } from "../../lib/demo.ts";

/**
 * Processes whose command line or environment mentions `text`. `ps` reads them, because Deno grants reading
 * another process's /proc entries only with --allow-all.
 */
async function processesMentioning(text: string): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["axeww", "-o", "pid=,args="], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) => line.includes(text));
}

Deno.test("demo: a second dump holds new lines but not the begin line again, the file recorder switched 3+ times keeping 2 files per CPU, nothing left running", async () => {
  const r = await runCli(["--json", "demo"]);
  assertEquals(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert(result.memory.dump1_lines > 0, "the first dump holds the begin line and the events since");
  assert(result.memory.dump2_lines > 0, "the second dump holds what came after the first");
  assertEquals(result.memory.begin_in_dump2, false);
  assertEquals(result.memory.stop_last_line, "exited");
  assert(result.file.switches >= 3, `switched ${result.file.switches} times`);
  assert(result.file.max_files_per_cpu <= 2, "at most 2 files per CPU stream, as -S 1M,2 keeps");
  assertEquals(result.file.stop_last_line, "exited");
  assertEquals(await processesMentioning(result.root), [], "no simulator process outlives the demo");
  let rootExists = true;
  try {
    Deno.statSync(result.root);
  } catch {
    rootExists = false;
  }
  assertEquals(rootExists, false, "the demo removes its simulator root");
});

Deno.test("demo: each way the scenario can differ from SystemTap is named, so a failed demo says what went wrong", () => {
  const good: DemoResult = {
    root: "/tmp/x",
    memory: { dump1_lines: 5, dump2_lines: 3, begin_in_dump2: false, stop_last_line: "exited" },
    file: { files_seen: [], max_files_per_cpu: 2, switches: 3, stop_last_line: "exited" },
  };
  assertEquals(demoSurprises(good), []);
  const bad: DemoResult = {
    root: "/tmp/x",
    memory: { dump1_lines: 5, dump2_lines: 3, begin_in_dump2: true, stop_last_line: "tick 9" },
    file: { files_seen: [], max_files_per_cpu: 3, switches: 2, stop_last_line: "" },
  };
  assertEquals(demoSurprises(bad), [
    "the second dump repeated the begin line",
    'the memory recorder\'s last line was "tick 9"',
    'the file recorder\'s last line was ""',
    "3 files of one CPU were kept at once",
    "the files switched 2 times, not 3, in a minute",
  ]);
});
