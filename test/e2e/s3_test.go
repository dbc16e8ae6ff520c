package e2e

import (
	"os"
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

// TestS3JSSDK runs testdata/jss3/s3.mjs with @aws-sdk/client-s3 and @aws-sdk/lib-storage at the versions its lock
// file pins: default checksums, a stream body sent aws-chunked with a trailing checksum, Upload in parts from a
// Buffer and from a stream (as CDK's asset publishing does), errors as the SDK exposes them.
func TestS3JSSDK(t *testing.T) {
	t.Parallel()
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
