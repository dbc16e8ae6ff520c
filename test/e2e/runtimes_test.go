package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// requireBoto3ForFunctions skips unless the interpreter Sluice runs Python functions with has boto3, as Lambda's
// Python runtimes do (.ci/run installs Debian's python3-boto3).
func requireBoto3ForFunctions(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no boto3 (install python3-boto3)")
	}
}

func TestPythonFunctionCallsSluiceWithBoto3(t *testing.T) {
	parallel(t)
	requireBoto3ForFunctions(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "target")
	createFunction(t, c, "caller", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython311, aws.String("app.handler")
		in.Timeout = aws.Int32(30) // importing boto3 and a cold callee take seconds on a busy machine
		in.Code.ZipFile = makeZip(t, zipFile{Name: "app.py", Body: `import json
import boto3

client = boto3.client("lambda")  # created at init, as real functions do


def handler(event, context):
    r = client.invoke(FunctionName=event["target"], Payload=json.dumps({"message": "from python"}))
    body = json.loads(r["Payload"].read())
    return {"status": r["StatusCode"], "executed": r["ExecutedVersion"], "message": body["message"],
            "caller": context.function_name, "remaining": context.get_remaining_time_in_millis() > 0}
`})
	})
	waitActive(t, c, "caller")
	out := invokeJSON(t, c, "caller", "", `{"target":"target"}`)
	if out.FunctionError != nil {
		t.Fatalf("python function failed: %s", out.Payload)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(200) || got["executed"] != "$LATEST" || got["message"] != "from python" || got["caller"] != "caller" || got["remaining"] != true {
		t.Fatalf("python function answered %s", out.Payload)
	}

	// The function's credentials carry its execution role's policies: a role allowed only to invoke "target" may
	// not invoke anything else, and a role without policies may call nothing.
	ctx := context.Background()
	for _, role := range []string{"narrow", "powerless"} {
		if _, err := s.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(lambdaTrust)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.IAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("narrow"), PolicyName: aws.String("invoke-target"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:target"}]}`)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ role, target, want string }{
		{"narrow", "target", "from python"},
		{"narrow", "caller", "AccessDeniedException"},
		{"powerless", "target", "AccessDeniedException"},
	} {
		if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("caller"),
			Role: aws.String("arn:aws:iam::000000000000:role/" + tc.role)}); err != nil {
			t.Fatal(err)
		}
		waitUpdated(t, c, "caller")
		out := invokeJSON(t, c, "caller", "", `{"target":"`+tc.target+`"}`)
		if !strings.Contains(string(out.Payload), tc.want) {
			t.Errorf("role %s invoking %s: %s, want %s", tc.role, tc.target, out.Payload, tc.want)
		}
	}
}

func TestNodeFunction(t *testing.T) {
	parallel(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	s := startServer(t)
	c := s.Lambda()
	createFunction(t, c, "node-fn", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		in.Code.ZipFile = makeZip(t,
			zipFile{Name: "index.js", Body: `let count = 0;
exports.handler = async (event, context) => {
  count++;
  if (event.fail) throw new TypeError(event.fail);
  console.log("node says", event.message);
  return { echo: event.message, count, fn: context.functionName, id: context.awsRequestId };
};
`},
			zipFile{Name: "callback.js", Body: `exports.handler = (event, context, callback) => callback(null, { style: "callback", got: event.n });
`})
	})
	waitActive(t, c, "node-fn")
	out := invokeJSON(t, c, "node-fn", "", `{"message":"hi"}`)
	var got map[string]any
	json.Unmarshal(out.Payload, &got)
	if out.FunctionError != nil || got["echo"] != "hi" || got["fn"] != "node-fn" || got["count"] != float64(1) {
		t.Fatalf("node function: %s", out.Payload)
	}
	out = invokeJSON(t, c, "node-fn", "", `{"message":"again"}`)
	json.Unmarshal(out.Payload, &got)
	if got["count"] != float64(2) {
		t.Fatalf("second invocation not warm: %s", out.Payload)
	}
	out = invokeJSON(t, c, "node-fn", "", `{"fail":"bad input"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"TypeError"`) ||
		!strings.Contains(string(out.Payload), `"errorMessage":"bad input"`) {
		t.Fatalf("node error: %s", out.Payload)
	}

	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("node-fn"), Handler: aws.String("callback.handler")}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "node-fn")
	out = invokeJSON(t, c, "node-fn", "", `{"n":7}`)
	if string(out.Payload) != `{"style":"callback","got":7}` {
		t.Fatalf("callback handler after a configuration change: %s", out.Payload)
	}

	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("node-fn"), Handler: aws.String("missing.handler")}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "node-fn")
	out = invokeJSON(t, c, "node-fn", "", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Runtime.ImportModuleError") {
		t.Fatalf("missing module: %s", out.Payload)
	}
}

func TestPythonFunctionErrors(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createFunction(t, c, "py", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython311, aws.String("app.handler")
		in.Code.ZipFile = makeZip(t, zipFile{Name: "app.py", Body: "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError(event['fail'])\n    return {'ok': True, 'request': context.aws_request_id}\n"})
	})
	waitActive(t, c, "py")
	if out := invokeJSON(t, c, "py", "", `{}`); out.FunctionError != nil || !strings.Contains(string(out.Payload), `"ok": true`) {
		t.Fatalf("python ok: %s", out.Payload)
	}
	out := invokeJSON(t, c, "py", "", `{"fail":"nope"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType": "ValueError"`) {
		t.Fatalf("python error: %s", out.Payload)
	}
	if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("py"), Handler: aws.String("app.nothere")}); err != nil {
		t.Fatal(err)
	}
	waitUpdated(t, c, "py")
	out = invokeJSON(t, c, "py", "", `{}`)
	if !strings.Contains(string(out.Payload), "Runtime.HandlerNotFound") {
		t.Fatalf("missing handler: %s", out.Payload)
	}
}

// TestEnvironmentCPUsFollowMemorySize: like Lambda, an environment gets CPU in proportion to its memory — one CPU up
// to 1,769 MB, then one more per 1,769 MB, never more than the machine has — and the function sees it in its
// affinity, which runtimes size themselves by (Go's GOMAXPROCS, Python's os.sched_getaffinity).
func TestEnvironmentCPUsFollowMemorySize(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createFunction(t, c, "cpus", func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython312, aws.String("app.handler")
		in.Code.ZipFile = makeZip(t, zipFile{Name: "app.py", Body: "import os\n\ndef handler(event, context):\n    return {'cpus': len(os.sched_getaffinity(0))}\n"})
	})
	waitActive(t, c, "cpus")
	for _, tc := range []struct{ memory, want int }{
		{128, 1}, {1769, 1}, {1770, 2}, {10240, 6},
	} {
		if tc.memory != 128 {
			if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("cpus"),
				MemorySize: aws.Int32(int32(tc.memory))}); err != nil {
				t.Fatal(err)
			}
			waitUpdated(t, c, "cpus")
		}
		want := min(tc.want, runtime.NumCPU())
		out := invokeJSON(t, c, "cpus", "", `{}`)
		if string(out.Payload) != fmt.Sprintf(`{"cpus": %d}`, want) {
			t.Errorf("MemorySize %d: the function runs on %s, want %d CPU(s) (the machine has %d)", tc.memory, out.Payload, want, runtime.NumCPU())
		}
	}
}
