package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// TestREADMECDK runs README.md's CDK part of "Deploy with the tools you already use" as printed (the block marked
// <!-- e2e: cdk -->) against a fresh server started with the quick start's flags, in a copy of examples/cdk and
// examples/orders, with AWS CLI v1 from PATH and nothing but the endpoint and credentials in the environment: npm
// ci, `npx cdk bootstrap` (the CDKToolkit stack: staging bucket, roles, the version parameter), then `npx cdk
// deploy` of v1, v2 through the canary with both hooks, and a defective v3 under load.sh's traffic, which the errors
// alarm rolls back — cdk exits 1 printing the alias's UPDATE_FAILED as on AWS, the stack ends
// UPDATE_ROLLBACK_COMPLETE with live on version 2, and v3's post-traffic hook never runs.
func TestREADMECDK(t *testing.T) {
	parallelLong(t)
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
	srv, env := startREADMEServer(t, readme)
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
	for _, want := range []string{"Environment aws://000000000000/us-east-1 bootstrapped.", "UPDATE_FAILED",
		"ALARM_ACTIVE", "❌  CdkOrders failed to deploy", "exit status 1\n", "UPDATE_ROLLBACK_COMPLETE\n2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the section's output has no %q\nstdout:\n%s\nstderr (bash -x):\n%s", want, tail(stdout, 6000), tail(stderr, 12000))
		}
	}

	ctx := t.Context()
	bucket := "cdk-hnb659fds-assets-" + accountID + "-" + region
	if _, err := srv.S3(false).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("the bootstrap's staging bucket: %v", err)
	}
	if p, err := srv.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version")}); err != nil || aws.ToString(p.Parameter.Value) == "" {
		t.Errorf("the bootstrap's version parameter: %v", err)
	}
	// v2's shift ran both hooks; v3's ran the pre-traffic one (its one-line smoke test passes), and its 10% of
	// load.sh's traffic raised the alarm before the post-traffic hook's turn.
	hooks := hookFunctions(t, srv, "CdkOrders")
	if n := logStarts(t, srv, hooks["PreTrafficCheck"]); n != 2 {
		t.Errorf("the pre-traffic hook ran %d times, want 2 (v2, v3)", n)
	}
	if n := logStarts(t, srv, hooks["PostTrafficCheck"]); n != 1 {
		t.Errorf("the post-traffic hook ran %d times, want 1: v3 never got all the traffic", n)
	}
	load, err := os.ReadFile(filepath.Join(clone, "examples", "cdk", "load.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\S+ 3\s+Unhandled$`).Match(load) {
		t.Errorf("no invocation reached v3 during its canary; load.log:\n%s", tail(string(load), 3000))
	}
}

// hookFunctions names a stack's hook functions (AWS::Lambda::Function resources whose logical ids start with
// PreTrafficCheck or PostTrafficCheck).
func hookFunctions(t *testing.T, srv *server, stack string) map[string]string {
	t.Helper()
	stdout, stderr, code := awsCLI(t, srv, false, "cloudformation", "describe-stack-resources", "--stack-name", stack,
		"--query", "StackResources[?ResourceType=='AWS::Lambda::Function'].[LogicalResourceId,PhysicalResourceId]", "--output", "text")
	if code != 0 {
		t.Fatalf("describe-stack-resources: exit %d: %s", code, stderr)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		for _, hook := range []string{"PreTrafficCheck", "PostTrafficCheck"} {
			if len(f) == 2 && strings.HasPrefix(f[0], hook) {
				out[hook] = f[1]
			}
		}
	}
	if len(out) != 2 {
		t.Fatalf("hook functions in %q", stdout)
	}
	return out
}

// logStarts counts a function's invocations by the START lines of its log group (not the runtime's INIT_START).
func logStarts(t *testing.T, srv *server, function string) int {
	t.Helper()
	out, err := srv.Logs().FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String("/aws/lambda/" + function), FilterPattern: aws.String(`"START RequestId"`)})
	if err != nil {
		t.Fatalf("logs of %s: %v", function, err)
	}
	return len(out.Events)
}
