package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// s3Env is the client environment of a server with a shared config file that makes the AWS CLI v1 presign with
// SigV4 (its default for us-east-1 is the legacy SigV2, which Sluice does not serve).
func s3Env(t *testing.T, s *server) []string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config")
	writeFile(t, cfg, []byte("[default]\ns3 =\n    signature_version = s3v4\n"))
	return append(s.Env(), "AWS_CONFIG_FILE="+cfg)
}

// s3cli runs the AWS CLI (v1, or v2 with --endpoint-url) in dir with s3Env and fails the test on a non-zero exit.
func s3cli(t *testing.T, s *server, v2 bool, dir string, args ...string) string {
	t.Helper()
	out, stderr, code := s3cliRun(t, s, v2, dir, args...)
	if code != 0 {
		t.Fatalf("aws %s (%s): exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), cliName(v2), code, out, stderr)
	}
	return out
}

func s3cliRun(t *testing.T, s *server, v2 bool, dir string, args ...string) (string, string, int) {
	t.Helper()
	bin := ""
	var full []string
	if v2 {
		requireCLIv2(t)
		bin = cliV2Path
		full = append(full, "--endpoint-url", s.URL)
	} else {
		bin = cliV1(t)
	}
	full = append(full, args...)
	if !containsArg(args, "--output") && args[0] == "s3api" {
		full = append(full, "--output", "json")
	}
	return run(t, s3Env(t, s), dir, bin, full...)
}

func randomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b)
	return b
}

func sameFile(t *testing.T, what, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes read back differ from the %d written", what, len(got), len(want))
	}
}

