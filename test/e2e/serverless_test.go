package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// serverlessFiles are the files of testdata/serverless: the service, its code, and the lock file pinning
// serverless@3 and serverless-plugin-canary-deployments.
var serverlessFiles = []string{"package.json", "package-lock.json", "serverless.yml", "handler.py", "hooks.py"}

// TestServerlessDeploy: `serverless deploy` (the Serverless Framework v3, whose AWS SDK for JavaScript v2 takes no
// endpoint URL) ships testdata/serverless to Sluice with nothing but HTTPS_PROXY and the CA file from
// `sluice env --proxy`: v1 is created (its deployment bucket, log groups, roles, functions, versions, the alias, the
// CodeDeploy application and group the canary plugin adds, the alarm); v2 goes through the plugin's
// Canary10Percent5Minutes with its pre- and post-traffic hooks; v3 raises on every call and, under load, the alarm
// stops its canary, CloudFormation rolls the stack back to UPDATE_ROLLBACK_COMPLETE with the alias on v2, and
// serverless fails as it does on AWS.
func TestServerlessDeploy(t *testing.T) {
	parallelLong(t)
	_, npm := requireNode(t)
	cli := cliV1(t)
	requireBoto3ForFunctions(t)

	dir := t.TempDir()
	for _, name := range serverlessFiles {
		b, err := os.ReadFile(filepath.Join("testdata", "serverless", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	linkNodeModules(t, npm, dir)

	// A deployment minute lasts 2 s and an alarm period a thirtieth of its own: the five-minute canary takes 10 s.
	srv := startServer(t, "--deploy-time-scale", "30", "--alarm-time-scale", "30")
	env := append(proxyEnv(t, srv),
		"HOME="+t.TempDir(),          // no serverless configuration of the machine's user
		"SLS_TELEMETRY_DISABLED=1",   // as a user opts out of the framework's telemetry
		"SLS_NOTIFICATIONS_MODE=off", // and of its notices
		"AWS_SDK_LOAD_CONFIG=0")
	sls := filepath.Join(dir, "node_modules", ".bin", "serverless")
	deploy := func(version string) (string, int) {
		t.Helper()
		writeFile(t, filepath.Join(dir, "handler.py"), []byte(handlerSource(version)))
		start := time.Now()
		// Each deploy runs a 30-second canary; on a loaded 2-CPU machine the CLI's own start-up takes a minute more.
		stdout, stderr, code := runFor(t, 8*time.Minute, env, dir, sls, "deploy", "--verbose")
		t.Logf("serverless deploy of %s: exit %d (%s)", version, code, time.Since(start).Round(time.Millisecond))
		return stdout + stderr, code
	}
	awsJSON := func(out any, args ...string) {
		t.Helper()
		stdout, stderr, code := run(t, srv.Env(), dir, cli, append(args, "--output", "json")...)
		if code != 0 {
			t.Fatalf("aws %s: %d %s", strings.Join(args, " "), code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
	aliasVersion := func() string {
		var a struct{ FunctionVersion string }
		awsJSON(&a, "lambda", "get-alias", "--function-name", "orders-sls-dev-orders", "--name", "Live")
		return a.FunctionVersion
	}
	stackStatus := func() string {
		var d struct {
			Stacks []struct{ StackStatus string }
		}
		awsJSON(&d, "cloudformation", "describe-stacks", "--stack-name", "orders-sls-dev")
		return d.Stacks[0].StackStatus
	}

	out, code := deploy("v1")
	if code != 0 || !strings.Contains(out, "Service deployed to stack orders-sls-dev") {
		t.Fatalf("serverless deploy of v1: exit %d\n%s", code, out)
	}
	if v := aliasVersion(); v != "1" {
		t.Fatalf("after v1 the alias is on %s", v)
	}

	out, code = deploy("v2")
	if code != 0 || !strings.Contains(out, "UPDATE_COMPLETE - AWS::CloudFormation::Stack - orders-sls-dev") {
		t.Fatalf("serverless deploy of v2: exit %d\n%s", code, out)
	}
	if v := aliasVersion(); v != "2" {
		t.Fatalf("after v2 the alias is on %s", v)
	}
	timeline := latestDeployment(t, srv)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`alias Live from version 1 to 2 with CodeDeployDefault.LambdaCanary10Percent5Minutes`),
		regexp.MustCompile(`BeforeAllowTraffic hook orders-sls-dev-preHook succeeded`),
		regexp.MustCompile(`target version 2 at 10%`),
		regexp.MustCompile(`AfterAllowTraffic hook orders-sls-dev-postHook succeeded`),
		regexp.MustCompile(`deployment succeeded`),
	} {
		if !want.MatchString(timeline) {
			t.Errorf("v2's deployment lacks %q:\n%s", want, timeline)
		}
	}

	// v3 under load: a client calls the alias all along its deployment.
	ctx, stopLoad := context.WithCancel(t.Context())
	var mu sync.Mutex
	served := map[string]int{} // executed version (+ " error") → calls
	var load sync.WaitGroup
	load.Go(func() {
		fn := srv.Lambda()
		for ctx.Err() == nil {
			r, err := fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("orders-sls-dev-orders"), Qualifier: aws.String("Live")})
			if err != nil {
				continue
			}
			key := aws.ToString(r.ExecutedVersion)
			if r.FunctionError != nil {
				key += " error"
			}
			mu.Lock()
			served[key]++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // a steady client, not a flood
		}
	})
	out, code = deploy("v3")
	stopLoad()
	load.Wait()
	t.Logf("calls of the alias during v3's deployment, by executed version: %v", served)
	if code != 1 {
		t.Errorf("serverless deploy of a rolled-back v3 exited %d, want 1", code)
	}
	for _, want := range []string{
		"UPDATE_FAILED - AWS::Lambda::Alias - OrdersLambdaFunctionAliasLive",
		"UPDATE_ROLLBACK_COMPLETE - AWS::CloudFormation::Stack - orders-sls-dev",
		"Stack orders-sls-dev failed to deploy",
		"UPDATE_FAILED: OrdersLambdaFunctionAliasLive (AWS::Lambda::Alias)",
		"ALARM_ACTIVE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serverless's output lacks %q:\n%s", want, out)
		}
	}
	if served["3 error"] == 0 {
		t.Errorf("no call reached the defective v3 before the rollback: %v", served)
	}
	if v := aliasVersion(); v != "2" {
		t.Errorf("after v3's rollback the alias is on %s, want 2", v)
	}
	if s := stackStatus(); s != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("stack status %s, want UPDATE_ROLLBACK_COMPLETE", s)
	}
	r, err := srv.Lambda().Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("orders-sls-dev-orders"), Qualifier: aws.String("Live")})
	if err != nil || r.FunctionError != nil || !strings.Contains(string(r.Payload), `"v2"`) {
		t.Errorf("the alias after the rollback: %v %s", err, r.Payload)
	}
	// Every AWS endpoint serverless called is one Sluice serves: the proxy refused none. (It refuses the framework's
	// look-up of registry.npmjs.org, which serverless shrugs off as it does offline.)
	for _, line := range strings.Split(grepLines(srv.log.String(), "aws proxy: refused"), "\n") {
		if strings.Contains(line, "amazonaws.com") {
			t.Errorf("the proxy refused an AWS endpoint serverless called: %s", line)
		}
	}
}

