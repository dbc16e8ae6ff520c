package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// markedBlocks returns the shell code blocks of a Markdown document that follow the line `<!-- e2e: tag -->`, in
// order: what a person copies, exactly.
func markedBlocks(t *testing.T, doc, tag string) []string {
	t.Helper()
	marker := "<!-- e2e: " + tag + " -->"
	lines := strings.Split(doc, "\n")
	var blocks []string
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != marker {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			t.Fatalf("line %d: %s is not followed by a ```sh fence", i+1, marker)
		}
		var body []string
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("line %d: the block after %s is never closed", i+1, marker)
		}
		blocks = append(blocks, strings.Join(body, "\n"))
		i = j
	}
	return blocks
}

// quickStartServeArgs is what the README's quick start passes to `sluice serve`, without --listen and --data-dir
// (the test picks its own).
func quickStartServeArgs(t *testing.T, readme string) []string {
	t.Helper()
	blocks := markedBlocks(t, readme, "serve")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: serve -->, want the quick start's", len(blocks))
	}
	for _, line := range strings.Split(blocks[0], "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		for i, f := range fields {
			if f != "serve" || i == 0 || !strings.HasSuffix(fields[i-1], "sluice") {
				continue
			}
			var args []string
			rest := fields[i+1:]
			for k := 0; k < len(rest); k++ {
				name, _, hasValue := strings.Cut(rest[k], "=")
				if name == "--listen" || name == "--data-dir" {
					if !hasValue {
						k++
					}
					continue
				}
				args = append(args, rest[k])
			}
			return args
		}
	}
	t.Fatalf("the quick start's block has no `sluice serve` line:\n%s", blocks[0])
	return nil
}

