package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEServeHTTP runs the README's "Serve HTTP" section (its block marked <!-- e2e: url -->) as printed, with
// the AWS CLI v1 and curl, against a server started with the quick start's flags on a port of its own: the curl at
// its end must get the page from version 1 through the NONE URL on alias live.
func TestREADMEServeHTTP(t *testing.T) {
	parallel(t)
	cliV1(t)
	for _, tool := range []string{"curl", "zip", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the section uses it", tool)
		}
	}
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := markedBlocks(t, readme, "url")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: url -->, want 1", len(blocks))
	}
	_, env := startREADMEServer(t, readme)
	stdout, stderr, code := run(t, env, t.TempDir(), "bash", "-x", "-euo", "pipefail", "-c", blocks[0])
	if code != 0 {
		t.Fatalf("the README's Serve HTTP section exited %d\nstdout:\n%s\nstderr:\n%s", code, tail(stdout, 6000), tail(stderr, 8000))
	}
	if !strings.Contains(stdout, "<h1>Hello you from version 1</h1>") {
		t.Errorf("curl through the URL did not get the page:\n%s", tail(stdout, 4000))
	}
}

// startREADMEServer starts a fresh server with the README quick start's `sluice serve` flags (and none of the
// suite's roles: a section creates what it needs), and returns it with the environment a person following the
// README has: `sluice` on PATH, SLUICE_DATA_DIR naming the server's data dir.
func startREADMEServer(t *testing.T, readme string) (*server, []string) {
	t.Helper()
	s := &server{DataDir: t.TempDir(), args: quickStartServeArgs(t, readme), log: &syncBuffer{}}
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("server output (%s):\n%s", s.DataDir, s.log.String())
		}
	})
	s.start(t)
	return s, append(isolationEnv(),
		"PATH="+filepath.Dir(sluiceBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SLUICE_DATA_DIR="+s.DataDir,
	)
}
