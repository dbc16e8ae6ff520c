package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	boto3Once sync.Once
	boto3Why  string
)

// requireBoto3 skips the test unless python3 can import boto3.
func requireBoto3(t *testing.T) {
	t.Helper()
	boto3Once.Do(func() {
		if _, err := exec.LookPath("python3"); err != nil {
			boto3Why = "python3 is not on PATH"
			return
		}
		if out, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
			boto3Why = "python3 cannot import boto3: " + strings.TrimSpace(string(out))
		}
	})
	if boto3Why != "" {
		t.Skip(boto3Why)
	}
}

// TestBoto3 runs the scenario scripts in testdata/ with python3, each against its own server. A script asserts
// with plain `assert` and exits non-zero on the first failed check.
func TestBoto3(t *testing.T) {
	parallel(t)
	requireBoto3(t)
	for _, tc := range []struct {
		script string
		args   []string // server flags
	}{
		// The seed's flow checks a conflict right after a mutating call: hold settles for 2 s.
		{"seed_flow.py", []string{"--processing-delay", "2s"}},
		{"routing_errors.py", nil},
		{"waiters.py", []string{"--processing-delay", "1s"}},
		{"paginators.py", nil},
		{"permissions.py", nil},
		{"ssm.py", nil},
	} {
		t.Run(strings.TrimSuffix(tc.script, ".py"), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.args...)
			script, err := filepath.Abs(filepath.Join("testdata", tc.script))
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := run(t, srv.Env(), filepath.Dir(script), "python3", script)
			if code != 0 {
				t.Fatalf("python3 %s: exit %d\nstdout:\n%s\nstderr:\n%s", tc.script, code, stdout, stderr)
			}
			t.Log(strings.TrimSpace(stdout))
		})
	}
}
