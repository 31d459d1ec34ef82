/**
 * The baseline of the shipping benchmark: the AWS SDK's own upload of a file (`@aws-sdk/lib-storage`'s
 * `Upload`, the same client settings, part size and parts in flight as `stapfr ship`), as a process of its own.
 *
 * Run: deno run -A bench/support/sdk_upload.ts FILE BUCKET KEY PART_BYTES   (credentials and endpoint from
 * AWS_* as for stapfr)
 * @module
 */
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const [file, bucket, key, partBytes] = Deno.args;
const client = new S3Client({
  endpoint: Deno.env.get("AWS_ENDPOINT_URL"),
  forcePathStyle: true,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
using f = await Deno.open(file, { read: true });
await new Upload({
  client,
  params: { Bucket: bucket, Key: key, Body: f.readable },
  partSize: Number(partBytes),
  queueSize: 4,
}).done();
client.destroy();
