import { assertEquals, assertThrows } from "@std/assert";
import { MemoryOutputFs, type OutputHandle } from "./output_fs.ts";
import { RotationCrash } from "./rotation.ts";
import { OutputOpenError, OutputWriteError, StapioWriter, type WriterOptions } from "./writer.ts";
import { RealOutputFs } from "./output_fs.ts";

const enc = new TextEncoder();
const rec = (seq: number, text: string) => ({ seq, payload: enc.encode(text) });
const bytes = (n: number, fill = "x") => ({ seq: 0, payload: enc.encode(fill.repeat(n)) });

function writer(over: Partial<WriterOptions>): { w: StapioWriter; fs: MemoryOutputFs } {
  const fs = new MemoryOutputFs();
  const w = new StapioWriter({
    bulk: false,
    cpus: 2,
    fs,
    now: () => new Date(2024, 0, 5, 11, 41, 1),
    ...over,
  });
  w.open();
  return { w, fs };
}

Deno.test("4.1 file names: every row of the table, before and after a SIGUSR2 switch", async (t) => {
  await t.step("non-bulk, no -S: F, then F.1 (shared by every CPU at first)", () => {
    const { w, fs } = writer({ outfile: "/t/out" });
    w.write(0, rec(1, "a\n"));
    w.write(1, rec(2, "b\n"));
    assertEquals(fs.names(), ["/t/out"]);
    assertEquals(fs.text("/t/out"), "a\nb\n");
    w.switchFiles();
    assertEquals(fs.names(), ["/t/out", "/t/out.1"]);
  });
  await t.step("non-bulk, -S: F.0, then F.1", () => {
    const { w, fs } = writer({ outfile: "/t/out", rotation: { sizeLimit: 1 << 20, fileCount: 0 } });
    assertEquals(fs.names(), ["/t/out.0"]);
    w.switchFiles();
    assertEquals(fs.names(), ["/t/out.0", "/t/out.1"]);
  });
  await t.step("bulk, no -S, with -o: F_<cpu>, then F_cpu<cpu>.1", () => {
    const { w, fs } = writer({ outfile: "/t/out", bulk: true });
    assertEquals(fs.names(), ["/t/out_0", "/t/out_1"]);
    w.switchFiles();
    assertEquals(fs.names(), ["/t/out_0", "/t/out_1", "/t/out_cpu0.1", "/t/out_cpu1.1"]);
  });
  await t.step("bulk, no -o: stpd_cpu<cpu> in the working directory, SIGUSR2 ignored", () => {
    const { w, fs } = writer({ bulk: true, cwd: "/w" });
    w.switchFiles();
    assertEquals(fs.names(), ["/w/stpd_cpu0", "/w/stpd_cpu1"]);
  });
  await t.step("bulk, -S: F_cpu<cpu>.0", () => {
    const { fs } = writer({ outfile: "/t/out", bulk: true, rotation: { sizeLimit: 1 << 20, fileCount: 0 } });
    assertEquals(fs.names(), ["/t/out_cpu0.0", "/t/out_cpu1.0"]);
  });
  await t.step("/dev/null never gets a suffix", () => {
    const { w, fs } = writer({ outfile: "/dev/null", rotation: { sizeLimit: 1 << 20, fileCount: 2 } });
    w.switchFiles();
    assertEquals(fs.names(), ["/dev/null"]);
  });
});

Deno.test("4.4 -S 1,2: out.0 → out.0,out.1 → out.1,out.2 → out.2,out.3", () => {
  const { w, fs } = writer({ outfile: "/t/out", cpus: 1, rotation: { sizeLimit: 1 << 20, fileCount: 2 } });
  const seen = [fs.names().join(",")];
  for (let k = 0; k < 3; k++) {
    w.switchFiles();
    seen.push(fs.names().join(","));
  }
  assertEquals(seen, ["/t/out.0", "/t/out.0,/t/out.1", "/t/out.1,/t/out.2", "/t/out.2,/t/out.3"]);
});

