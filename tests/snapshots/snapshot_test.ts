/**
 * End to end on the simulator: snapshots of both modes through the CLI, their manifests checked against the
 * data, gaps and wraps, an interrupted capture, browsing and retention (docs/snapshots.md).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createHash } from "node:crypto";
import { SimWorld } from "../support/sim_world.ts";
import { until } from "../support/poll.ts";

const TICKS = `global n
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
`;
// About 100 bytes a line, as fast as the timer goes.
const FLOOD = `global n
probe timer.ms(1) { n++; printf("%d %090d\\n", n, 0) }
`;
// 20 lines of 102 bytes every 10 ms on each CPU's timer: a 2 × 16K ring overflows within a second, even on a
// loaded machine. (A begin probe would not do: its output comes while stapio holds the control channel, when
// the ring keeps the oldest data and drops the newest; docs/systemtap-4.8.md 5.2.) Each record is 2048 bytes
// with its header, so two fill a 4 KiB page: on SystemTap 4.8 a record that met a page's last 1-8 bytes would
// take no sequence number, and the test reads record numbers from the lines (tests/loss/accounting_test.ts).
const OVERFLOW = `global n
probe timer.ms(10) { for (i = 0; i < 20; i++) { n++; printf("%08d %092d\\n", n, 0) } }
`;

interface Manifest {
  schema: number;
  id: string;
  recorder: string;
  mode: string;
  kernel_release: string | null;
  reason: string | null;
  trigger: { kind: string };
  files: { name: string; bytes: number; lines: number; sha256: string; cpu: number | null }[];
  bytes: number;
  lines: number;
  capacity: number | null;
  wrapped: boolean;
  contiguous: boolean;
  gap_reason: string | null;
  previous: string | null;
  path: string;
  first_seq: number | null;
  last_seq: number | null;
  records: number | null;
  missing: {
    before_read: number;
    during_read: number;
    unreserved: number | null;
    other_reads: number;
    total: number;
    ranges: [number, number][];
  } | null;
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function newlines(data: Uint8Array): number {
  return data.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
}

/** Checks every file of a manifest against the bytes in the snapshot directory, and the modes. */
async function checkAgainstData(m: Manifest): Promise<void> {
  assertEquals((await Deno.stat(m.path)).mode! & 0o777, 0o700);
  const names = (await Array.fromAsync(Deno.readDir(m.path))).map((e) => e.name).sort();
  assertEquals(names, [...m.files.map((f) => f.name), "manifest.json"].sort());
  for (const f of m.files) {
    const data = await Deno.readFile(`${m.path}/${f.name}`);
    assertEquals([f.bytes, f.sha256], [data.length, sha256(data)], f.name);
    if (f.cpu === null) assertEquals(f.lines, newlines(data), f.name);
    assertEquals((await Deno.stat(`${m.path}/${f.name}`)).mode! & 0o777, 0o600, f.name);
  }
  assertEquals((await Deno.stat(`${m.path}/manifest.json`)).mode! & 0o777, 0o600);
  assertEquals(m.bytes, m.files.reduce((s, f) => s + f.bytes, 0));
}

