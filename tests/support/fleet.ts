/**
 * What the fleet tests share: a finished file recorder whose run is made of generated files (so a snapshot of
 * any size costs no simulated recording), the store's objects as the test's own S3 client sees them, and a
 * running stapfr whose stderr lines are collected as they come.
 * @module
 */
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { generate, registerFinished } from "../../bench/support/file_run.ts";
import { until } from "./poll.ts";
import type { SimWorld } from "./sim_world.ts";

/** Registers recorder `name` in the world as a file recorder that ended with `mib` MiB in `files` files. */
export async function finishedFileRecorder(
  world: SimWorld,
  name: string,
  mib: number,
  files: number,
): Promise<void> {
  const runDir = `${world.work}/out/${name}-run`;
  await Deno.mkdir(runDir, { recursive: true });
  const bytes = await generate(runDir, `${name}.out`, mib, files);
  await Deno.mkdir(world.stateDir, { recursive: true });
  await registerFinished(world.stateDir, name, world.work, runDir, bytes, files);
}

/** Every key under `prefix`, sorted. */
export async function keys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** An object's bytes. */
export async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await r.Body!.transformToByteArray();
}

/** The parts the store holds of the multipart uploads under way below `prefix`. */
export async function partsUnderWay(client: S3Client, bucket: string, prefix: string): Promise<number> {
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  let parts = 0;
  for (const u of uploads.Uploads ?? []) {
    const p = await client.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
    parts += p.Parts?.length ?? 0;
  }
  return parts;
}

/** A running stapfr whose stderr lines are collected as they come. */
export class Logged {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly #pump: Promise<void>;
  readonly #stdout: Promise<string>;

  constructor(world: SimWorld, args: string[], env: Record<string, string> = {}) {
    const child = world.command(["--sim", ...args], { env, detached: true }).spawn();
    this.child = child;
    this.#stdout = new Response(child.stdout).text();
    this.#pump = (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of child.stderr) {
        const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = parts.pop()!;
        this.lines.push(...parts);
      }
      if (rest) this.lines.push(rest);
    })();
  }

  /** Waits for the n-th line matching `re`. */
  async saw(re: RegExp, n = 1, timeoutMs?: number): Promise<string> {
    try {
      return await until(`log line ${re} #${n}`, () => {
        const hits = this.lines.filter((l) => re.test(l));
        return hits.length >= n ? hits[n - 1] : undefined;
      }, { timeoutMs });
    } catch (err) {
      throw new Error(`${(err as Error).message} in:\n${this.lines.join("\n")}`);
    }
  }

  /** Sends a signal (if it still runs) and waits for its end. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      this.child.kill(signal);
    } catch {
      // Already gone.
    }
    return await this.done();
  }

  /** Waits for its end. */
  async done(): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await this.child.status;
    await this.#pump;
    return { code: status.code, stdout: await this.#stdout, stderr: this.lines.join("\n") };
  }
}