// TestS3CLI drives the S3 API with both AWS CLIs: the high-level `aws s3` commands (mb, cp — multipart past 8 MiB
// —, ls, sync, rm, presign, rb) and `aws s3api` for the bucket configurations, versions and errors.
func TestS3CLI(t *testing.T) {
	parallel(t)
	for _, v2 := range []bool{false, true} {
		t.Run(cliName(v2), func(t *testing.T) {
			t.Parallel()
			s := startServer(t)
			dir := t.TempDir()
			bucket := "cli-" + cliName(v2)
			if out := s3cli(t, s, v2, dir, "s3", "mb", "s3://"+bucket); !strings.Contains(out, "make_bucket: "+bucket) {
				t.Errorf("mb: %q", out)
			}
			small := randomFile(t, filepath.Join(dir, "small.bin"), 100_000)
			big := randomFile(t, filepath.Join(dir, "big.bin"), 9<<20) // past the CLIs' 8 MiB multipart threshold
			s3cli(t, s, v2, dir, "s3", "cp", "small.bin", "s3://"+bucket+"/dir/small.bin")
			s3cli(t, s, v2, dir, "s3", "cp", "big.bin", "s3://"+bucket+"/big.bin")
			s3cli(t, s, v2, dir, "s3", "cp", "s3://"+bucket+"/dir/small.bin", "small.back")
			s3cli(t, s, v2, dir, "s3", "cp", "s3://"+bucket+"/big.bin", "big.back")
			sameFile(t, "small object", filepath.Join(dir, "small.back"), small)
			sameFile(t, "multipart object", filepath.Join(dir, "big.back"), big)

			var head struct {
				ETag          string
				ContentLength int64
			}
			mustJSON(t, "head-object", s3cli(t, s, v2, dir, "s3api", "head-object", "--bucket", bucket, "--key", "big.bin"), &head)
			if !strings.HasSuffix(head.ETag, `-2"`) || head.ContentLength != 9<<20 {
				t.Errorf("multipart object: ETag %s, length %d; want an ETag ending -2\" and %d bytes", head.ETag, head.ContentLength, 9<<20)
			}

			// A copy between buckets: past 8 MiB the CLI copies in parts (UploadPartCopy), with the tags.
			s3cli(t, s, v2, dir, "s3", "mb", "s3://"+bucket+"-copy")
			s3cli(t, s, v2, dir, "s3", "cp", "s3://"+bucket+"/big.bin", "s3://"+bucket+"-copy/big.bin")
			s3cli(t, s, v2, dir, "s3", "cp", "s3://"+bucket+"-copy/big.bin", "big.copy")
			sameFile(t, "an object copied in parts", filepath.Join(dir, "big.copy"), big)
			s3cli(t, s, v2, dir, "s3", "rm", "s3://"+bucket+"-copy/big.bin")
			s3cli(t, s, v2, dir, "s3", "rb", "s3://"+bucket+"-copy")

			for _, f := range []string{"tree/a/x.txt", "tree/a/y.txt", "tree/b/z.txt"} {
				os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
				writeFile(t, filepath.Join(dir, f), []byte(f))
			}
			s3cli(t, s, v2, dir, "s3", "sync", "tree", "s3://"+bucket+"/tree")
			ls := s3cli(t, s, v2, dir, "s3", "ls", "s3://"+bucket+"/tree/")
			if !strings.Contains(ls, "PRE a/") || !strings.Contains(ls, "PRE b/") {
				t.Errorf("ls tree/: %q", ls)
			}
			if again := s3cli(t, s, v2, dir, "s3", "sync", "tree", "s3://"+bucket+"/tree"); strings.Contains(again, "upload:") {
				t.Errorf("a second sync uploaded again: %q", again)
			}
			rec := s3cli(t, s, v2, dir, "s3", "ls", "--recursive", "s3://"+bucket)
			for _, k := range []string{"dir/small.bin", "big.bin", "tree/a/x.txt", "tree/b/z.txt"} {
				if !strings.Contains(rec, k) {
					t.Errorf("ls --recursive lacks %s: %q", k, rec)
				}
			}

			// A presigned GET works for anyone who has the URL, with no credentials.
			url := strings.TrimSpace(s3cli(t, s, v2, dir, "s3", "presign", "s3://"+bucket+"/dir/small.bin", "--expires-in", "600"))
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, small) {
				t.Errorf("presigned GET: %d, %d bytes", resp.StatusCode, len(got))
			}

			// Errors, as S3 answers them.
			_, stderr, code := s3cliRun(t, s, v2, dir, "s3api", "get-object", "--bucket", bucket, "--key", "missing", "out")
			checkCLIError(t, "get-object of a missing key", stderr, code, wantErr{Code: "NoSuchKey", Message: "The specified key does not exist."}, false)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "list-objects-v2", "--bucket", "no-such-bucket")
			checkCLIError(t, "list of a missing bucket", stderr, code, wantErr{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}, false)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "create-bucket", "--bucket", "Bad_Name")
			checkCLIError(t, "create-bucket Bad_Name", stderr, code, wantErr{Code: "InvalidBucketName", Message: "The specified bucket is not valid."}, false)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "delete-bucket", "--bucket", bucket)
			checkCLIError(t, "delete-bucket of a bucket with objects", stderr, code, wantErr{Code: "BucketNotEmpty", Message: "The bucket you tried to delete is not empty"}, false)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "create-bucket", "--bucket", "west", "--create-bucket-configuration", "LocationConstraint=eu-west-1")
			checkCLIError(t, "create-bucket in another region", stderr, code, wantErr{Code: "IllegalLocationConstraintException",
				Message: "The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to."}, false)

			var loc struct{ LocationConstraint *string }
			mustJSON(t, "get-bucket-location", s3cli(t, s, v2, dir, "s3api", "get-bucket-location", "--bucket", bucket), &loc)
			if loc.LocationConstraint != nil && *loc.LocationConstraint != "" {
				t.Errorf("us-east-1 bucket location: %q, want none", *loc.LocationConstraint)
			}
			var enc struct {
				ServerSideEncryptionConfiguration struct {
					Rules []struct {
						ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm string }
					}
				}
			}
			mustJSON(t, "get-bucket-encryption", s3cli(t, s, v2, dir, "s3api", "get-bucket-encryption", "--bucket", bucket), &enc)
			if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
				t.Errorf("default encryption: %+v, want SSE-S3 (AES256)", enc)
			}

			// Versions and delete markers.
			s3cli(t, s, v2, dir, "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
			var ver struct{ Status string }
			mustJSON(t, "get-bucket-versioning", s3cli(t, s, v2, dir, "s3api", "get-bucket-versioning", "--bucket", bucket), &ver)
			if ver.Status != "Enabled" {
				t.Errorf("versioning: %q", ver.Status)
			}
			writeFile(t, filepath.Join(dir, "v1"), []byte("first"))
			writeFile(t, filepath.Join(dir, "v2"), []byte("second"))
			var put1, put2 struct{ VersionId, ETag string }
			mustJSON(t, "put v1", s3cli(t, s, v2, dir, "s3api", "put-object", "--bucket", bucket, "--key", "doc.txt", "--body", "v1"), &put1)
			mustJSON(t, "put v2", s3cli(t, s, v2, dir, "s3api", "put-object", "--bucket", bucket, "--key", "doc.txt", "--body", "v2"), &put2)
			if put1.VersionId == "" || put1.VersionId == put2.VersionId {
				t.Fatalf("version IDs %q, %q", put1.VersionId, put2.VersionId)
			}
			var del struct {
				DeleteMarker bool
				VersionId    string
			}
			mustJSON(t, "delete", s3cli(t, s, v2, dir, "s3api", "delete-object", "--bucket", bucket, "--key", "doc.txt"), &del)
			if !del.DeleteMarker || del.VersionId == "" {
				t.Errorf("delete in a versioned bucket: %+v, want a delete marker", del)
			}
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", "out")
			checkCLIError(t, "get-object behind a delete marker", stderr, code, wantErr{Code: "NoSuchKey", Message: "The specified key does not exist."}, false)
			s3cli(t, s, v2, dir, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", "--version-id", put1.VersionId, "old.txt")
			sameFile(t, "the first version", filepath.Join(dir, "old.txt"), []byte("first"))
			var versions struct {
				Versions []struct {
					VersionId string
					IsLatest  bool
				}
				DeleteMarkers []struct {
					VersionId string
					IsLatest  bool
				}
			}
			mustJSON(t, "list-object-versions", s3cli(t, s, v2, dir, "s3api", "list-object-versions", "--bucket", bucket, "--prefix", "doc.txt"), &versions)
			if len(versions.Versions) != 2 || len(versions.DeleteMarkers) != 1 || !versions.DeleteMarkers[0].IsLatest ||
				versions.Versions[0].VersionId != put2.VersionId {
				t.Errorf("versions: %+v", versions)
			}
			s3cli(t, s, v2, dir, "s3api", "delete-object", "--bucket", bucket, "--key", "doc.txt", "--version-id", del.VersionId)
			s3cli(t, s, v2, dir, "s3api", "get-object", "--bucket", bucket, "--key", "doc.txt", "now.txt")
			sameFile(t, "the latest version once the marker is gone", filepath.Join(dir, "now.txt"), []byte("second"))

			// Copy, with the metadata replaced.
			s3cli(t, s, v2, dir, "s3api", "copy-object", "--bucket", bucket, "--key", "copy.bin", "--copy-source", bucket+"/dir/small.bin",
				"--metadata-directive", "REPLACE", "--content-type", "text/plain", "--metadata", "team=blue")
			var copied struct {
				ContentType string
				Metadata    map[string]string
			}
			mustJSON(t, "head copy", s3cli(t, s, v2, dir, "s3api", "head-object", "--bucket", bucket, "--key", "copy.bin"), &copied)
			if copied.ContentType != "text/plain" || copied.Metadata["team"] != "blue" {
				t.Errorf("copy: %+v", copied)
			}

			// Configurations kept as written.
			policy := `{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/public/*"}]}`
			s3cli(t, s, v2, dir, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", policy)
			var gotPolicy struct{ Policy string }
			mustJSON(t, "get-bucket-policy", s3cli(t, s, v2, dir, "s3api", "get-bucket-policy", "--bucket", bucket), &gotPolicy)
			if gotPolicy.Policy != policy {
				t.Errorf("policy: %s", gotPolicy.Policy)
			}
			s3cli(t, s, v2, dir, "s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=team,Value=blue}]")
			var tags struct{ TagSet []struct{ Key, Value string } }
			mustJSON(t, "get-bucket-tagging", s3cli(t, s, v2, dir, "s3api", "get-bucket-tagging", "--bucket", bucket), &tags)
			if len(tags.TagSet) != 1 || tags.TagSet[0].Key != "team" {
				t.Errorf("tags: %+v", tags)
			}
			s3cli(t, s, v2, dir, "s3api", "put-public-access-block", "--bucket", bucket, "--public-access-block-configuration",
				"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false")
			var pab struct {
				PublicAccessBlockConfiguration struct{ BlockPublicAcls, BlockPublicPolicy bool }
			}
			mustJSON(t, "get-public-access-block", s3cli(t, s, v2, dir, "s3api", "get-public-access-block", "--bucket", bucket), &pab)
			if !pab.PublicAccessBlockConfiguration.BlockPublicAcls || pab.PublicAccessBlockConfiguration.BlockPublicPolicy {
				t.Errorf("public access block: %+v", pab)
			}
			s3cli(t, s, v2, dir, "s3api", "delete-public-access-block", "--bucket", bucket)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "get-public-access-block", "--bucket", bucket)
			checkCLIError(t, "get-public-access-block after delete", stderr, code, wantErr{Code: "NoSuchPublicAccessBlockConfiguration"}, false)
			lifecycle := `{"Rules":[{"ID":"expire-tmp","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":1}}]}`
			s3cli(t, s, v2, dir, "s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", lifecycle)
			var lc struct {
				Rules []struct {
					ID         string
					Expiration struct{ Days int }
				}
			}
			mustJSON(t, "get-bucket-lifecycle-configuration", s3cli(t, s, v2, dir, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket), &lc)
			if len(lc.Rules) != 1 || lc.Rules[0].ID != "expire-tmp" || lc.Rules[0].Expiration.Days != 1 {
				t.Errorf("lifecycle: %+v", lc)
			}
			s3cli(t, s, v2, dir, "s3api", "delete-bucket-lifecycle", "--bucket", bucket)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
			checkCLIError(t, "lifecycle after delete", stderr, code, wantErr{Code: "NoSuchLifecycleConfiguration"}, false)

			// Multipart by hand: part checks, then a clean completion.
			var created struct{ UploadId string }
			mustJSON(t, "create-multipart-upload", s3cli(t, s, v2, dir, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "parts.bin"), &created)
			writeFile(t, filepath.Join(dir, "p1"), bytes.Repeat([]byte("a"), 5<<20))
			writeFile(t, filepath.Join(dir, "p2"), []byte("tail"))
			var p1, p2 struct{ ETag string }
			mustJSON(t, "upload-part 1", s3cli(t, s, v2, dir, "s3api", "upload-part", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId, "--part-number", "1", "--body", "p1"), &p1)
			mustJSON(t, "upload-part 2", s3cli(t, s, v2, dir, "s3api", "upload-part", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId, "--part-number", "2", "--body", "p2"), &p2)
			parts := func(ps ...string) string {
				b, _ := json.Marshal(map[string]any{"Parts": json.RawMessage("[" + strings.Join(ps, ",") + "]")})
				return string(b)
			}
			part := func(n int, etag string) string {
				b, _ := json.Marshal(map[string]any{"PartNumber": n, "ETag": etag})
				return string(b)
			}
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId,
				"--multipart-upload", parts(part(2, p2.ETag), part(1, p1.ETag)))
			checkCLIError(t, "parts out of order", stderr, code, wantErr{Code: "InvalidPartOrder"}, false)
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId,
				"--multipart-upload", parts(part(1, p2.ETag), part(2, p2.ETag)))
			checkCLIError(t, "a part with another's ETag", stderr, code, wantErr{Code: "InvalidPart"}, false)
			var listed struct{ Parts []struct{ PartNumber int } }
			mustJSON(t, "list-parts", s3cli(t, s, v2, dir, "s3api", "list-parts", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId), &listed)
			if len(listed.Parts) != 2 {
				t.Errorf("list-parts: %+v", listed)
			}
			var done struct{ ETag string }
			mustJSON(t, "complete", s3cli(t, s, v2, dir, "s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId,
				"--multipart-upload", parts(part(1, p1.ETag), part(2, p2.ETag))), &done)
			if !strings.HasSuffix(done.ETag, `-2"`) {
				t.Errorf("completed ETag %s", done.ETag)
			}
			_, stderr, code = s3cliRun(t, s, v2, dir, "s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "parts.bin", "--upload-id", created.UploadId)
			checkCLIError(t, "abort a completed upload", stderr, code, wantErr{Code: "NoSuchUpload"}, false)

			// Empty it all (versions included) and remove the bucket.
			s3cli(t, s, v2, dir, "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Suspended")
			s3cli(t, s, v2, dir, "s3", "rm", "--recursive", "s3://"+bucket)
			var left struct {
				Versions      []struct{ Key, VersionId string }
				DeleteMarkers []struct{ Key, VersionId string }
			}
			mustJSON(t, "list-object-versions", s3cli(t, s, v2, dir, "s3api", "list-object-versions", "--bucket", bucket), &left)
			var objs []map[string]string
			for _, v := range append(left.Versions, left.DeleteMarkers...) {
				objs = append(objs, map[string]string{"Key": v.Key, "VersionId": v.VersionId})
			}
			del2, _ := json.Marshal(map[string]any{"Objects": objs, "Quiet": true})
			s3cli(t, s, v2, dir, "s3api", "delete-objects", "--bucket", bucket, "--delete", string(del2))
			s3cli(t, s, v2, dir, "s3", "rb", "s3://"+bucket)
			if ls := s3cli(t, s, v2, dir, "s3", "ls"); strings.Contains(ls, bucket) {
				t.Errorf("the bucket is still listed: %q", ls)
			}
		})
	}
}
