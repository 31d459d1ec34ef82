import { assert, assertEquals } from "@std/assert";
import { primeReaderRecords, registerReader, startTimeSync } from "./reader_records.ts";

Deno.test("a reader record is 0600 whatever the umask, names both processes with start times, and goes", async () => {
  const dir = await Deno.makeTempDir();
  const old = Deno.umask(0);
  try {
    await primeReaderRecords();
    // This test process stands in for the reader: a live process with a start time.
    const release = registerReader(dir, { recorder: "r1", module: "stap_fr_r1", command: "dump" }, Deno.pid);
    const path = `${dir}/r1.${Deno.pid}.reader`;
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const record = JSON.parse(await Deno.readTextFile(path));
    assertEquals(record.recorder, "r1");
    assertEquals(record.module, "stap_fr_r1");
    assertEquals(record.stapfr.pid, Deno.pid);
    assertEquals(record.reader.pid, Deno.pid);
    assert(record.stapfr.start !== null && record.stapfr.start === startTimeSync(Deno.pid));
    assertEquals(record.reader.start, record.stapfr.start);
    release();
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).length, 0);
  } finally {
    Deno.umask(old);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a state directory that cannot be written records nothing and does not fail the read", () => {
  const release = registerReader(
    "/nonexistent/stapfr",
    { recorder: "r1", module: "m", command: "dump" },
    Deno.pid,
  );
  release();
});

Deno.test("startTimeSync: null for a process that does not exist", () => {
  assertEquals(startTimeSync(2 ** 22 + 1), null);
});
