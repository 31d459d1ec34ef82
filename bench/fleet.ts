/**
 * The fleet against a real RADOS Gateway (tests/support/rgw.ts; skipped where Ceph is not installed):
 *
 * - `stapfr ship` of a 1 GiB snapshot (a file recorder's run of one file), as a whole process, against the AWS
 *   SDK's own upload of the same file (`@aws-sdk/lib-storage`'s `Upload`, same part size and parts in flight)
 *   as a process of its own: the ratio is SDK time / stapfr time (goal ≥ 0.8: what stapfr adds, the SHA-256
 *   and MD5 checks, the HEADs of the verification, the records on the host, costs at most a fifth);
 * - `stapfr snapshots --remote --since 1h` over a store of 10,000 snapshots from 100 hosts taken over the last
 *   7 days: its time (goal under 2 s), the requests it made (counted by stapfr and, independently, by a relay
 *   in front of the gateway), against the SDK alone making the same requests; and, for contrast, the requests
 *   of the listing without `--since`.
 *
 * Run: npx -y deno@2.9.6 run -A bench/fleet.ts   (STAPFR_BENCH_SHIP_MIB=N for another snapshot size)
 */
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { fileURLToPath } from "node:url";
import { PERMISSIONS } from "../lib/self.ts";
import { indexEntry, indexKey, indexPrefix, indexStamp } from "../lib/fleet/layout.ts";
import { formatId, idStamp } from "../lib/snapshots/id.ts";
import type { Manifest } from "../lib/snapshots/manifest.ts";
import { Gateway, gatewayMissing } from "../tests/support/rgw.ts";
import { CountingProxy } from "./support/count_proxy.ts";
import { generate, registerFinished } from "./support/file_run.ts";

const SHIP_MIB = Number(Deno.env.get("STAPFR_BENCH_SHIP_MIB") ?? 1024);
const PART = 8 << 20;
const ROUNDS = 3;
const HOSTS = 100;
const PER_HOST = 100;
const DAYS = 7;
const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const why = await gatewayMissing();
if (why) {
  console.log(`fleet: skipped (${why})`);
  Deno.exit(0);
}

