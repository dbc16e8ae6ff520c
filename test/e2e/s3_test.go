package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestS3Boto3 runs testdata/s3_boto3.py: upload_file in parts, every flexible checksum, versions, presigned URLs,
// conditional reads and batch deletes, through boto3.
func TestS3Boto3(t *testing.T) {
	t.Parallel()
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
