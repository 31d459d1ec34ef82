/**
 * A full store, on the simulator against a real RADOS Gateway whose OSD holds 32 MiB (started by this file,
 * stopped on every way out): a full Ceph cluster accepts a write and never answers it. stapfr's ship must end
 * with a timeout and one clear line, keep the snapshot and mark it pending (docs/fleet.md "Faults").
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Gateway, gatewayMissing } from "../support/rgw.ts";
import { SimWorld } from "../support/sim_world.ts";
import { finishedFileRecorder } from "../support/fleet.ts";

const BUCKET = "fleet";
const TO = `s3://${BUCKET}/prod`;
const missing = await gatewayMissing();

Deno.test({
  name:
    "fleet: a full store that hangs: ship times out with one line, the snapshot kept pending (against a RADOS Gateway)",
  ignore: missing !== undefined,
  async fn() {
    const gw = await Gateway.start({ storeBytes: 32 << 20 });
    let world: SimWorld | undefined;
    try {
      const s3 = gw.client();
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      // Fill it until a write hangs. Ceph notices that it is full a few seconds late: past its size, pause
      // between writes, so that what goes in meanwhile stays small.
      const chunk = new Uint8Array(4 << 20);
      let hung = false;
      for (let i = 0; i < 60 && !hung; i++) {
        try {
          await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `filler/${i}`, Body: chunk }), {
            abortSignal: AbortSignal.timeout(5000),
          });
        } catch (err) {
          assertEquals((err as Error).name, "AbortError", String(err));
          hung = true;
        }
        // Waiting for Ceph's report of its own fullness (a test about time, not a condition to poll).
        if (i >= 12) await new Promise((r) => setTimeout(r, 500));
      }
      assert(hung, "the store never filled up");

      world = await SimWorld.create({
        ...gw.env(),
        STAPFR_HOST_NAME: "full01",
        STAPFR_SHIP_TIMEOUT_MS: "2000",
        STAPFR_SHIP_ATTEMPTS: "2",
      });
      await finishedFileRecorder(world, "app", 1, 1);
      const started = Date.now();
      const r = await world.run(["snapshot", "app", "--ship", TO]);
      const took = Date.now() - started;
      assertEquals(r.code, 1, r.stderr);
      const id = /^(\S+)\s/.exec(r.stdout)![1];
      const lines = r.stderr.trimEnd().split("\n");
      assertMatch(
        lines[1],
        new RegExp(
          `^stapfr: Snapshot app/${id} is kept here, not shipped: ${gw.endpoint} did not answer within 2 s \\(2 attempts\\)$`,
        ),
      );
      assertMatch(lines[2], /^The store may be full or overloaded .*"stapfr ship --pending" sends it$/);
      assert(took < 30_000, `bounded by the timeout: ${took} ms`);
      assertEquals(
        (await world.json<{ unshipped_snapshots: string[] }>(["status", "app"])).unshipped_snapshots,
        [id],
      );
      // Reads still work on a full cluster: nothing of it is listed.
      assertEquals((await world.json<{ snapshots: unknown[] }>(["snapshots", "--remote", TO])).snapshots, []);
    } finally {
      await world?.cleanup();
      // A full cluster's radosgw ignores SIGTERM: killed first, then the OSD and the monitor as usual.
      await gw.killGateway();
      await gw.stop();
    }
  },
});