function ticks(text: string): number[] {
  return [...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
}

Deno.test("memory snapshots: manifest matches the data, contiguous after a snapshot, a gap after an outside dump", async () => {
  // A clean ring (no 4.8 damage): every line the script wrote is in one snapshot or the next.
  const world = await SimWorld.create({ STAPFR_SIM_RING_DAMAGE: "0" });
  try {
    await world.ok(["start", "mem", "-e", TICKS, "--buffer", "1M"]);
    await until("output", async () => (await world.json(["status", "mem"])).state === "recording");
    const first = await world.json<Manifest>(["snapshot", "mem", "--reason", "first look"]);
    assertEquals([first.schema, first.recorder, first.mode, first.reason, first.trigger.kind], [
      2,
      "mem",
      "memory",
      "first look",
      "user",
    ]);
    assertEquals([first.wrapped, first.contiguous, first.previous], [false, false, null]);
    assertEquals(first.capacity, 2 * 1024 * 1024);
    assertMatch(first.id, /^\d{8}T\d{6}Z-\d{3}$/);
    await checkAgainstData(first);
    const firstTicks = ticks(await Deno.readTextFile(`${first.path}/mem.out`));
    assert(firstTicks.length > 0);
    assertEquals(firstTicks[0], 1, "nothing lost before the first snapshot");

    const second = await world.json<Manifest>(["snapshot", "mem"]);
    assertEquals([second.previous, second.contiguous, second.gap_reason, second.wrapped], [
      first.id,
      true,
      null,
      false,
    ]);
    await checkAgainstData(second);
    const secondTicks = ticks(await Deno.readTextFile(`${second.path}/mem.out`));
    // It starts right after the first ended: nothing lost at the detach, nothing repeated (the counter is the
    // record's sequence number: one printf per probe, one record per probe).
    assertEquals(secondTicks[0], firstTicks.at(-1)! + 1);
    assertEquals([second.first_seq, second.last_seq], [secondTicks[0], secondTicks.at(-1)]);

    // Someone else drains the ring: the next snapshot says there is a gap, how large, and why.
    const dumped = ticks(await world.ok(["dump", "mem"]));
    assert(dumped.length > 0);
    const third = await world.json<Manifest>(["snapshot", "mem"]);
    assertEquals([third.previous, third.contiguous], [second.id, false]);
    assertMatch(third.gap_reason!, /\d+ records went to other reads/);
    const thirdTicks = ticks(await Deno.readTextFile(`${third.path}/mem.out`));
    assertEquals(third.missing!.other_reads, dumped.length);
    assertEquals(third.missing!.before_read, 0);
    assertEquals([dumped[0], thirdTicks[0]], [secondTicks.at(-1)! + 1, dumped.at(-1)! + 1]);

    // Browsing: oldest first, with the flags; show prints the manifest; --data the same bytes.
    const listed = await world.json<{ snapshots: Record<string, unknown>[] }>(["snapshots", "mem"]);
    assertEquals(listed.snapshots.map((s) => s.id), [first.id, second.id, third.id]);
    for (const key of ["id", "recorder", "time", "reason", "bytes", "wrapped", "contiguous"]) {
      assert(key in listed.snapshots[0], key);
    }
    assertMatch(await world.ok(["snapshots"]), new RegExp(`${first.id}\\s+mem\\s+.*first look`));
    const shown = JSON.parse(await world.ok(["snapshots", "show", second.id]));
    assertEquals(shown.id, second.id);
    const data = await world.ok(["snapshots", "show", `mem/${second.id}`, "--data"]);
    assertEquals(data, await Deno.readTextFile(`${second.path}/mem.out`));
    const out = `${world.root}/second.txt`;
    await world.ok(["snapshots", "show", second.id, "--data", "-o", out]);
    assertEquals((await Deno.stat(out)).mode! & 0o777, 0o600);
    assertEquals(await Deno.readTextFile(out), data);
  } finally {
    await world.cleanup();
  }
});

Deno.test("memory snapshot: wrapped is true for a ring that overflowed, and says exactly what was overwritten", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "flood", "-e", OVERFLOW, "--buffer", "16K"]);
    // About time: the ring must overflow while detached, which nothing outside it can observe without draining.
    await new Promise((r) => setTimeout(r, 3000));
    const m = await world.json<Manifest>(["snapshot", "flood"]);
    await checkAgainstData(m);
    assertEquals(m.wrapped, true);
    const numbers = [...(await Deno.readTextFile(`${m.path}/flood.out`)).matchAll(/^(\d+) /gm)].map((x) =>
      Number(x[1])
    );
    // 20 lines per probe: record k holds lines 20k-19 … 20k.
    assert(numbers[0] > 1, "the oldest lines were overwritten");
    assertEquals(numbers, [...numbers].sort((a, b) => a - b), "in order");
    assertEquals(m.first_seq, (numbers[0] + 19) / 20);
    assertEquals(m.missing!.before_read, m.first_seq! - 1, "every record before the first is counted");
  } finally {
    await world.cleanup();
  }
});