// TestREADMEWalkthrough runs README.md's "Walkthrough with the AWS CLI" as printed: every shell block marked
// <!-- e2e: walkthrough -->, in order, as one `bash -euo pipefail` script, against a fresh server started with the
// quick start's `sluice serve` flags. The client side is set up as the README tells a person: `sluice` on PATH (the
// binary under test), SLUICE_DATA_DIR naming the server's data dir, nothing else; the AWS CLI is v1 from PATH.
// Then it runs examples/seed-hook/README.md's marked blocks, which continue the walkthrough, the keyless
// section's local try-out (marked <!-- e2e: keyless -->) and the SAM section (marked <!-- e2e: sam -->).
func TestREADMEWalkthrough(t *testing.T) {
	parallelLong(t)
	cliV1(t)
	requireBoto3ForFunctions(t) // examples/seed-hook's hook is a Python function calling CodeDeploy
	for _, tool := range []string{"node", "zip", "base64", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the walkthrough uses it", tool)
		}
	}
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	serveArgs := quickStartServeArgs(t, readme)
	blocks := markedBlocks(t, readme, "walkthrough")
	script := strings.Join(blocks, "\n")
	for _, want := range []string{`eval "$(sluice env)"`, "aws lambda create-function", "aws deploy create-deployment"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the README's marked walkthrough blocks (%d) have no %q; is a marker missing?", len(blocks), want)
		}
	}
	for _, line := range strings.Split(script, "\n") {
		if cmd, _, _ := strings.Cut(line, " #"); strings.Contains(cmd, "sluice serve") || strings.Contains(cmd, "--follow") {
			t.Fatalf("a marked walkthrough block starts a server or follows forever; the test cannot run it: %s", line)
		}
	}

	// The server, as startServer starts it but without the suite's roles: the walkthrough must create what it needs.
	s := &server{DataDir: t.TempDir(), args: serveArgs, log: &syncBuffer{}}
	t.Cleanup(func() {
		s.Stop(t)
		if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
			t.Errorf("the server reported a data race")
		}
		if t.Failed() {
			t.Logf("server output (%s):\n%s", s.DataDir, s.log.String())
		}
	})
	s.start(t)

	env := append(isolationEnv(),
		"PATH="+filepath.Dir(sluiceBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SLUICE_DATA_DIR="+s.DataDir,
		"TMPDIR="+t.TempDir(), // where the walkthrough's `mktemp -d` lands
		"PS4=+ README: ",
	)
	// The walkthrough is the whole tutorial — two canaries, a hook, a rollback — run by a CLI that starts a Python
	// interpreter per command: minutes on a loaded machine.
	stdout, stderr, code := runFor(t, 8*time.Minute, env, t.TempDir(), "bash", "-x", "-euo", "pipefail", "-c", script)
	if code != 0 {
		t.Fatalf("the README's walkthrough exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}

	// What the walkthrough's comments promise.
	for _, want := range []string{`{"hello":"sluice","from":"hello"}`, "START RequestId:", "REPORT RequestId:", "Status      Succeeded"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the walkthrough's output has no %q\nstdout:\n%s", want, tail(stdout, 6000))
		}
	}
	checkLive := func(after string) {
		t.Helper()
		a, err := s.Lambda().GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders-demo"), Name: aws.String("live")})
		if err != nil {
			t.Fatalf("GetAlias orders-demo:live after %s: %v", after, err)
		}
		if v := aws.ToString(a.FunctionVersion); v != "2" || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0) {
			t.Errorf("after %s live is on %s with %+v, want version 2 alone", after, v, a.RoutingConfig)
		}
	}
	checkLive("the walkthrough's deployment")

	// examples/seed-hook's README continues the walkthrough from its own directory (a copy: it writes files there):
	// the seed's hook fails version 3, which never answers, and the deployment stops before live moves.
	hookDir := copyTree(t, filepath.Join(moduleRoot, "examples", "seed-hook"))
	b, err = os.ReadFile(filepath.Join(hookDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	hookBlocks := markedBlocks(t, string(b), "seed-hook")
	if len(hookBlocks) == 0 {
		t.Fatalf("examples/seed-hook/README.md has no block marked <!-- e2e: seed-hook -->")
	}
	stdout, stderr, code = run(t, env, hookDir, "bash", "-x", "-euo", "pipefail", "-c", `eval "$(sluice env)"`+"\n"+strings.Join(hookBlocks, "\n"))
	if code != 0 {
		t.Fatalf("examples/seed-hook's commands exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}
	for _, want := range []string{"did not succeed", "HOOK_EXECUTION_FAILURE", "smoke test of orders-demo:3 FAILED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("examples/seed-hook's output has no %q\nstdout:\n%s", want, tail(stdout, 6000))
		}
	}
	checkLive("the seed hook's failed deployment")

	// The keyless section's local try-out, against the same server: the development issuer's token becomes the
	// role's credentials through Sluice's STS.
	keyless := markedBlocks(t, readme, "keyless")
	if len(keyless) == 0 {
		t.Fatalf("README.md has no block marked <!-- e2e: keyless -->")
	}
	// The trap stops the issuer the block starts in the background even when the block fails half-way.
	// A fresh HOME: the AWS CLI caches assumed-role credentials under ~/.aws/cli/cache by role and would reuse
	// those an earlier run got from another server.
	keylessEnv := append(slices.Clone(env), "HOME="+t.TempDir())
	stdout, stderr, code = run(t, keylessEnv, t.TempDir(), "bash", "-x", "-euo", "pipefail", "-c",
		`trap 'kill $(jobs -p) 2>/dev/null || true' EXIT`+"\n"+`eval "$(sluice env)"`+"\n"+strings.Join(keyless, "\n"))
	if code != 0 || !strings.Contains(stdout, "assumed-role/local-deploy/") {
		t.Fatalf("the README's keyless try-out exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}

	// The SAM section, from a copy of the clone's examples/orders (its commands edit src/index.js): v1 (and an order
	// through its public function URL, with curl), no changes, v2 through the canary and its hooks, v3 rolled back by the errors alarm under load.sh's traffic, then a
	// rollback. `set -m` is a terminal's job control: load.sh, started in the background, stops its own process
	// group when killed, as it does in a person's shell, not the test's.
	sam := markedBlocks(t, readme, "sam")
	if len(sam) == 0 {
		t.Fatalf("README.md has no block marked <!-- e2e: sam -->")
	}
	clone := t.TempDir()
	if err := os.CopyFS(filepath.Join(clone, "examples", "orders"), os.DirFS(filepath.Join(moduleRoot, "examples", "orders"))); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	stdout, stderr, code = runFor(t, 6*time.Minute, env, clone, "bash", "-x", "-euo", "pipefail", "-c",
		"set -m\n"+`trap 'kill $(jobs -p) 2>/dev/null || true' EXIT`+"\n"+strings.Join(sam, "\n"))
	t.Logf("the SAM section ran in %s", time.Since(began).Round(time.Second))
	if code != 0 {
		t.Fatalf("the README's SAM section exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}
	for _, want := range []string{`{"orderId":"o-1001","status":"ACCEPTED","total":21}`, "No changes: stack orders is up to date.", "exit status 2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the SAM section's output has no %q\nstdout:\n%s\nstderr (bash -x):\n%s", want, tail(stdout, 6000), tail(stderr, 12000))
		}
	}
	a, err := s.Lambda().GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil {
		t.Fatalf("GetAlias orders:live after the SAM section: %v", err)
	}
	if v := aws.ToString(a.FunctionVersion); v != "1" || (a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0) {
		t.Errorf("after the SAM section's rollback live is on %s with %+v, want version 1 alone (v3 rolled back to 2, then back one more)", v, a.RoutingConfig)
	}
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
