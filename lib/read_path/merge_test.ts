import { assertEquals } from "@std/assert";
import { listRunFiles, streamsOf } from "./files.ts";
import { mergeStreams } from "./merge.ts";
import { encodeRecord } from "../../sim/kernel/transport.ts";
import { joinBytes } from "../bytes.ts";

const record = (seq: number, text: string): Uint8Array => encodeRecord(seq, new TextEncoder().encode(text));

const join = (...parts: Uint8Array[]): Uint8Array => joinBytes(parts);

Deno.test("mergeStreams restores the global order across CPUs and rotated files, as stap-merge does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // CPU 0 rotated once; CPU 1's first file was deleted by rotation (k-N), so 4 and 5 are gone.
    await Deno.writeFile(`${dir}/r.out_cpu0.0`, join(record(1, "1\n"), record(3, "3\n")));
    await Deno.writeFile(`${dir}/r.out_cpu0.1`, join(record(6, "6\n"), record(8, "8\n")));
    await Deno.writeFile(`${dir}/r.out_cpu1.1`, join(record(2, "2\n"), record(7, "7\n")));
    // A record torn by a writer in the middle of a write is dropped.
    await Deno.writeFile(`${dir}/r.out_cpu1.2`, join(record(9, "9\n"), record(10, "10\n").slice(0, 10)));
    await Deno.writeTextFile(`${dir}/unrelated`, "x");
    const files = listRunFiles(dir, "r.out");
    assertEquals(files.map((f) => f.name), ["r.out_cpu0.0", "r.out_cpu0.1", "r.out_cpu1.1", "r.out_cpu1.2"]);
    let text = "";
    const result = await mergeStreams(
      streamsOf(files),
      (c) => Promise.resolve(void (text += new TextDecoder().decode(c))),
    );
    assertEquals(text, "1\n2\n3\n6\n7\n8\n9\n");
    assertEquals(result.records, 7);
    assertEquals(result.gaps, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
