/**
 * The baseline of the fleet view's benchmark: the AWS SDK alone making the requests `snapshots --remote
 * --since` makes (one listing of the index range, then every entry in it read, 16 at a time), as a process of
 * its own. Prints how many entries it read.
 *
 * Run: deno run -A bench/support/sdk_list.ts BUCKET PREFIX START_AFTER
 * @module
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

const [bucket, prefix, startAfter] = Deno.args;
const client = new S3Client({
  endpoint: Deno.env.get("AWS_ENDPOINT_URL"),
  forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
const keys: string[] = [];
let token: string | undefined;
do {
  const page = await client.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix,
      StartAfter: token ? undefined : startAfter,
      ContinuationToken: token,
    }),
  );
  keys.push(...(page.Contents ?? []).map((o) => o.Key!));
  token = page.IsTruncated ? page.NextContinuationToken : undefined;
} while (token);
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < keys.length) {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[next++] }));
    JSON.parse(await r.Body!.transformToString());
  }
}));
console.log(keys.length);
client.destroy();
