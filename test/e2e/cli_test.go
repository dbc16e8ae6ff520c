package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestSluiceEnv evaluates `sluice env` in a shell that has no AWS configuration of its own, and uses the AWS CLI.
func TestSluiceEnv(t *testing.T) {
	parallel(t)
	cliV1(t)
	srv := startServer(t)
	createFunction(t, srv.Lambda(), "orders")

	stdout, stderr, code := sluice(t, isolationEnv(), "env", "--data-dir", srv.DataDir)
	if code != 0 {
		t.Fatalf("sluice env: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"export AWS_ENDPOINT_URL=" + srv.URL,
		"export AWS_ACCESS_KEY_ID=" + srv.AccessKeyID,
		"export AWS_SECRET_ACCESS_KEY=" + srv.SecretAccessKey,
		"export AWS_REGION=us-east-1",
		"export AWS_DEFAULT_REGION=us-east-1",
	} {
		if !slices.Contains(strings.Split(strings.TrimSpace(stdout), "\n"), want) {
			t.Errorf("sluice env output lacks the line %q:\n%s", want, stdout)
		}
	}

	script := `set -euo pipefail
eval "$("$SLUICE" env --data-dir "$DATA_DIR")"
aws lambda list-functions --output json`
	env := append(isolationEnv(), "SLUICE="+sluiceBin, "DATA_DIR="+srv.DataDir)
	stdout, stderr, code = run(t, env, "", "bash", "-c", script)
	if code != 0 {
		t.Fatalf("eval \"$(sluice env)\"; aws lambda list-functions: exit %d\n%s", code, stderr)
	}
	if names := functionNames(t, []byte(stdout)); !slices.Equal(names, []string{"orders"}) {
		t.Errorf("aws lambda list-functions after sluice env = %v, want [orders]", names)
	}

	// With no server on the data dir, it says so.
	_, stderr, code = sluice(t, isolationEnv(), "env", "--data-dir", t.TempDir())
	if code == 0 {
		t.Errorf("sluice env on an empty data dir succeeded")
	} else if stderr == "" {
		t.Errorf("sluice env on an empty data dir failed without a message")
	}
}

// TestSluiceStatus checks `sluice status` on a function with versions and a weighted alias, found only through
// --data-dir (no AWS environment at all).
func TestSluiceStatus(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	ctx := t.Context()
	createFunction(t, c, "orders")
	publish(t, c, "orders")
	publishNew(t, c, "orders", "the canary")
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: aws.String("1"), RoutingConfig: weights(map[string]float64{"2": 0.03})}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("staging"),
		FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("orders"),
		ReservedConcurrentExecutions: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := sluice(t, isolationEnv(), "status", "orders", "--data-dir", srv.DataDir)
	if code != 0 {
		t.Fatalf("sluice status: exit %d: %s", code, stderr)
	}
	for _, re := range []string{
		`(?m)^Function\s+` + regexp.QuoteMeta(arnPrefix+"orders") + `\s*$`,
		`(?m)^State\s+Active\b`,
		`LastUpdateStatus Successful`,
		`(?m)^\$LATEST\s+`,
		`(?m)^1\s+\S+`,
		`(?m)^2\s+\S+.*the canary`,
		`(?m)^live\s+1 \(97%\) \+ 2 \(3%\)\s*$`,
		`(?m)^staging\s+2 \(100%\)\s*$`,
		`Reserved concurrency 7`,
	} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("sluice status output does not match %s:\n%s", re, stdout)
		}
	}

	_, stderr, code = sluice(t, isolationEnv(), "status", "nope", "--data-dir", srv.DataDir)
	if code == 0 {
		t.Errorf("sluice status of a missing function succeeded")
	} else if !strings.Contains(stderr, "ResourceNotFoundException") && !strings.Contains(stderr, "not found") {
		t.Errorf("sluice status of a missing function: stderr does not say it is missing: %s", stderr)
	}
}

func TestSluiceVersion(t *testing.T) {
	parallel(t)
	stdout, stderr, code := sluice(t, isolationEnv(), "version")
	if code != 0 {
		t.Fatalf("sluice version: exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`^sluice \S+( \([^()]+\))?\n$`).MatchString(stdout) {
		t.Errorf("sluice version printed %q, want `sluice <version> [(<commit>, modified, <commit time>)]`", stdout)
	}
}
