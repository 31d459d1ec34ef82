import { assertEquals } from "@std/assert";
import { cpioNewc, gzip } from "./cpio.ts";

const decoder = new TextDecoder();

/** Reads a newc archive back: the names, modes and contents, as the kernel's unpacker walks it. */
function parse(bytes: Uint8Array): { name: string; mode: number; data: string }[] {
  const out: { name: string; mode: number; data: string }[] = [];
  let at = 0;
  const align = () => (at += (4 - (at % 4)) % 4);
  while (true) {
    const h = decoder.decode(bytes.slice(at, at + 110));
    assertEquals(h.slice(0, 6), "070701");
    const field = (i: number) => parseInt(h.slice(6 + 8 * i, 14 + 8 * i), 16);
    const size = field(6);
    const nameSize = field(11);
    at += 110;
    const name = decoder.decode(bytes.slice(at, at + nameSize - 1));
    at += nameSize;
    align();
    const data = decoder.decode(bytes.slice(at, at + size));
    at += size;
    align();
    if (name === "TRAILER!!!") return out;
    out.push({ name, mode: field(1), data });
  }
}

Deno.test("cpioNewc writes directories, files and symlinks the way newc readers walk them", () => {
  const bytes = cpioNewc([
    { kind: "dir", path: "/bin" },
    { kind: "file", path: "/init", data: new TextEncoder().encode("#!/bin/sh\n"), mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "file", path: "odd", data: new TextEncoder().encode("abcde") },
  ]);
  assertEquals(parse(bytes), [
    { name: "bin", mode: 0o040755, data: "" },
    { name: "init", mode: 0o100755, data: "#!/bin/sh\n" },
    { name: "bin/sh", mode: 0o120777, data: "busybox" },
    { name: "odd", mode: 0o100644, data: "abcde" },
  ]);
  assertEquals(bytes.length % 4, 0);
});

Deno.test("cpioNewc's archive lists the same with the cpio program, where it is installed", async (t) => {
  let hasCpio = true;
  try {
    await new Deno.Command("cpio", { args: ["--version"], stdout: "null", stderr: "null" }).output();
  } catch {
    hasCpio = false;
  }
  await t.step({
    name: "cpio -t",
    ignore: !hasCpio,
    async fn() {
      const bytes = cpioNewc([
        { kind: "dir", path: "bin" },
        { kind: "file", path: "bin/x", data: new Uint8Array([1, 2, 3]) },
      ]);
      const child = new Deno.Command("cpio", {
        args: ["-t"],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      })
        .spawn();
      const w = child.stdin.getWriter();
      await w.write(bytes);
      await w.close();
      const out = await child.output();
      assertEquals(decoder.decode(out.stdout), "bin\nbin/x\n");
    },
  });
});

Deno.test("gzip gives a stream that decompresses to the same bytes", async () => {
  const bytes = cpioNewc([{ kind: "file", path: "a", data: new Uint8Array(1000).fill(7) }]);
  const zipped = await gzip(bytes);
  assertEquals([zipped[0], zipped[1]], [0x1f, 0x8b]);
  const back = new Blob([zipped as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  assertEquals(new Uint8Array(await new Response(back).arrayBuffer()), bytes);
});
