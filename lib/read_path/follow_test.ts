import { assertEquals } from "@std/assert";
import { followRun } from "./follow.ts";
import { listRunFiles, streamsOf } from "./files.ts";
import { tailBulk, type TailEnd, tailFiles } from "./tail.ts";

Deno.test("followRun follows a file recorder across rotations and deletions, then ends with it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f.out.0`, "old\n");
    let text = "";
    let recording = true;
    let step = 0;
    // The "writer" acts between polls: append, rotate (delete k-N), append to the new file, end.
    const writer = async (): Promise<void> => {
      step++;
      if (step === 1) await Deno.writeTextFile(`${dir}/f.out.0`, "a\n", { append: true });
      if (step === 2) {
        await Deno.writeTextFile(`${dir}/f.out.0`, "b\n", { append: true });
        await Deno.writeTextFile(`${dir}/f.out.1`, "c\n");
        await Deno.remove(`${dir}/f.out.0`);
      }
      if (step === 3) {
        await Deno.writeTextFile(`${dir}/f.out.2`, "d\n");
        await Deno.writeTextFile(`${dir}/f.out.1`, "c2\n", { append: true });
      }
      if (step === 4) recording = false;
    };
    await followRun({
      runDir: dir,
      base: "f.out",
      bulk: false,
      sink: (c) => Promise.resolve(void (text += new TextDecoder().decode(c))),
      isRecording: async () => {
        await writer();
        return recording;
      },
      pollMs: 1,
    });
    // "b" was written before f.out.0 was deleted: an open file stays readable; what was read once is not repeated.
    assertEquals(text, "a\nb\nc\nc2\nd\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A bulk record: sequence number, length, payload (docs/loss-accounting.md). */
function bulkRecord(seq: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const record = new Uint8Array(8 + payload.length);
  new DataView(record.buffer).setUint32(0, seq, true);
  new DataView(record.buffer).setUint32(4, payload.length, true);
  record.set(payload, 8);
  return record;
}

Deno.test("tail -f goes on where the tail's read stopped: what stapio wrote in between is not skipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A text run: the tail reads the last line, stapio writes two more (one into a new file) before the
    // follower starts.
    await Deno.writeTextFile(`${dir}/t.out.0`, "1\n2\n");
    const tail = await tailFiles(listRunFiles(dir, "t.out"), 1);
    assertEquals(tail.text, "2\n");
    await Deno.writeTextFile(`${dir}/t.out.0`, "3\n", { append: true });
    await Deno.writeTextFile(`${dir}/t.out.1`, "4\n");
    assertEquals(await followed(dir, "t.out", false, tail.end), "3\n4\n");

    // A bulk run: the follower starts at the newest files' start and leaves out what the tail read.
    await Deno.writeFile(
      `${dir}/b.out_cpu0.0`,
      new Uint8Array([...bulkRecord(1, "a\n"), ...bulkRecord(3, "c\n")]),
    );
    await Deno.writeFile(`${dir}/b.out_cpu1.0`, bulkRecord(2, "b\n"));
    const bulk = await tailBulk(streamsOf(listRunFiles(dir, "b.out")), 1);
    assertEquals([bulk.text, bulk.end.afterSeq], ["c\n", 3]);
    await Deno.writeFile(`${dir}/b.out_cpu1.0`, bulkRecord(4, "d\n"), { append: true });
    assertEquals(await followed(dir, "b.out", true, bulk.end), "d\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** What a follower from `after` passes on until the recording (already over) has been read. */
async function followed(dir: string, base: string, bulk: boolean, after: TailEnd): Promise<string> {
  let text = "";
  await followRun({
    runDir: dir,
    base,
    bulk,
    after,
    sink: (c) => Promise.resolve(void (text += new TextDecoder().decode(c))),
    isRecording: () => Promise.resolve(false),
    pollMs: 1,
  });
  return text;
}