// linkNodeModules gives dir the node_modules of its package-lock.json: installed once by `npm ci` into the user's
// cache directory (serverless@3 is some 550 packages, minutes of npm on a busy machine), under the lock file's
// hash, then linked.
func linkNodeModules(t *testing.T, npm, dir string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256(lock)
	cached := filepath.Join(base, "sluice-e2e", "npm-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(cached, "node_modules", ".package-lock.json")); err != nil {
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
			t.Fatal(err)
		}
		work, err := os.MkdirTemp(filepath.Dir(cached), "install-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(work)
		for _, name := range []string{"package.json", "package-lock.json"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(work, name), b)
		}
		npmEnv := append(baseEnv(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		start := time.Now()
		if stdout, stderr, code := runFor(t, 8*time.Minute, npmEnv, work, npm, "ci", "--no-audit", "--no-fund"); code != 0 {
			t.Fatalf("npm ci: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		t.Logf("npm ci into %s: %s", cached, time.Since(start).Round(time.Millisecond))
		// Another test process may have won the race: its copy is as good.
		if err := os.Rename(work, cached); err != nil && !errors.Is(err, os.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(cached, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
}

func handlerSource(version string) string {
	if version == "v3" {
		return "def orders(event, context):\n    raise RuntimeError(\"v3 is defective\")\n"
	}
	return "VERSION = \"" + version + "\"\n\n\ndef orders(event, context):\n    return {\"version\": VERSION}\n"
}

// latestDeployment is `sluice deployments show` of the server's newest CodeDeploy deployment.
func latestDeployment(t *testing.T, srv *server) string {
	t.Helper()
	list, stderr, code := run(t, srv.Env(), "", sluiceBin, "deployments")
	id := regexp.MustCompile(`d-[A-Z0-9]{9}`).FindString(list)
	if code != 0 || id == "" {
		t.Fatalf("sluice deployments: %d %s%s", code, list, stderr)
	}
	show, stderr, code := run(t, srv.Env(), "", sluiceBin, "deployments", "show", id)
	if code != 0 {
		t.Fatalf("sluice deployments show %s: %d %s", id, code, stderr)
	}
	return show
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