async function timed(argv: string[], env: Record<string, string>): Promise<{ s: number; stdout: string }> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), env, stdout: "piped", stderr: "piped" })
    .output();
  const s = (performance.now() - start) / 1000;
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${argv.join(" ")} failed: ${dec.decode(out.stderr)}`);
  return { s, stdout: dec.decode(out.stdout) };
}

function stapfr(...args: string[]): string[] {
  return [Deno.execPath(), "run", "--quiet", ...PERMISSIONS, CLI, "--sim", ...args];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Deletes everything under a prefix and has the gateway free the space at once (its store is memory). */
async function empty(gw: Gateway, s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  await gw.admin("gc", "process", "--include-all");
}

async function shipBench(gw: Gateway, s3: S3Client): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "stapfr-bench-fleet-" });
  try {
    const stateDir = `${root}/state`;
    const runDir = `${root}/out/bench-run`;
    await Deno.mkdir(runDir, { recursive: true });
    await Deno.mkdir(stateDir, { recursive: true });
    const bytes = await generate(runDir, "bench.out", SHIP_MIB, 1);
    await registerFinished(stateDir, "bench", root, runDir, bytes, 1);
    const env = {
      ...gw.env(),
      STAPFR_SIM_ROOT: root,
      STAPFR_STATE_DIR: stateDir,
      STAPFR_HOST_NAME: "bench01",
      STAPFR_SHIP_PART_SIZE: "8M",
    };
    await s3.send(new CreateBucketCommand({ Bucket: "ship" }));
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A new snapshot each round (its files are links to the same run, so the same bytes).
      const id = JSON.parse((await timed(stapfr("--json", "snapshot", "bench"), env)).stdout).id as string;
      const file = `${stateDir}/snapshots/bench/${id}/bench.out.0`;
      const runSdk = async () => {
        const r = await timed(
          [
            Deno.execPath(),
            "run",
            "-A",
            here("./support/sdk_upload.ts"),
            file,
            "ship",
            `sdk/${round}`,
            String(PART),
          ],
          env,
        );
        await empty(gw, s3, "ship");
        return r;
      };
      const runShip = async () => {
        const r = await timed(stapfr("ship", `bench/${id}`, "--to", "s3://ship/fleet"), env);
        await empty(gw, s3, "ship");
        return r;
      };
      // Alternating which goes first, so that neither always meets a warmer gateway.
      const [sdk, ship] = round % 2 === 0
        ? [await runSdk(), await runShip()]
        : await runShip().then(async (ship) => [await runSdk(), ship]);
      ratios.push(sdk.s / ship.s);
      console.log(
        `ship of a ${SHIP_MIB} MiB snapshot, round ${round + 1}: ${ship.s.toFixed(2)} s ` +
          `(${(SHIP_MIB / ship.s).toFixed(0)} MiB/s); the SDK's own upload ${sdk.s.toFixed(2)} s: ratio ${
            (sdk.s / ship.s).toFixed(2)
          }`,
      );
    }
    console.log(
      `ship of a ${SHIP_MIB} MiB snapshot: ratio ${
        median(ratios).toFixed(2)
      } (median of ${ROUNDS}) to the SDK's ` +
        `own upload of the same file (goal >= 0.8)`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function viewBench(gw: Gateway, s3: S3Client): Promise<void> {
  const bucket = "view";
  const dest = { bucket, prefix: "fleet" };
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const now = Date.now();
  const span = DAYS * 86_400_000;
  const entries: { key: string; body: string }[] = [];
  for (let h = 0; h < HOSTS; h++) {
    for (let i = 0; i < PER_HOST; i++) {
      // Spread evenly over the span, each host on its own phase.
      const t = now - span + ((i + h / HOSTS) * span) / PER_HOST;
      const taken = new Date(t).toISOString();
      const m = {
        host_name: `host${String(h).padStart(3, "0")}`,
        recorder: "app",
        id: formatId(idStamp(t), 1),
        capture_started_at: taken,
        reason: i % 10 === 0 ? "p99 latency" : null,
        trigger: { kind: i % 3 === 0 ? "log" : "signal", detail: null },
        bytes: 1 << 20,
        wrapped: false,
        contiguous: true,
      } as unknown as Manifest;
      entries.push({
        key: indexKey(dest, { host: m.host_name, recorder: m.recorder, id: m.id }, taken),
        body: JSON.stringify(indexEntry(m, "0".repeat(64))) + "\n",
      });
    }
  }
  const fill = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < entries.length) {
      const e = entries[next++];
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: e.key, Body: e.body }));
    }
  }));
  console.log(
    `fleet view: ${entries.length} snapshots of ${HOSTS} hosts over ${DAYS} days in the store ` +
      `(index written in ${((performance.now() - fill) / 1000).toFixed(1)} s)`,
  );
  const env = { ...gw.env(), STAPFR_SIM_ROOT: await Deno.makeTempDir({ prefix: "stapfr-bench-view-" }) };
  try {
    const url = `s3://${bucket}/fleet`;
    const since = (extra: Record<string, string> = {}) =>
      timed(stapfr("--json", "snapshots", "--remote", url, "--since", "1h"), { ...env, ...extra });
    await since();
    const runs: number[] = [];
    let matched = 0;
    let requests = 0;
    for (let i = 0; i < 5; i++) {
      const r = await since();
      runs.push(r.s);
      const doc = JSON.parse(r.stdout);
      [matched, requests] = [doc.snapshots.length, doc.requests];
    }
    const start = indexPrefix(dest) + indexStamp(now - 3_600_000);
    const base: number[] = [];
    for (let i = 0; i < 5; i++) {
      base.push(
        (await timed([
          Deno.execPath(),
          "run",
          "-A",
          here("./support/sdk_list.ts"),
          bucket,
          indexPrefix(dest),
          start,
        ], env)).s,
      );
    }
    const proxy = new CountingProxy(gw.port);
    let counted: number;
    try {
      await since({ AWS_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}` });
      counted = proxy.requests;
    } finally {
      await proxy.close();
    }
    console.log(
      `snapshots --remote --since 1h over ${entries.length} snapshots of ${HOSTS} hosts: ${
        median(runs).toFixed(2)
      } s ` +
        `(median of 5; goal < 2 s), ${matched} matched, ${requests} requests (${counted} counted at the gateway); ` +
        `ratio ${(median(runs) / median(base)).toFixed(2)} to the SDK alone making the same requests at ${
          median(base).toFixed(2)
        } s`,
    );
    const proxyAll = new CountingProxy(gw.port);
    try {
      const all = await timed(stapfr("--json", "snapshots", "--remote", url), {
        ...env,
        AWS_ENDPOINT_URL: `http://127.0.0.1:${proxyAll.port}`,
      });
      console.log(
        `snapshots --remote without --since, for contrast: ${all.s.toFixed(2)} s, ${
          JSON.parse(all.stdout).snapshots.length
        } listed, ${proxyAll.requests} requests`,
      );
    } finally {
      await proxyAll.close();
    }
  } finally {
    await Deno.remove(env.STAPFR_SIM_ROOT, { recursive: true });
  }
}

const gw = await Gateway.start({ storeBytes: 3 * 2 ** 30 });
try {
  const s3 = gw.client();
  await shipBench(gw, s3);
  await viewBench(gw, s3);
} finally {
  await gw.stop();
}
