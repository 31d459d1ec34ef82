import { assertEquals } from "@std/assert";
import { followRun } from "./follow.ts";

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
