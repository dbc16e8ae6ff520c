package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMECluster runs README.md's "Run a cluster" as printed: the blocks marked <!-- e2e: cluster -->, in order,
// as one `bash -euo pipefail` script — etcd, three nodes and HAProxy on the ports the README names, a function
// created and invoked through HAProxy, a rolling restart of every node, and the stop of it all. It needs what the
// section tells a person to install (etcd, haproxy), and node, zip and curl.
func TestREADMECluster(t *testing.T) {
	parallel(t)
	cliV1(t)
	testEtcd(t) // skips (or fails under SLUICE_REQUIRE_ETCD) without etcd
	for _, tool := range []string{"haproxy", "node", "zip", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if tool == "haproxy" && os.Getenv("SLUICE_REQUIRE_HAPROXY") != "" {
				t.Fatal("SLUICE_REQUIRE_HAPROXY is set but there is no haproxy on PATH")
			}
			t.Skipf("%s is not installed; the README's cluster section uses it", tool)
		}
	}
	takeClusterSlot(t)
	// The section names its ports, as a person runs it; something else on them (a cluster an interrupted run left
	// behind) would fail it in a way that says nothing.
	for _, addr := range []string{"127.0.0.1:2379", "127.0.0.1:9400", "127.0.0.1:9401", "127.0.0.1:9402", "127.0.0.1:9403"} {
		if l, err := net.Listen("tcp", addr); err != nil {
			t.Fatalf("the README's cluster section needs %s, which is in use: %v", addr, err)
		} else {
			l.Close()
		}
	}
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := markedBlocks(t, string(b), "cluster")
	script := strings.Join(blocks, "\n")
	for _, want := range []string{"etcd --data-dir", "sluice serve --etcd-endpoints", "haproxy -f", "sluice cluster status", "kill -TERM"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the README's cluster blocks (%d) have no %q; is a marker missing?", len(blocks), want)
		}
	}
	env := append(isolationEnv(),
		"PATH="+filepath.Dir(sluiceBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"TMPDIR="+t.TempDir(), // where `mktemp -d` lands: the cluster's data
		"PS4=+ README: ",
	)
	// Whatever the script started stops with it, even when it fails half-way.
	prelude := `trap 'kill $(cat "$CLUSTER"/*.pid 2>/dev/null) 2>/dev/null || true' EXIT` + "\n"
	stdout, stderr, code := run(t, env, t.TempDir(), "bash", "-x", "-euo", "pipefail", "-c", prelude+script)
	if code != 0 {
		logs, _ := filepath.Glob(filepath.Join(envValue(env, "TMPDIR"), "*", "node*.log"))
		var tails []string
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			tails = append(tails, l+":\n"+tail(string(b), 3000))
		}
		t.Fatalf("the README's cluster section exited %d\nstdout:\n%s\nstderr (bash -x):\n%s\nnode logs:\n%s", code, tail(stdout, 6000), tail(stderr, 12000), strings.Join(tails, "\n"))
	}
	if n := strings.Count(stdout, `{"hello":"cluster"}`); n != 6 {
		t.Errorf("%d answers from the function through HAProxy, want 6\nstdout:\n%s", n, tail(stdout, 6000))
	}
	for _, want := range []string{"Mode  cluster: 3 live node(s)", "node1", "node2", "node3"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("sluice cluster status printed no %q\nstdout:\n%s", want, tail(stdout, 6000))
		}
	}
}
