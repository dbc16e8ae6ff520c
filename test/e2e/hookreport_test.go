package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestHookThatCannotReportIsVisibleAtOnce: the seed's Python hook runs under a role that may write logs but not
// call codedeploy:PutLifecycleEventHookExecutionStatus. CodeDeploy's semantics stay — the deployment waits for
// the status until the hook timeout (an hour here) — but `sluice deployments show` says within seconds that the
// hook could not report, and why.
func TestHookThatCannotReportIsVisibleAtOnce(t *testing.T) {
	parallel(t)
	requireBoto3ForFunctions(t)
	hookProblemIsVisibleAtOnce(t, seedHook, []string{"hook CodeDeployHook_pre could not report its status:", "hook-cannot-report",
		"is not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus"})
}

// TestHookThatCannotRunIsVisibleAtOnce: a hook whose invocation ends in a function error (here a module it cannot
// import, as a Python hook without boto3 does) is told on the deployment at once, not after the hook timeout.
func TestHookThatCannotRunIsVisibleAtOnce(t *testing.T) {
	parallel(t)
	requireBoto3ForFunctions(t) // a Python that functions can run
	hookProblemIsVisibleAtOnce(t, "import no_such_module_for_sluice\n\ndef handler(event, context):\n    return None\n",
		[]string{"hook CodeDeployHook_pre invocation failed: Runtime.ImportModuleError", "no_such_module_for_sluice",
			"waiting for its status until"})
}

// hookProblemIsVisibleAtOnce deploys with a Python pre-traffic hook of the given source, run under a role that may
// only write logs, and waits (bounded by the hook's cold start, not its timeout) for sluice deployments show to
// name the problem while the deployment still waits for the hook's status.
func hookProblemIsVisibleAtOnce(t *testing.T, hookSource string, want []string) {
	s := startServer(t, "--deploy-time-scale", "600", "--hook-timeout", "1h")
	c, cd, im := s.Lambda(), s.CodeDeploy(), s.IAM()
	if _, err := im.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String("hook-cannot-report"), AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String("hook-cannot-report"), PolicyName: aws.String("logs-only"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createFunction(t, c, "CodeDeployHook_pre", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython311, aws.String("hook.handler")
		in.Role = aws.String("arn:aws:iam::000000000000:role/hook-cannot-report")
		in.Code.ZipFile = makeZip(t, zipFile{Name: "hook.py", Body: hookSource})
	})
	createDeploymentGroup(t, cd, nil)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2)+"Hooks:\n  - BeforeAllowTraffic: CodeDeployHook_pre\n")
	deadline := time.Now().Add(30 * time.Second) // the hook's cold start and boto3's import, not the hour
	for {
		shown, stderr, code := sluice(t, s.Env(), "deployments", "show", id)
		if code != 0 {
			t.Fatalf("deployments show exited %d: %s", code, stderr)
		}
		if containsAll(shown, want) {
			if !strings.Contains(shown, "InProgress") {
				t.Errorf("the deployment no longer waits for the hook's status:\n%s", shown)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployments show never named the hook's problem (want %q):\n%s\nserver log:\n%s", want, shown, tail(s.log.String(), 4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
