package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestREADMECDK runs README.md's CDK part of "Deploy with the tools you already use" as printed (the block marked
// <!-- e2e: cdk -->) against a fresh server started with the quick start's flags, in a copy of examples/cdk and
// examples/orders, with AWS CLI v1 from PATH: npm ci, `npx cdk bootstrap`, then `npx cdk deploy` of v1, v2 through
// the canary, and v3 rolled back by the errors alarm under load.sh's traffic — cdk exits 1, the stack ends
// UPDATE_ROLLBACK_COMPLETE with live on version 2.
func TestREADMECDK(t *testing.T) {
	t.Parallel()
	cliV1(t)
	requireNode(t)
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := markedBlocks(t, readme, "cdk")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: cdk -->, want 1", len(blocks))
	}
	_, env := startREADMEServer(t, readme)
	clone := t.TempDir()
	for _, example := range []string{"cdk", "orders"} {
		if err := os.CopyFS(filepath.Join(clone, "examples", example), os.DirFS(filepath.Join(moduleRoot, "examples", example))); err != nil {
			t.Fatal(err)
		}
	}
	// A node_modules left in the clone's example would be copied with it; npm ci replaces it anyway.
	env = append(env, "PS4=+ README: ", "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	began := time.Now()
	stdout, stderr, code := runFor(t, 15*time.Minute, env, clone, "bash", "-x", "-euo", "pipefail", "-c",
		"set -m\n"+`trap 'kill $(jobs -p) 2>/dev/null || true' EXIT`+"\n"+blocks[0])
	t.Logf("the section ran in %s", time.Since(began).Round(time.Second))
	if code != 0 {
		t.Fatalf("the README's CDK section exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}
	out := stdout + stderr
	for _, want := range []string{"Environment aws://000000000000/us-east-1 bootstrapped.", "ALARM_ACTIVE", "exit status 1\n",
		"UPDATE_ROLLBACK_COMPLETE\n2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the section's output has no %q\nstdout:\n%s\nstderr (bash -x):\n%s", want, tail(stdout, 6000), tail(stderr, 12000))
		}
	}
}
