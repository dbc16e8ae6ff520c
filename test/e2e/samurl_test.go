package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// samURLTemplate is a SAM function published through alias live with a canary and a public function URL, the URL
// printed as an output (SAM's usual pattern). %s is the release its code answers with.
const samURLTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  WebFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Ref AWS::StackName
      Runtime: nodejs22.x
      Handler: index.handler
      Timeout: 30 # not the default 3 s: a cold start on a busy test machine may take longer
      InlineCode: |
        exports.handler = async (event) => ({
          statusCode: 200,
          headers: { "content-type": "text/plain" },
          body: "%s " + event.rawPath + " from version " + process.env.AWS_LAMBDA_FUNCTION_VERSION,
        });
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
      FunctionUrlConfig:
        AuthType: NONE
Outputs:
  WebUrl:
    Description: the live alias's public URL
    Value: !GetAtt WebFunctionUrl.FunctionUrl
`

// TestDeploySAMFunctionURL: `sluice deploy` of a SAM function with AutoPublishAlias, a canary DeploymentPreference
// and FunctionUrlConfig {AuthType: NONE} prints the URL, which answers plain unsigned HTTP; a new release goes
// through the canary behind the same URL while it keeps answering — no request fails, both versions serve — and a
// deploy with nothing changed leaves the URL and its permissions alone.
func TestDeploySAMFunctionURL(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t, "--deploy-time-scale", "60") // the canary's five minutes last five seconds
	env, c, ctx := s.Env(), s.Lambda(), t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "template.yaml")
	release := func(r string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(strings.Replace(samURLTemplate, "%s", r, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// v1: the first deploy creates the URL on the alias and prints it.
	release("v1")
	stdout, stderr, code := sluice(t, env, "deploy", "-t", path, "--stack-name", "web", "--no-progress")
	if code != 0 {
		t.Fatalf("first deploy: exit %d\n%s%s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`(?m)^\s+WebUrl = (http://[a-z0-9]+\.lambda-url\.us-east-1\.localhost:\d+/)$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("the first deploy printed no WebUrl output:\n%s", stdout)
	}
	url := m[1]
	cfg, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("web"), Qualifier: aws.String("live")})
	if err != nil || aws.ToString(cfg.FunctionUrl) != url || cfg.AuthType != "NONE" {
		t.Fatalf("the live alias's URL: %+v %v, printed %s", cfg, err, url)
	}
	policy, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("web"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"lambda:InvokeFunctionUrl"`, `"lambda:InvokeFunction"`, `"lambda:FunctionUrlAuthType":"NONE"`, `"lambda:InvokedViaFunctionUrl":"true"`} {
		if !strings.Contains(aws.ToString(policy.Policy), want) {
			t.Errorf("the alias's policy has no %s: %s", want, aws.ToString(policy.Policy))
		}
	}

	hc := urlClient(s)
	get := func(path string) (int, string, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		if err != nil {
			return 0, "", "", err
		}
		resp, err := hc.Do(req) // no signature: the URL is public
		if err != nil {
			return 0, "", "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("X-Sluice-Executed-Version"), err
	}
	if status, body, version, err := get("hello"); err != nil || status != http.StatusOK || body != "v1 /hello from version 1" || version != "1" {
		t.Fatalf("GET %shello: %d %q (version %q) %v", url, status, body, version, err)
	}

	// v2: the canary runs behind the same URL, under steady unsigned traffic.
	release("v2")
	var stop atomic.Bool
	var mu sync.Mutex
	served := map[string]int{}
	var failures []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				status, body, version, err := get("load")
				mu.Lock()
				switch {
				case err != nil && ctx.Err() == nil:
					failures = append(failures, err.Error())
				case err != nil:
				case status != http.StatusOK || body != map[string]string{"1": "v1", "2": "v2"}[version]+" /load from version "+version:
					failures = append(failures, version+": "+body)
				default:
					served[version]++
				}
				mu.Unlock()
			}
		})
	}
	r, stderr, code := deployStack(t, env, dir, "--stack-name", "web")
	stop.Store(true)
	wg.Wait()
	if code != 0 || r.Status != "UPDATE_COMPLETE" || len(r.Shifts) != 1 || r.Shifts[0].Status != "Succeeded" || r.Shifts[0].ToVersion != "2" ||
		r.Shifts[0].Config != "CodeDeployDefault.LambdaCanary10Percent5Minutes" {
		t.Fatalf("v2 deploy: exit %d %s %s %+v\n%s", code, r.Status, r.Reason, r.Shifts, stderr)
	}
	if r.Outputs["WebUrl"] != url {
		t.Errorf("the URL after v2 is %q, was %q", r.Outputs["WebUrl"], url)
	}
	for _, ch := range r.Changes {
		if ch.Type == "AWS::Lambda::Url" || ch.Type == "AWS::Lambda::Permission" {
			if ch.Action != "none" {
				t.Errorf("the v2 deploy did %s to %s", ch.Action, ch.LogicalID)
			}
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d requests failed during the canary, e.g. %q", len(failures), failures[0])
	}
	if served["1"] == 0 || served["2"] == 0 {
		t.Errorf("served during the deploy: %v; want both versions", served)
	}
	t.Logf("during the v2 deploy: %v", served)
	if status, body, version, err := get("after"); err != nil || status != http.StatusOK || body != "v2 /after from version 2" || version != "2" {
		t.Fatalf("GET %safter: %d %q (version %q) %v", url, status, body, version, err)
	}

	// Nothing changed: nothing is touched, the URL stays.
	r, stderr, code = deployStack(t, env, dir, "--stack-name", "web")
	if code != 0 || r.actions()["none"] != len(r.Changes) || r.Outputs["WebUrl"] != url {
		b, _ := json.Marshal(r)
		t.Fatalf("no-op deploy: exit %d %s\n%s", code, b, stderr)
	}
	stdout, _, _ = sluice(t, env, "stack", "status", "web")
	if !strings.Contains(stdout, "WebUrl = "+url) || !strings.Contains(stdout, "WebFunctionUrl") || !strings.Contains(stdout, "WebFunctionURLInvokeAllowPublicAccess") {
		t.Errorf("stack status:\n%s", stdout)
	}

	// Deleting the stack takes the URL with it.
	if stdout, stderr, code := sluice(t, env, "stack", "delete", "web"); code != 0 {
		t.Fatalf("stack delete: exit %d\n%s%s", code, stdout, stderr)
	}
	if status, _, _, err := get("gone"); err != nil || status == http.StatusOK {
		t.Errorf("the URL still answers after the stack was deleted: %d %v", status, err)
	}
}
