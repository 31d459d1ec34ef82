import { assertEquals } from "@std/assert";
import { SequenceLedger } from "../read_path/ledger.ts";
import type { PipelineReport } from "../read_path/record_pipeline.ts";
import { lossReport } from "./loss.ts";

function report(seqs: number[], lastByCpu: (number | undefined)[], settled: number[] = []): PipelineReport {
  const ledger = new SequenceLedger();
  for (const s of seqs) ledger.note(s);
  return {
    ledger,
    framing: { skipped_bytes: 0, resyncs: 0 },
    leftOut: { records: 0, bytes: 0 },
    lastRead: seqs.at(-1),
    lastByCpu,
    settled,
  };
}

Deno.test("loss: numbers after the last one a CPU passed on are pending, not lost (a read of several CPUs)", () => {
  // CPU 0's last record was 10, CPU 1's 6: CPU 1's reader stopped first, so 8 and 9 may still be in its ring.
  const r = report([1, 2, 3, 4, 5, 6, 7, 10], [10, 6]);
  const loss = lossReport(r, { expect: 1, failuresBefore: 0, failuresAfter: 0, settleTail: true });
  assertEquals(loss.pending, [[8, 9]]);
  assertEquals([loss.missing.during_read, loss.missing.total, loss.missing.ranges], [0, 0, []]);
  // Without settleTail (a file read: every stream complete), they are missing.
  const file = lossReport(r, { expect: 1, failuresBefore: 0, failuresAfter: 0 });
  assertEquals([file.missing.during_read, file.pending], [2, []]);
});

Deno.test("loss: a previous read's pending numbers count as missing before this read unless it passed them on", () => {
  // The previous read ended at 10 with 8 and 9 pending; this one passed 9 (late, settled) and 11-12.
  const r = report([11, 12], [12, 9], [9]);
  const loss = lossReport(r, {
    expect: 11,
    failuresBefore: 0,
    failuresAfter: 0,
    settleTail: true,
    pendingBefore: [[8, 9]],
  });
  assertEquals([loss.missing.before_read, loss.missing.ranges], [1, [[8, 8]]]);
  assertEquals(loss.missing.total, 1);
});
