package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// cdkDeployFiles are the CDK app of testdata/cdkdeploy: the npm aws-cdk CLI and aws-cdk-lib at the versions
// package-lock.json pins, and app.js — a function on fn.currentVersion, a "live" alias, an errors alarm on it and a
// LambdaDeploymentGroup (CANARY_10PERCENT_5MINUTES) with pre- and post-traffic hooks.
var cdkDeployFiles = []string{"package.json", "package-lock.json", "cdk.json", "app.js"}

// TestCDKDeploy runs the stock cdk CLI against Sluice with nothing but the endpoint and credentials in the
// environment: `cdk bootstrap` makes the CDKToolkit stack (staging bucket, roles, the version parameter), then
// `cdk deploy` publishes the function's zip asset through the file-publishing role and deploys through the deploy
// role and the CloudFormation execution role — v1 in one step, v2 through the canary with both hooks, and a
// defective v3 under load, which the alarm rolls back: cdk exits 1 printing the alias's UPDATE_FAILED as on AWS,
// the stack ends UPDATE_ROLLBACK_COMPLETE and the alias is on v2.
func TestCDKDeploy(t *testing.T) {
	t.Parallel()
	_, npm := requireNode(t)
	dir := t.TempDir()
	for _, name := range cdkDeployFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "cdkdeploy", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	if err := os.Mkdir(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	npmEnv := append(baseEnv(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	start := time.Now()
	if stdout, stderr, code := run(t, npmEnv, dir, npm, "ci", "--no-audit", "--no-fund"); code != 0 {
		t.Fatalf("npm ci: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("npm ci: %s", time.Since(start).Round(time.Millisecond))

	// Deployment minutes last 6 s and alarm periods a tenth: the five-minute canary takes 30 s.
	srv := startServer(t, "--deploy-time-scale", "10", "--alarm-time-scale", "10")
	env := append(srv.Env(), "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true", "CDK_DISABLE_VERSION_CHECK=1", "CI=true")
	cdk := filepath.Join(dir, "node_modules", ".bin", "cdk")
	cdkRun := func(args ...string) (string, int) {
		t.Helper()
		begun := time.Now()
		stdout, stderr, code := runFor(t, 4*time.Minute, env, dir, cdk, args...)
		t.Logf("cdk %s: exit %d (%s)", strings.Join(args, " "), code, time.Since(begun).Round(time.Millisecond))
		return stdout + stderr, code
	}

	out, code := cdkRun("bootstrap", "aws://"+accountID+"/"+region)
	if code != 0 || !strings.Contains(out, "Environment aws://"+accountID+"/"+region+" bootstrapped.") {
		t.Fatalf("cdk bootstrap: exit %d\n%s", code, out)
	}
	ctx := t.Context()
	bucket := "cdk-hnb659fds-assets-" + accountID + "-" + region
	if _, err := srv.S3(false).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("the staging bucket: %v", err)
	}
	if p, err := srv.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version")}); err != nil || aws.ToString(p.Parameter.Value) == "" {
		t.Errorf("the bootstrap version parameter: %v", err)
	}

	deploy := func(body string) (string, int) {
		t.Helper()
		writeFile(t, filepath.Join(dir, "fn", "index.js"), []byte(body))
		return cdkRun("deploy", "--require-approval", "never", "--outputs-file", "outputs.json")
	}
	out, code = deploy("exports.handler = async () => ({ release: 'v1' });\n")
	if code != 0 || !strings.Contains(out, "✅  OrdersCdk") {
		t.Fatalf("cdk deploy v1: exit %d\n%s", code, out)
	}
	var outputs map[string]map[string]string
	b, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &outputs); err != nil {
		t.Fatal(err)
	}
	aliasARN := outputs["OrdersCdk"]["AliasArn"]
	if !strings.HasSuffix(aliasARN, ":live") {
		t.Fatalf("outputs %v", outputs)
	}
	lc := srv.Lambda()
	invoke := func() (string, bool, string) {
		r, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(aliasARN)})
		if err != nil {
			t.Errorf("invoke: %v", err)
			return "", false, ""
		}
		return aws.ToString(r.ExecutedVersion), r.FunctionError != nil, string(r.Payload)
	}
	if v, failed, payload := invoke(); v != "1" || failed || !strings.Contains(payload, "v1") {
		t.Fatalf("live after v1: version %s, error %v, %s", v, failed, payload)
	}

	out, code = deploy("exports.handler = async () => ({ release: 'v2' });\n")
	if code != 0 || !strings.Contains(out, "✅  OrdersCdk") || !strings.Contains(out, "UPDATE_COMPLETE         | AWS::Lambda::Alias") {
		t.Fatalf("cdk deploy v2: exit %d\n%s", code, out)
	}
	if v, failed, payload := invoke(); v != "2" || failed || !strings.Contains(payload, "v2") {
		t.Fatalf("live after v2: version %s, error %v, %s", v, failed, payload)
	}
	hooks := hookFunctions(t, srv)
	if n := logStarts(t, srv, hooks["PreTraffic"]); n != 1 {
		t.Errorf("the pre-traffic hook ran %d times during v2's canary, want 1", n)
	}
	if n := logStarts(t, srv, hooks["PostTraffic"]); n != 1 {
		t.Errorf("the post-traffic hook ran %d times during v2's canary, want 1", n)
	}

	// v3 fails every call; traffic keeps flowing while it deploys, so its 10% raises the alarm.
	var (
		mu     sync.Mutex
		seen   = map[string]int{}
		stop   = make(chan struct{})
		loaded sync.WaitGroup
	)
	loaded.Add(1)
	go func() {
		defer loaded.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			v, failed, _ := invoke()
			mu.Lock()
			seen[fmt.Sprintf("%s failed=%v", v, failed)]++
			mu.Unlock()
		}
	}()
	out, code = deploy("exports.handler = async () => { throw new Error('v3 is broken'); };\n")
	close(stop)
	loaded.Wait()
	for _, want := range []string{"UPDATE_FAILED           | AWS::Lambda::Alias", "ALARM_ACTIVE", "UPDATE_ROLLBACK_COMPLET", "❌  OrdersCdk failed to deploy"} {
		if !strings.Contains(out, want) {
			t.Errorf("cdk deploy v3 does not print %q", want)
		}
	}
	if code != 1 {
		t.Errorf("cdk deploy v3: exit %d, want 1", code)
	}
	if t.Failed() {
		t.Fatalf("cdk deploy v3 output:\n%s", out)
	}
	t.Logf("invocations during v3's deploy: %v", seen)
	if seen["3 failed=true"] == 0 {
		t.Errorf("no invocation reached v3 during its canary: %v", seen)
	}
	stdout, stderr, code := awsCLI(t, srv, false, "cloudformation", "describe-stacks", "--stack-name", "OrdersCdk", "--query", "Stacks[0].StackStatus", "--output", "text")
	if code != 0 || strings.TrimSpace(stdout) != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("stack status: %q (exit %d, %s), want UPDATE_ROLLBACK_COMPLETE", stdout, code, stderr)
	}
	if v, failed, payload := invoke(); v != "2" || failed || !strings.Contains(payload, "v2") {
		t.Errorf("live after v3's rollback: version %s, error %v, %s", v, failed, payload)
	}
	if n := logStarts(t, srv, hooks["PreTraffic"]); n != 2 {
		t.Errorf("the pre-traffic hook ran %d times in all, want 2 (v2, v3)", n)
	}
	if n := logStarts(t, srv, hooks["PostTraffic"]); n != 1 {
		t.Errorf("the post-traffic hook ran %d times in all, want 1: v3 never got all the traffic", n)
	}
}

// hookFunctions names the stack's hook functions by the start of their logical ids.
func hookFunctions(t *testing.T, srv *server) map[string]string {
	t.Helper()
	stdout, stderr, code := awsCLI(t, srv, false, "cloudformation", "describe-stack-resources", "--stack-name", "OrdersCdk",
		"--query", "StackResources[?ResourceType=='AWS::Lambda::Function'].[LogicalResourceId,PhysicalResourceId]", "--output", "text")
	if code != 0 {
		t.Fatalf("describe-stack-resources: exit %d: %s", code, stderr)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		for _, hook := range []string{"PreTraffic", "PostTraffic"} {
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