Deno.test("4.1/4.4 strftime names: each file named at its own open, the right one deleted", () => {
  let second = 0;
  const fs = new MemoryOutputFs();
  const w = new StapioWriter({
    outfile: "/t/out-%H%M%S",
    bulk: false,
    cpus: 1,
    fs,
    now: () => new Date(2024, 0, 5, 11, 41, second++),
    rotation: { sizeLimit: 1 << 20, fileCount: 2 },
  });
  w.open();
  w.switchFiles();
  assertEquals(fs.names(), ["/t/out-114100.0", "/t/out-114101.1"]);
  w.switchFiles();
  assertEquals(fs.names(), ["/t/out-114101.1", "/t/out-114102.2"]);
});

Deno.test("4.3 size check before each write: 262 messages of 4000 bytes fill a 1 MiB file", () => {
  const { w, fs } = writer({ outfile: "/t/out", cpus: 1, rotation: { sizeLimit: 1 << 20, fileCount: 0 } });
  for (let i = 0; i < 263; i++) w.write(0, bytes(4000));
  assertEquals(fs.files.get("/t/out.0")!.size, 1_048_000);
  assertEquals(fs.files.get("/t/out.1")!.size, 4000);
});

Deno.test("4.3 bulk: the check counts the payload only; 261 records of 4008 bytes (the 8|len quirk)", () => {
  const { w, fs } = writer({
    outfile: "/t/out",
    bulk: true,
    cpus: 1,
    rotation: { sizeLimit: 1 << 20, fileCount: 0 },
  });
  for (let i = 0; i < 262; i++) w.write(0, bytes(4000));
  assertEquals(fs.files.get("/t/out_cpu0.0")!.size, 1_046_088);
  assertEquals(fs.files.get("/t/out_cpu0.1")!.size, 4008);
});

Deno.test("4.5 reproduced 4.8 bug: non-bulk -S with two CPUs, each CPU overwrites the other", () => {
  const { w, fs } = writer({ outfile: "/t/out", rotation: { sizeLimit: 1 << 20, fileCount: 0 } });
  for (let i = 0; i < 10; i++) {
    w.write(0, rec(2 * i + 1, "cpu0 line\n"));
    w.write(1, rec(2 * i + 2, "CPU1 line\n"));
  }
  assertEquals(fs.text("/t/out.0"), "CPU1 line\n".repeat(10));
});

Deno.test("4.5 bulk files hold raw records (header + payload), one file per CPU", () => {
  const { w, fs } = writer({ outfile: "/t/out", bulk: true });
  w.write(1, rec(7, "hi"));
  assertEquals([...fs.files.get("/t/out_1")!.bytes()], [7, 0, 0, 0, 2, 0, 0, 0, 104, 105]);
});

Deno.test("4.7 -S 0,N then SIGUSR2 crashes like 4.8", () => {
  const { w } = writer({ outfile: "/t/out", rotation: { sizeLimit: 0, fileCount: 3 } });
  assertThrows(() => w.switchFiles(), RotationCrash);
});

Deno.test("section 6 item 4: a closed stdout gives the 'Couldn't write to output' message", () => {
  const stdout: OutputHandle = {
    fd: 1,
    write() {
      throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
    close() {},
  };
  const { w } = writer({ stdout });
  const err = assertThrows(() => w.write(1, rec(1, "x")), OutputWriteError);
  assertEquals(err.message, "Couldn't write to output 1 for cpu 1, exiting.: Broken pipe");
});

Deno.test("an output file that cannot be opened gives stapio's message with strerror", () => {
  const w = new StapioWriter({
    outfile: "/nonexistent-dir-for-stapfr/out",
    bulk: false,
    cpus: 1,
    fs: new RealOutputFs(),
    now: () => new Date(0),
  });
  const err = assertThrows(() => w.open(), OutputOpenError);
  assertEquals(
    err.message,
    "Couldn't open output file /nonexistent-dir-for-stapfr/out: No such file or directory",
  );
});
