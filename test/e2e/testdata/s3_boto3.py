"""S3 with boto3 against Sluice (run by test/e2e/s3_test.go): upload_file in parts, flexible checksums, versions,
presigned URLs, conditional reads and the errors botocore raises."""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

s3 = boto3.client("s3")
bucket = "boto3-bucket"
s3.create_bucket(Bucket=bucket)


def code_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error from %s" % fn.__name__)


# upload_file splits a 12 MiB file into 5 MiB parts (threaded, with CRC32 per part) and download_file reads it back
# in ranges.
data = os.urandom(12 << 20)
with tempfile.TemporaryDirectory() as d:
    src, dst = os.path.join(d, "src.bin"), os.path.join(d, "dst.bin")
    with open(src, "wb") as f:
        f.write(data)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20, max_concurrency=3)
    s3.upload_file(src, bucket, "big/file.bin", Config=cfg)
    s3.download_file(bucket, "big/file.bin", dst, Config=cfg)
    with open(dst, "rb") as f:
        assert f.read() == data, "download_file differs"
head = s3.head_object(Bucket=bucket, Key="big/file.bin")
assert head["ETag"].endswith('-3"'), head["ETag"]
assert head["ContentLength"] == len(data)

# Each algorithm: sent, stored, returned, checked by botocore on the way back.
body = b"checksummed body"
from botocore.compat import HAS_CRT

# CRC32C and CRC64NVME need awscrt in botocore (the Go SDK's test covers them either way).
for alg in ["CRC32", "SHA1", "SHA256"] + (["CRC32C", "CRC64NVME"] if HAS_CRT else []):
    try:
        out = s3.put_object(Bucket=bucket, Key="sum/" + alg, Body=body, ChecksumAlgorithm=alg)
    except ClientError as e:
        raise AssertionError("put with %s: %s" % (alg, e))
    got = s3.get_object(Bucket=bucket, Key="sum/" + alg, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got.get("Checksum" + alg) == out.get("Checksum" + alg), (alg, got.get("Checksum" + alg), out.get("Checksum" + alg))
assert code_of(s3.put_object, Bucket=bucket, Key="bad", Body=body, ChecksumSHA256="A" * 43 + "=") == ("BadDigest", 400)
assert code_of(s3.put_object, Bucket=bucket, Key="bad", Body=body, ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==") == ("BadDigest", 400)
assert code_of(s3.head_object, Bucket=bucket, Key="bad") == ("404", 404)

# Versions.
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"two")["VersionId"]
marker = s3.delete_object(Bucket=bucket, Key="doc")
assert marker["DeleteMarker"] is True
assert code_of(s3.get_object, Bucket=bucket, Key="doc", VersionId=marker["VersionId"]) == ("MethodNotAllowed", 405)
assert s3.get_object(Bucket=bucket, Key="doc", VersionId=v1)["Body"].read() == b"one"
pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="doc", PaginationConfig={"PageSize": 1})
seen = []
for page in pages:
    seen += [("v", v["VersionId"]) for v in page.get("Versions", [])]
    seen += [("m", m["VersionId"]) for m in page.get("DeleteMarkers", [])]
assert sorted(seen) == sorted([("v", v1), ("v", v2), ("m", marker["VersionId"])]), seen
assert code_of(s3.get_object, Bucket=bucket, Key="doc", VersionId="0" * 32) == ("NoSuchVersion", 404)
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
null = s3.put_object(Bucket=bucket, Key="doc", Body=b"null one")
assert s3.get_object(Bucket=bucket, Key="doc", VersionId="null")["Body"].read() == b"null one"

# Conditional reads and ranges.
etag = s3.put_object(Bucket=bucket, Key="cond", Body=b"0123456789")["ETag"]
assert code_of(s3.get_object, Bucket=bucket, Key="cond", IfNoneMatch=etag) == ("304", 304)
assert code_of(s3.get_object, Bucket=bucket, Key="cond", IfMatch='"other"') == ("PreconditionFailed", 412)
assert s3.get_object(Bucket=bucket, Key="cond", Range="bytes=-3")["Body"].read() == b"789"
over = s3.get_object(Bucket=bucket, Key="cond", ResponseContentType="text/csv", ResponseContentDisposition="attachment")
assert over["ContentType"] == "text/csv" and over["ContentDisposition"] == "attachment"

# Presigned PUT then GET, with plain HTTP. Sluice takes SigV4 only; botocore presigns for us-east-1 with SigV2
# unless told otherwise, and such a URL is refused as S3 refuses it in the regions that take SigV4 only.
from botocore.config import Config
v2_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "cond"}, ExpiresIn=300)
try:
    urllib.request.urlopen(v2_url)
    raise AssertionError("a SigV2 presigned URL was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 400 and b"<Code>InvalidRequest</Code>" in e.read(), e
s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=300)
req = urllib.request.Request(put_url, data=b"via presigned PUT", method="PUT")
assert urllib.request.urlopen(req).status == 200
get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=300)
assert urllib.request.urlopen(get_url).read() == b"via presigned PUT"

# Listing with url encoding, and a quiet batch delete.
for k in ["list/a b.txt", "list/c+d.txt", "list/e.txt"]:
    s3.put_object(Bucket=bucket, Key=k, Body=b"x")
listed = s3.list_objects_v2(Bucket=bucket, Prefix="list/")
assert [o["Key"] for o in listed["Contents"]] == ["list/a b.txt", "list/c+d.txt", "list/e.txt"], listed["Contents"]
res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "list/a b.txt"}, {"Key": "list/c+d.txt"}], "Quiet": True})
assert not res.get("Errors") and not res.get("Deleted"), res
assert s3.list_objects_v2(Bucket=bucket, Prefix="list/")["KeyCount"] == 1

# Multipart by hand, then the uploads listing empties.
up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")
assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["UploadId"] == up["UploadId"]
p1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"a" * (5 << 20), ChecksumAlgorithm="SHA256")
p2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=2, Body=b"b", ChecksumAlgorithm="SHA256")
done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["ETag"], "ChecksumSHA256": p1["ChecksumSHA256"]},
    {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumSHA256": p2["ChecksumSHA256"]}]})
parts = [hashlib.sha256(b"a" * (5 << 20)).digest(), hashlib.sha256(b"b").digest()]
import base64
want = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode() + "-2"
assert done.get("ChecksumSHA256") == want, (done.get("ChecksumSHA256"), want)
assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
assert code_of(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=3, Body=b"x") == ("NoSuchUpload", 404)
print("boto3 S3 scenario passed")
