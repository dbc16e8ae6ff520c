package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// jssdkFiles are the files of testdata/jssdk the test copies: the lock file pins every package npm ci installs.
var jssdkFiles = []string{"package.json", "package-lock.json", "flow.mjs"}

// requireNode skips the test unless node (20 or later, which the AWS SDK for JavaScript v3 needs) and npm are on PATH.
func requireNode(t *testing.T) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the AWS SDK for JavaScript v3 test needs Node.js 20 or later and npm")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not on PATH: the AWS SDK for JavaScript v3 test installs the SDK with npm ci")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Skipf("node --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < 20 {
		t.Skipf("node %s is too old: the AWS SDK for JavaScript v3 needs Node.js 20 or later", v)
	}
	return node, npm
}

// TestJSSDK runs the seed flow (testdata/jssdk/flow.mjs) with the AWS SDK for JavaScript v3 — the Lambda, IAM,
// CodeDeploy and CloudWatch clients at the versions package.json pins — against a server that holds every settle for
// 2 s, so the SDK's waiters must really wait and an update during an update meets the 409. The script creates the
// two roles, a Node function, versions, an alias and a weighted alias (checking ExecutedVersion), an alarm, a
// deployment group with the alarm and auto-rollback, and a deployment whose AppSpec is a JSON.stringify'd object
// ("version":0), and asserts errors as the JS SDK exposes them (err.name, err.message, $metadata.httpStatusCode).
func TestJSSDK(t *testing.T) {
	parallel(t)
	node, npm := requireNode(t)

	dir := t.TempDir()
	for _, name := range jssdkFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "jssdk", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	npmEnv := append(baseEnv(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	start := time.Now()
	stdout, stderr, code := run(t, npmEnv, dir, npm, "ci", "--no-audit", "--no-fund")
	if code != 0 {
		t.Fatalf("npm ci: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("npm ci: %s (%s)", strings.TrimSpace(stdout), time.Since(start).Round(time.Millisecond))

	srv := startServer(t, "--min-settle-time", "2s")
	start = time.Now()
	// The SDK warns on stderr that its releases from 2027 on will need Node.js 22; the pinned one runs on 20.
	env := append(srv.Env(), "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true")
	stdout, stderr, code = run(t, env, dir, node, "flow.mjs")
	if code != 0 {
		t.Fatalf("node flow.mjs: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("node flow.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(stdout))
	if strings.TrimSpace(stderr) != "" {
		t.Logf("stderr:\n%s", stderr)
	}
}