Deno.test("file snapshot: hard links survive the recorder rotating every file away; show --data merges per CPU", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "files", "-e", FLOOD, "--output", `${world.root}/out`, "--rotate", "1M,2"]);
    await until("output", async () => ((await world.json(["status", "files"])).bytes as number) > 50_000);
    const m = await world.json<Manifest>(["snapshot", "files", "--reason", "cut"]);
    assertEquals(m.mode, "file");
    await checkAgainstData(m);
    assert(m.files.every((f) => f.cpu !== null), "bulk files stay per CPU");
    const before = await world.ok(["snapshots", "show", m.id, "--data"]);
    const firstNumbers = [...before.matchAll(/^(\d+) /gm)].map((x) => Number(x[1]));
    assert(firstNumbers.length > 0);
    assertEquals(firstNumbers, [...firstNumbers].sort((a, b) => a - b), "merged in order");
    // Let stapio rotate every file of the cut away.
    const cut = new Set(m.files.filter((f) => f.bytes > 0).map((f) => f.name));
    await until("rotation to delete the snapshot's files from the run", async () => {
      const files = ((await world.json(["status", "files"])).files as { name: string }[]).map((f) => f.name);
      return ![...cut].some((name) => files.includes(name));
    }, { timeoutMs: 60_000 });
    assertEquals(await world.ok(["snapshots", "show", m.id, "--data"]), before);
    await checkAgainstData(m);
    const later = await world.json<Manifest>(["snapshot", "files"]);
    assertEquals([later.contiguous, later.wrapped], [false, true]);
    assertMatch(later.gap_reason!, /rotated away/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("an interrupted snapshot leaves nothing listed, and gc removes its remains", async () => {
  const world = await SimWorld.create({ STAPFR_IDLE_MS: "3000" });
  try {
    await world.ok(["start", "slow", "-e", TICKS]);
    const child = world.spawn(["snapshot", "slow"]);
    const partialDir = `${world.stateDir}/snapshots/slow`;
    await until("the capture to begin", async () => {
      try {
        for await (const e of Deno.readDir(partialDir)) {
          // Its owner file names the stapfr writing it.
          if (e.name.startsWith(".partial-") && (await Deno.stat(`${partialDir}/${e.name}/.owner`))) {
            return true;
          }
        }
        return false;
      } catch {
        return false;
      }
    });
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots"])).snapshots, []);
    assertMatch(await world.ok(["gc"]), /remains of an interrupted snapshot/);
    const left = (await Array.fromAsync(Deno.readDir(partialDir))).filter((e) => e.name.startsWith("."));
    assertEquals(left.filter((e) => e.name.startsWith(".partial-")), []);
  } finally {
    await world.cleanup();
  }
});

Deno.test("prune by count, size and age, dry run first; retention set at start applies after each snapshot", async () => {
  const world = await SimWorld.create();
  try {
    await world.ok(["start", "kept", "-e", TICKS, "--keep-snapshots", "2"]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await world.json<Manifest>(["snapshot", "kept"])).id);
    const left = (await world.json<{ snapshots: { id: string }[] }>(["snapshots", "kept"])).snapshots;
    assertEquals(left.map((s) => s.id), ids.slice(1), "the oldest went after the third");

    const dry = await world.ok(["snapshots", "prune", "kept", "--keep", "1", "--dry-run"]);
    assertMatch(dry, new RegExp(`Would remove kept/${ids[1]}`));
    assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots"])).snapshots.length, 2);
    assertMatch(
      await world.ok(["snapshots", "prune", "kept", "--keep", "1"]),
      new RegExp(`Removed kept/${ids[1]}`),
    );
    assertEquals(
      (await world.json<{ snapshots: { id: string }[] }>(["snapshots"])).snapshots.map((s) => s.id),
      [ids[2]],
    );

    ids.push((await world.json<Manifest>(["snapshot", "kept"])).id);
    const sizes = (await world.json<{ snapshots: { bytes: number }[] }>(["snapshots"])).snapshots;
    // A size bound that only the newest fits.
    await world.ok(["snapshots", "prune", "--max-size", `${sizes.at(-1)!.bytes + 1}B`]);
    assertEquals(
      (await world.json<{ snapshots: { id: string }[] }>(["snapshots"])).snapshots.map((s) => s.id),
      [
        ids[3],
      ],
    );
    await world.ok(["snapshots", "prune", "--max-age", "0s"]);
    assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots"])).snapshots, []);

    const bad = await world.run(["snapshots", "prune"]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /at least one bound/);
    const badKeep = await world.run(["snapshots", "prune", "--keep", "-1"]);
    assertEquals(badKeep.code, 2);
  } finally {
    await world.cleanup();
  }
});
