import { assert, assertEquals } from "@std/assert";
import { until } from "../../tests/support/poll.ts";
import { readProcDirectory, readProcFile } from "./proc_libc.ts";

async function cat(argv: string[]): Promise<string> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("with --allow-ffi, /proc is read through libc as cat and ls read it; what is gone is undefined", async () => {
  assertEquals(Deno.permissions.querySync({ name: "ffi" }).state, "granted", "run with --allow-ffi");
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const path = `/proc/${child.pid}/cmdline`;
    // Until the child has run sleep, its /proc entries are still changing.
    await until("the child to run sleep", async () => (await cat(["cat", path])).includes("30"), {
      intervalMs: 5,
    });
    assertEquals(readProcFile(path), await cat(["cat", path]));
    // A file longer than one read (16K), with characters of several bytes across the reads' edges.
    const long = await Deno.makeTempFile();
    try {
      const text = "a\u00e9\u20ac\u{1f600}".repeat(6000);
      await Deno.writeTextFile(long, text);
      assertEquals(readProcFile(long), text);
    } finally {
      await Deno.remove(long);
    }
    const names = readProcDirectory(`/proc/${child.pid}`);
    assertEquals(
      names?.sort(),
      (await cat(["ls", "-A", `/proc/${child.pid}`])).split("\n").filter((l) => l).sort(),
    );
    assert(!names?.includes(".") && !names?.includes(".."));
  } finally {
    child.kill();
    await child.status;
  }
  assertEquals(readProcFile("/proc/999999999/stat"), undefined);
  assertEquals(readProcDirectory("/proc/999999999"), undefined);
});
