import { assertEquals } from "@std/assert";
import { Output } from "./output.ts";
import { RecordPipeline } from "./record_pipeline.ts";
import { encodeRecord } from "../../sim/kernel/transport.ts";

const rec = (seq: number, text: string): Uint8Array => encodeRecord(seq, new TextEncoder().encode(text));

Deno.test("pipeline: a CPU is quiet only from when the streams began, not from when the pipeline was made", async () => {
  let now = 0;
  let text = "";
  const output = new Output((c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
  const pipeline = new RecordPipeline({ cpus: 2, output, holdMs: 200, expect: 1, now: () => now });
  // stapio takes 500 ms to start; then CPU 1's record comes 160 ms before CPU 0's, which is number 1 (the
  // framer gives up waiting for its successor after 100 ms; the merge holds it for CPU 0 for 200 ms).
  now = 500;
  await pipeline.input(1, rec(2, "b\n"));
  now = 650;
  await pipeline.tick();
  assertEquals(text, "", "number 2 waits for CPU 0, which only began at 500 ms");
  now = 660;
  await pipeline.input(0, rec(1, "a\n"));
  now = 800;
  await pipeline.tick();
  await pipeline.end(0);
  await pipeline.end(1);
  const report = await pipeline.finish();
  assertEquals(text, "a\nb\n");
  assertEquals([report.ledger.records, report.ledger.late], [2, 0]);
});

Deno.test("pipeline: a CPU whose stream has not begun holds the others longer than a CPU that went quiet", async () => {
  let now = 0;
  let text = "";
  const output = new Output((c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
  const pipeline = new RecordPipeline({
    cpus: 2,
    output,
    holdMs: 200,
    startHoldMs: 2000,
    expect: 1,
    now: () => now,
  });
  // CPU 1's reader begins 900 ms after CPU 0's: records 2 and 4 wait for its number 1 and 3.
  await pipeline.input(0, new Uint8Array([...rec(2, "b\n"), ...rec(4, "d\n")]));
  now = 800;
  await pipeline.tick();
  assertEquals(text, "", "CPU 1 has not begun: its records may still come");
  now = 900;
  await pipeline.input(1, new Uint8Array([...rec(1, "a\n"), ...rec(3, "c\n")]));
  await pipeline.end(0);
  await pipeline.end(1);
  const report = await pipeline.finish();
  assertEquals(text, "a\nb\nc\nd\n");
  assertEquals(report.ledger.late, 0);
});

Deno.test("pipeline: a number before the one expected (a previous read's pending one) is passed on and settled", async () => {
  let text = "";
  const output = new Output((c) => Promise.resolve(void (text += new TextDecoder().decode(c))));
  const pipeline = new RecordPipeline({ cpus: 2, output, expect: 10, waitFrom: 9 });
  await pipeline.input(1, rec(9, "nine\n"));
  await pipeline.input(0, new Uint8Array([...rec(10, "ten\n"), ...rec(11, "eleven\n")]));
  const report = await pipeline.finish();
  assertEquals(text, "nine\nten\neleven\n");
  assertEquals([report.settled, report.ledger.first, report.ledger.records], [[9], 10, 2]);
  assertEquals(report.lastByCpu, [11, 9]);
});
