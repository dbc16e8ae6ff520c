package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestREADMECloudFormation runs README.md's "Deploy with the tools you already use" as printed (the block marked
// <!-- e2e: cfn -->) against a fresh server started with the quick start's flags, in a copy of examples/orders:
// `aws cloudformation package` to Sluice's S3 and `aws cloudformation deploy` through change sets — v1 created, v2
// through the canary and its hooks, v3 rolled back by the errors alarm under load.sh's traffic, the stack ending
// UPDATE_ROLLBACK_COMPLETE with live on version 2. It runs twice: with AWS CLI v1 from PATH, which reads the
// AWS_ENDPOINT_URL the block's `sluice env` sets, and with AWS CLI v2, whose Debian release predates that variable,
// reaching Sluice at AWS's own hosts through the proxy (`sluice env --proxy`) — no endpoint flag either way.
func TestREADMECloudFormation(t *testing.T) {
	parallelLong(t)
	requireBoto3ForFunctions(t) // the example's hooks are Python functions calling CodeDeploy
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	blocks := markedBlocks(t, readme, "cfn")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: cfn -->, want 1", len(blocks))
	}
	for _, client := range []struct {
		name    string
		prepare func(t *testing.T, s *server, env []string) []string
	}{
		{"AWS CLI v1", func(t *testing.T, _ *server, env []string) []string { cliV1(t); return env }},
		{"AWS CLI v2 through the proxy", func(t *testing.T, s *server, env []string) []string {
			requireCLIv2(t)
			bin := t.TempDir()
			if err := os.Symlink(cliV2Path, filepath.Join(bin, "aws")); err != nil {
				t.Fatal(err)
			}
			for _, kv := range proxyEnv(t, s) {
				if strings.HasPrefix(kv, "HTTPS_PROXY=") || strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
					env = append(env, kv)
				}
			}
			return append(env, "PATH="+bin+string(os.PathListSeparator)+envValue(env, "PATH"))
		}},
	} {
		t.Run(client.name, func(t *testing.T) {
			t.Parallel()
			runREADMECloudFormation(t, readme, blocks[0], client.prepare)
		})
	}
}

func runREADMECloudFormation(t *testing.T, readme, block string, prepare func(*testing.T, *server, []string) []string) {
	s, env := startREADMEServer(t, readme)
	env = prepare(t, s, env)
	clone := t.TempDir()
	if err := os.CopyFS(filepath.Join(clone, "examples", "orders"), os.DirFS(filepath.Join(moduleRoot, "examples", "orders"))); err != nil {
		t.Fatal(err)
	}
	env = append(env, "PS4=+ README: ")
	// `set -m` as in a person's terminal: load.sh, started in the background, stops its own process group.
	began := time.Now()
	stdout, stderr, code := runFor(t, 8*time.Minute, env, clone, "bash", "-x", "-euo", "pipefail", "-c",
		"set -m\n"+`trap 'kill $(jobs -p) 2>/dev/null || true' EXIT`+"\n"+block)
	t.Logf("the section ran in %s", time.Since(began).Round(time.Second))
	if code != 0 {
		t.Fatalf("the README's CloudFormation section exited %d\nstdout:\n%s\nstderr (bash -x):\n%s", code, tail(stdout, 6000), tail(stderr, 12000))
	}
	for _, want := range []string{"exit status 255", "UPDATE_ROLLBACK_COMPLETE\n2\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the section's output has no %q\nstdout:\n%s\nstderr (bash -x):\n%s", want, tail(stdout, 6000), tail(stderr, 12000))
		}
	}
	a, err := s.Lambda().GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(a.FunctionVersion) != "2" || a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
		t.Errorf("after the section live is %+v (%v), want version 2 alone", a, err)
	}
}
