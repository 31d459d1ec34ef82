/**
 * Shipping through faults, on the simulator against a real RADOS Gateway (started by this file, stopped on
 * every way out): the gateway killed in the middle of a multipart upload and started again, stapfr itself
 * killed in the middle of one, and a watcher whose store goes away and comes back. Each time the next ship goes
 * on from the parts the store already holds, and no partial snapshot is ever listed (docs/fleet.md "Faults").
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { Gateway, gatewayMissing } from "../support/rgw.ts";
import { SimWorld } from "../support/sim_world.ts";
import { finishedFileRecorder, keys, Logged, partsUnderWay } from "../support/fleet.ts";
import { until } from "../support/poll.ts";

const BUCKET = "fleet";
const TO = `s3://${BUCKET}/prod`;
const missing = await gatewayMissing();
const TICKS = `global n
probe timer.ms(10) { n++; printf("tick %d\\n", n) }
`;

interface Row {
  host: string;
  id: string;
}

Deno.test({
  name:
    "fleet faults: a killed gateway, a killed stapfr, a watcher whose store goes away (against a RADOS Gateway)",
  ignore: missing !== undefined,
  async fn(t) {
    const gw = await Gateway.start();
    const worlds: SimWorld[] = [];
    try {
      const s3 = gw.client();
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      // 5 MiB parts at 10 MiB/s: a 40 MiB snapshot takes four seconds, long enough to cut in the middle.
      const slow = { STAPFR_SHIP_PART_SIZE: "5M", STAPFR_SHIP_RATE: "10M", STAPFR_SHIP_ATTEMPTS: "2" };
      const world = async (host: string) => {
        const w = await SimWorld.create({ ...gw.env(), STAPFR_HOST_NAME: host, ...slow });
        worlds.push(w);
        return w;
      };
      const fleetView = async (w: SimWorld) =>
        (await w.json<{ snapshots: Row[] }>(["snapshots", "--remote", TO])).snapshots;

      await t.step(
        "the gateway killed mid-upload: nothing listed; started again, the next ship goes on and completes",
        async () => {
          const w = await world("big01");
          await finishedFileRecorder(w, "big", 40, 1);
          const m = await w.json<{ id: string; path: string; bytes: number }>(["snapshot", "big"]);
          const ship = new Logged(w, ["ship", "big", "--to", TO]);
          try {
            await until(
              "two parts in the store",
              () => partsUnderWay(s3, BUCKET, "prod/hosts/big01/").then((n) => n >= 2),
            );
            await gw.killGateway();
            const r = await ship.done();
            assertEquals(r.code, 1, r.stderr);
            assertMatch(
              r.stderr,
              new RegExp(`^stapfr: Cannot ship big/${m.id}/big\\.out\\.0: cannot reach ${gw.endpoint}: `),
            );
          } finally {
            await ship.stop("SIGKILL");
          }
          assertEquals(
            (await w.json<{ unshipped_snapshots: string[] }>(["status", "big"])).unshipped_snapshots,
            [m.id],
          );
          await gw.startGateway();
          assertEquals(await fleetView(w), [], "no partial snapshot is listed");
          assertEquals((await keys(s3, BUCKET, "prod/")).filter((k) => k.endsWith("manifest.json")), []);
          const held = await partsUnderWay(s3, BUCKET, "prod/hosts/big01/");
          assert(held >= 2 && held < 8, `parts held: ${held}`);
          const again = await w.run(["ship", "--pending"], { STAPFR_SHIP_RATE: "" });
          assertEquals(again.code, 0, again.stderr);
          const resumed = Number(/went on from (\d+) parts already in the store/.exec(again.stdout)?.[1]);
          assert(resumed >= 2, again.stdout);
          assertEquals((await fleetView(w)).map((s) => [s.host, s.id]), [["big01", m.id]]);
          assertEquals(await partsUnderWay(s3, BUCKET, "prod/hosts/big01/"), 0, "the upload is complete");
          const fetched = await w.run([
            "snapshots",
            "fetch",
            `big01/big/${m.id}`,
            "--remote",
            TO,
            "-o",
            `${w.work}/f`,
          ]);
          assertEquals(fetched.code, 0, fetched.stderr);
          assertEquals((await Deno.stat(`${w.work}/f/big.out.0`)).size, m.bytes);
        },
      );

      await t.step(
        "stapfr killed mid-upload: the next ship takes over its lock and goes on from the stored parts",
        async () => {
          const w = await world("big02");
          await finishedFileRecorder(w, "big", 40, 1);
          const m = await w.json<{ id: string }>(["snapshot", "big"]);
          // Ctrl-C first: exit 130, the snapshot pending, the upload kept for later.
          const interrupted = new Logged(w, ["ship", "big", "--to", TO]);
          try {
            await until(
              "a part in the store",
              () => partsUnderWay(s3, BUCKET, "prod/hosts/big02/").then((n) => n >= 1),
            );
          } finally {
            const r = await interrupted.stop("SIGINT");
            assertEquals(r.code, 130, r.stderr);
          }
          assertEquals(
            (await w.json<{ unshipped_snapshots: string[] }>(["status", "big"])).unshipped_snapshots,
            [m.id],
          );
          // Then killed outright, further on.
          const ship = new Logged(w, ["ship", "--pending"]);
          try {
            await until(
              "more parts in the store",
              () => partsUnderWay(s3, BUCKET, "prod/hosts/big02/").then((n) => n >= 3),
            );
          } finally {
            await ship.stop("SIGKILL");
          }
          assertEquals(await fleetView(w).then((v) => v.filter((s) => s.host === "big02")), []);
          const again = await w.run(["ship", "big", "--to", TO], { STAPFR_SHIP_RATE: "" });
          assertEquals(again.code, 0, again.stderr);
          assertMatch(
            again.stdout,
            new RegExp(
              `^Shipped big/${m.id} \\(1 file, 40M; went on from \\d+ parts already in the store\\)`,
            ),
          );
          assertEquals((await fleetView(w)).filter((s) => s.host === "big02").map((s) => s.id), [m.id]);
        },
      );

      await t.step(
        "watch --ship: the store goes away, the snapshot waits pending, retried with backoff, shipped when it is back",
        async () => {
          const w = await SimWorld.create({
            ...gw.env(),
            STAPFR_HOST_NAME: "watch01",
            STAPFR_SHIP_RETRY_MS: "1000",
            STAPFR_SHIP_ATTEMPTS: "1",
          });
          worlds.push(w);
          await w.ok(["start", "w", "-e", TICKS, "--buffer", "1M"]);
          const watcher = new Logged(w, ["watch", "w", "--on", "signal", "--ship", TO]);
          let end: { code: number; stderr: string };
          try {
            await watcher.saw(/ watch started /);
            await gw.killGateway();
            await w.ok(["trigger", "w", "--reason", "store away"]);
            const id = /snapshot (\S+)/.exec(await watcher.saw(/ signal snapshot /))![1];
            await watcher.saw(new RegExp(` ship failed w/${id} \\(.*cannot reach .*; trying again in 1s\\)`));
            assertEquals(
              (await w.json<{ unshipped_snapshots: string[] }>(["status", "w"])).unshipped_snapshots,
              [id],
            );
            await watcher.saw(/ ship failed .*; trying again in 2s\)/);
            await gw.startGateway();
            await watcher.saw(new RegExp(` ship shipped ${id} \\(s3://fleet/prod/hosts/watch01/w/${id}/\\)`));
            const waits = watcher.lines.flatMap((l) => / trying again in (\d+)s\)/.exec(l)?.[1] ?? []).map(
              Number,
            );
            assertEquals(waits, [1, 2, 4, 8, 16].slice(0, waits.length), "the wait doubles");
            assertEquals(
              (await w.json<{ unshipped_snapshots: string[] }>(["status", "w"])).unshipped_snapshots,
              [],
            );
            assertEquals((await fleetView(w)).filter((s) => s.host === "watch01").map((s) => s.id), [id]);
          } finally {
            // A failure above is reported as itself: the exit code is checked only after.
            end = await watcher.stop("SIGTERM");
          }
          assertEquals(end.code, 0, end.stderr);
        },
      );
    } finally {
      for (const w of worlds) await w.cleanup();
      await gw.stop();
    }
  },
});
