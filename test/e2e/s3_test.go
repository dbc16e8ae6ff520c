package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3Boto3 runs testdata/s3_boto3.py: upload_file in parts, every flexible checksum, versions, presigned URLs,
// conditional reads and batch deletes, through boto3.
func TestS3Boto3(t *testing.T) {
	parallel(t)
	requireBoto3(t)
	srv := startServer(t)
	script, err := filepath.Abs(filepath.Join("testdata", "s3_boto3.py"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, srv.Env(), filepath.Dir(script), "python3", script)
	if code != 0 {
		t.Fatalf("python3 s3_boto3.py: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
}

// TestS3JSSDK runs testdata/jss3/s3.mjs with @aws-sdk/client-s3 and @aws-sdk/lib-storage at the versions its lock
// file pins: default checksums, a stream body sent aws-chunked with a trailing checksum, Upload in parts from a
// Buffer and from a stream (as CDK's asset publishing does), errors as the SDK exposes them.
func TestS3JSSDK(t *testing.T) {
	parallel(t)
	node, npm := requireNode(t)
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "s3.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "jss3", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	npmEnv := append(baseEnv(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	stdout, stderr, code := run(t, npmEnv, dir, npm, "ci", "--no-audit", "--no-fund")
	if code != 0 {
		t.Fatalf("npm ci: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	srv := startServer(t)
	env := append(srv.Env(), "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true")
	stdout, stderr, code = run(t, env, dir, node, "s3.mjs")
	if code != 0 {
		t.Fatalf("node s3.mjs: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
}

// TestS3Durability: an acknowledged object survives kill -9; an upload cut off by the kill leaves nothing visible
// and no partial file after the restart.
func TestS3Durability(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	ctx := t.Context()
	c := srv.S3(false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("durable")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("durable "), 100_000)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("durable"), Key: aws.String("acked"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	// An upload whose body stops half-way, then the server is killed.
	pr, pw := io.Pipe()
	req := rawS3Put(t, srv, "/durable/cut", nil, "UNSIGNED-PAYLOAD", nil)
	req.Body, req.ContentLength = pr, int64(len(body))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)
	pw.CloseWithError(io.ErrClosedPipe)
	<-done
	srv.Restart(t)
	c = srv.S3(false)
	o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("durable"), Key: aws.String("acked")})
	if err != nil {
		t.Fatalf("the acknowledged object after kill -9: %v", err)
	}
	got, _ := io.ReadAll(o.Body)
	o.Body.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("read back %d bytes, want %d", len(got), len(body))
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("durable"), Key: aws.String("cut")})
	checkS3Error(t, "the upload cut off by the kill", err, 404, "NotFound")
	if entries, err := os.ReadDir(filepath.Join(srv.DataDir, "s3", "tmp")); err != nil || len(entries) != 0 {
		t.Errorf("s3/tmp after the restart: %d entries, %v", len(entries), err)
	}
}
