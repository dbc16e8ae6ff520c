// S3 with the AWS SDK for JavaScript v3 against Sluice (run by test/e2e/s3_test.go): client-s3 with its default
// flexible checksums (a stream body goes aws-chunked with a trailing checksum), and lib-storage's Upload, which CDK's
// asset publishing uses, from a Buffer and from a stream.
import { Readable } from "node:stream";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  DeleteObjectCommand, HeadBucketCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const s3 = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true, region: process.env.AWS_REGION, maxAttempts: 1 });
const Bucket = "cdk-assets-000000000000-us-east-1";

await s3.send(new CreateBucketCommand({ Bucket }));
await s3.send(new HeadBucketCommand({ Bucket }));

// A string body, checksummed in a header by default.
await s3.send(new PutObjectCommand({ Bucket, Key: "small.json", Body: '{"hello":"s3"}', ContentType: "application/json" }));
let got = await s3.send(new GetObjectCommand({ Bucket, Key: "small.json", ChecksumMode: "ENABLED" }));
assert.equal(await got.Body.transformToString(), '{"hello":"s3"}');
assert.equal(got.ContentType, "application/json");

// A stream body of known length: the SDK sends it aws-chunked with a trailing checksum.
const streamed = Buffer.alloc(300 * 1024, "z");
await s3.send(new PutObjectCommand({ Bucket, Key: "streamed.bin", Body: Readable.from([streamed.subarray(0, 100000), streamed.subarray(100000)]),
  ContentLength: streamed.length }));
got = await s3.send(new GetObjectCommand({ Bucket, Key: "streamed.bin", ChecksumMode: "ENABLED" }));
assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(streamed), "streamed object differs");

// lib-storage's Upload: parts of 5 MiB from a Buffer (how cdk-assets publishes a zip) and from a stream.
const big = Buffer.alloc(12 * 1024 * 1024);
for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
const up = new Upload({ client: s3, params: { Bucket, Key: "assets/big.zip", Body: big, ContentType: "application/zip" }, partSize: 5 * 1024 * 1024, queueSize: 2 });
const done = await up.done();
assert.match(done.ETag, /-3"$/);
got = await s3.send(new GetObjectCommand({ Bucket, Key: "assets/big.zip" }));
const back = Buffer.from(await got.Body.transformToByteArray());
assert.equal(createHash("sha256").update(back).digest("hex"), createHash("sha256").update(big).digest("hex"));
const fromStream = new Upload({ client: s3, params: { Bucket, Key: "assets/stream.zip", Body: Readable.from([big.subarray(0, 7e6), big.subarray(7e6)]) }, partSize: 5 * 1024 * 1024 });
await fromStream.done();
const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "assets/stream.zip" }));
assert.equal(head.ContentLength, big.length);

// A small Upload is one PutObject.
const single = await new Upload({ client: s3, params: { Bucket, Key: "assets/one.txt", Body: "one part" } }).done();
assert.ok(single.ETag);

const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "assets/" }));
assert.deepEqual(list.Contents.map((o) => o.Key), ["assets/big.zip", "assets/one.txt", "assets/stream.zip"]);

// Errors as the SDK exposes them.
await assert.rejects(s3.send(new GetObjectCommand({ Bucket, Key: "missing" })), (e) => e.name === "NoSuchKey" && e.$metadata.httpStatusCode === 404);
await assert.rejects(s3.send(new HeadObjectCommand({ Bucket, Key: "missing" })), (e) => e.name === "NotFound" && e.$metadata.httpStatusCode === 404);
await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: "no-such-bucket" })), (e) => e.$metadata.httpStatusCode === 404);
await s3.send(new DeleteObjectCommand({ Bucket, Key: "assets/one.txt" }));
console.log("JS SDK S3 scenario passed");
