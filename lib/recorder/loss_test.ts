import { assertEquals } from "@std/assert";
import { SequenceLedger } from "../read_path/ledger.ts";
import type { PipelineReport } from "../read_path/record_pipeline.ts";
import { lossLine, lossReport } from "./loss.ts";

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

Deno.test("loss: of the numbers missing inside a read, those written before it began are its backlog, not lost while it read", () => {
  // A wrapped ring's first read: a stale page (1209-1218), then the ring's newest records; the module's last
  // number was 5000 when the read attached, and it wrote on while it read (a record dropped at 5300).
  const seqs = [
    ...Array.from({ length: 10 }, (_, i) => 1209 + i),
    ...Array.from({ length: 2000 }, (_, i) => 3262 + i).filter((n) => n !== 4000),
    ...Array.from({ length: 100 }, (_, i) => 5262 + i).filter((n) => n !== 5300),
  ];
  const loss = lossReport(report(seqs, [seqs.at(-1)]), {
    expect: 1,
    failuresBefore: 0,
    failuresAfter: 0,
    sequenceBefore: 5000,
  });
  assertEquals([loss.missing.before_read, loss.missing.during_read, loss.missing.backlog], [
    1208,
    2045,
    2044,
  ]);
  assertEquals(loss.missing.total, 1208 + 2045);
  assertEquals(
    lossLine(loss, "dump"),
    "stapfr: 1208 records (seq 1–1208) were overwritten before this dump began (the ring wrapped, or a reader " +
      "that did not finish took them); 2044 records (seq 1219–3261, 4000), written before this dump began, did " +
      "not come through: the ring overwrote them, or stapio dropped them with a backlog it could not frame; " +
      "1 record (seq 5300) was lost while reading: SystemTap dropped them (docs/loss-accounting.md)",
  );
  // Without the module's counters, nothing says when a number was written: all of them are "during".
  const unknown = lossReport(report(seqs, [seqs.at(-1)]), {
    expect: 1,
    failuresBefore: null,
    failuresAfter: null,
  });
  assertEquals([unknown.missing.during_read, unknown.missing.backlog], [2045, null]);
  assertEquals(
    lossLine(unknown)?.includes("2045 records (seq 1219–3261, 4000, 5300) were lost while reading"),
    true,
  );
});

Deno.test("loss: a pending number written before the read began is in neither the backlog nor the loss", () => {
  // CPU 1 stopped at 6; 8 and 9 are pending. The module's last number at the attach was 8.
  const loss = lossReport(report([1, 2, 3, 4, 5, 6, 7, 10], [10, 6]), {
    expect: 1,
    failuresBefore: 0,
    failuresAfter: 0,
    settleTail: true,
    sequenceBefore: 8,
  });
  assertEquals([loss.missing.during_read, loss.missing.backlog, loss.pending], [0, 0, [[8, 9]]]);
});
