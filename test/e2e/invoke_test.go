package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// builtFunction is one aws-lambda-go package built into a provided.al2023 `bootstrap` zip, once per test run.
type builtFunction struct {
	once sync.Once
	zip  []byte
	err  error
}

var (
	builtMu sync.Mutex
	built   = map[string]*builtFunction{}
)

// goFunctionZip builds the aws-lambda-go function in the package pkg (e.g. ./test/functions/echo) as a
// provided.al2023 `bootstrap` and zips it.
func goFunctionZip(t *testing.T, pkg string) []byte {
	t.Helper()
	builtMu.Lock()
	b, ok := built[pkg]
	if !ok {
		b = &builtFunction{}
		built[pkg] = b
	}
	builtMu.Unlock()
	b.once.Do(func() { b.zip, b.err = buildGoFunction(t, pkg) })
	if b.err != nil {
		t.Fatalf("build %s: %v", pkg, b.err)
	}
	return b.zip
}

func buildGoFunction(t *testing.T, pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "sluice-fn-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Log(string(out))
		return nil, err
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, _ := zw.CreateHeader(h)
	w.Write(exe)
	zw.Close()
	return buf.Bytes(), nil
}

// echoZip is the aws-lambda-go function in test/functions/echo.
func echoZip(t *testing.T) []byte { return goFunctionZip(t, "./test/functions/echo") }

type echoResponse struct {
	Message     string            `json:"message"`
	RequestID   string            `json:"requestId"`
	FunctionArn string            `json:"invokedFunctionArn"`
	Version     string            `json:"version"`
	Env         map[string]string `json:"env"`
	UID         int               `json:"uid"`
	Cwd         string            `json:"cwd"`
	Invocations int               `json:"invocations"`
}

func createEcho(t *testing.T, c *lambda.Client, name string, mods ...func(*lambda.CreateFunctionInput)) {
	t.Helper()
	in := &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(roleARN), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: echoZip(t)},
		Environment: &types.Environment{Variables: map[string]string{"USER_SETTING": "on"}}}
	for _, m := range mods {
		m(in)
	}
	if _, err := c.CreateFunction(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, name)
}

func invokeJSON(t *testing.T, c *lambda.Client, name, qualifier, payload string) *lambda.InvokeOutput {
	t.Helper()
	in := &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.Invoke(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInvokeGoFunction(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "echo")

	out, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"message":"hi","log":"hello from the function"}`),
		LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || out.FunctionError != nil || aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Fatalf("invoke: status %d, function error %v, version %v", out.StatusCode, out.FunctionError, aws.ToString(out.ExecutedVersion))
	}
	var r echoResponse
	if err := json.Unmarshal(out.Payload, &r); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	if r.Message != "hi" || r.FunctionArn != arnPrefix+"echo" || r.Version != "$LATEST" || r.Cwd != "/var/task" {
		t.Fatalf("function saw %+v", r)
	}
	if r.UID == 0 {
		t.Fatal("the function ran as root")
	}
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_REGION": "us-east-1", "LAMBDA_TASK_ROOT": "/var/task", "_HANDLER": "bootstrap", "USER_SETTING": "on",
		"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_ENDPOINT_URL": s.URL, "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/echo",
	} {
		if got := r.Env[k]; got != want {
			t.Errorf("env %s = %q, want %q", k, got, want)
		}
	}
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	for _, want := range []string{"START RequestId: " + r.RequestID, "hello from the function", "END RequestId: " + r.RequestID, "REPORT RequestId: " + r.RequestID, "Init Duration:", "Memory Size: 128 MB"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log tail lacks %q:\n%s", want, logs)
		}
	}

	// Warm reuse: the same process serves the next invocation.
	out = invokeJSON(t, c, "echo", "", `{"message":"again"}`)
	json.Unmarshal(out.Payload, &r)
	if r.Invocations != 2 {
		t.Fatalf("second invocation ran in a fresh process (invocations=%d)", r.Invocations)
	}

	// A function error is a 200 with X-Amz-Function-Error and the runtime's error document.
	out = invokeJSON(t, c, "echo", "", `{"fail":"boom"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorMessage":"boom"`) {
		t.Fatalf("function error: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}

	// A fork bomb hits the environment's process or memory limit (whichever comes first) — or, on a loaded
	// machine, its timeout; the platform and the next invocation carry on.
	out = invokeJSON(t, c, "echo", "", `{"spawn":5000}`)
	var bomb struct {
		Spawned   int
		ErrorType string
	}
	json.Unmarshal(out.Payload, &bomb)
	contained := out.FunctionError == nil && bomb.Spawned > 0 && bomb.Spawned < 5000 ||
		out.FunctionError != nil && (bomb.ErrorType == "Runtime.OutOfMemory" || bomb.ErrorType == "Runtime.ExitError" || bomb.ErrorType == "Sandbox.Timedout")
	if !contained {
		t.Fatalf("fork bomb not contained: %s", out.Payload)
	}
	if out := invokeJSON(t, c, "echo", "", `{"message":"still here"}`); out.FunctionError != nil {
		t.Fatalf("after the fork bomb: %s", out.Payload)
	}

	// DryRun validates without running.
	dry, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Fatalf("dry run: %v %v", dry, err)
	}
}

func TestInvokeAliasSplitIsDeterministic(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: aws.String(v1), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{v2: 0.1}}}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	counts := map[string]int{}
	for range n {
		out := invokeJSON(t, c, "orders", "live", `{}`)
		counts[aws.ToString(out.ExecutedVersion)]++
		var r echoResponse
		json.Unmarshal(out.Payload, &r)
		if r.FunctionArn != arnPrefix+"orders:live" || r.Version != aws.ToString(out.ExecutedVersion) {
			t.Fatalf("function saw ARN %s version %s, executed %s", r.FunctionArn, r.Version, aws.ToString(out.ExecutedVersion))
		}
	}
	if got := counts[v2]; got < 99 || got > 101 || counts[v1]+got != n {
		t.Fatalf("after %d invocations at 10%% the canary served %d (want 100 ± 1); counts %v", n, got, counts)
	}

	// Promotion is seen by the very next invocation.
	if _, err := c.UpdateAlias(t.Context(), &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"),
		FunctionVersion: aws.String(v2), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}); err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(invokeJSON(t, c, "orders", "live", `{}`).ExecutedVersion); v != v2 {
		t.Fatalf("after promotion the next invocation ran version %s, want %s", v, v2)
	}
}

func TestInvokeContainsBadFunctions(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "bad", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(1) })
	// The memory hog gets time enough to reach its limit even on a loaded machine: it must end by the limit.
	createEcho(t, c, "hog", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(60) })
	createEcho(t, c, "good")

	cases := []struct {
		name, function, payload, wantType, wantText string
	}{
		{"timeout", "bad", `{"sleepMs":3000}`, "Sandbox.Timedout", "Task timed out after 1.00 seconds"},
		{"crash", "bad", `{"exit":3}`, "Runtime.ExitError", "Runtime exited with error: exit status 3"},
		{"memory hog", "hog", `{"hogMB":400}`, "", "Runtime exited with error"},
	}
	for _, tc := range cases {
		out := invokeJSON(t, c, tc.function, "", tc.payload)
		var doc struct{ ErrorType, ErrorMessage string }
		json.Unmarshal(out.Payload, &doc)
		if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(doc.ErrorMessage, tc.wantText) ||
			tc.wantType != "" && doc.ErrorType != tc.wantType {
			t.Errorf("%s: got %v %s", tc.name, aws.ToString(out.FunctionError), out.Payload)
		}
		if tc.name == "memory hog" && doc.ErrorType != "Runtime.OutOfMemory" && doc.ErrorType != "Runtime.ExitError" {
			t.Errorf("memory hog: errorType %q", doc.ErrorType)
		}
		// The platform keeps serving: the same function recovers, others never noticed.
		if out := invokeJSON(t, c, tc.function, "", `{"message":"after"}`); out.FunctionError != nil {
			t.Fatalf("%s: the function did not recover: %s", tc.name, out.Payload)
		}
		if out := invokeJSON(t, c, "good", "", `{"message":"fine"}`); out.FunctionError != nil {
			t.Fatalf("%s: another function was affected: %s", tc.name, out.Payload)
		}
	}
}

func TestInvokeErrors(t *testing.T) {
	parallel(t)
	s := startServer(t, "--processing-delay", "1s")
	c := s.Lambda()
	if _, err := c.CreateFunction(t.Context(), &lambda.CreateFunctionInput{FunctionName: aws.String("slow"), Role: aws.String(roleARN),
		Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: echoZip(t)}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("slow")})
	checkAPIError(t, "invoke while Pending", err, wantErr{Code: "ResourceConflictException", Status: 409,
		Message: "The operation cannot be performed at this time. The function is currently in the following state: Pending"})
	waitActive(t, c, "slow")

	_, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("slow"), Payload: []byte("not json")})
	checkAPIError(t, "non-JSON payload", err, wantErr{Code: "InvalidRequestContentException", Status: 400, Prefix: "Could not parse request body into json"})

	_, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("slow"), Payload: append([]byte(`"`), append(bytes.Repeat([]byte("x"), 6291456), '"')...)})
	checkAPIError(t, "oversized payload", err, wantErr{Code: "RequestEntityTooLargeException", Status: 413,
		Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})

	_, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("nope")})
	checkAPIError(t, "missing function", err, wantErr{Code: "ResourceNotFoundException", Status: 404, Message: "Function not found: " + arnPrefix + "nope:$LATEST"})
	_, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("slow"), Qualifier: aws.String("9")})
	checkAPIError(t, "missing version", err, wantErr{Code: "ResourceNotFoundException", Status: 404, Message: "Function not found: " + arnPrefix + "slow:9"})

	if _, err := c.PutFunctionConcurrency(t.Context(), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("slow"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("slow")})
	checkAPIError(t, "reserved concurrency 0", err, wantErr{Code: "TooManyRequestsException", Status: 429, Message: "Rate Exceeded."})
	var tmr *types.TooManyRequestsException
	if !errors.As(err, &tmr) || tmr.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
		t.Fatalf("throttle reason: %v", err)
	}
}

func TestInvokeMissingBootstrap(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createFunction(t, c, "empty", func(in *lambda.CreateFunctionInput) {
		in.Code.ZipFile = makeZip(t, zipFile{Name: "README", Body: "no bootstrap here"})
	})
	waitActive(t, c, "empty")
	out := invokeJSON(t, c, "empty", "", `{}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"Runtime.InvalidEntrypoint"`) ||
		!strings.Contains(string(out.Payload), "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]") {
		t.Fatalf("missing bootstrap: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
}

func TestInvokeWithAWSCLI(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "echo")
	dir := t.TempDir()
	for _, v2 := range []bool{false, true} {
		args := []string{"lambda", "invoke", "--function-name", "echo", "--payload", `{"message":"cli"}`}
		if v2 {
			t.Run("v2", requireCLIv2)
			if cliV2Path == "" {
				continue
			}
			// CLI v2 treats --payload as base64 unless told otherwise.
			args = append(args, "--cli-binary-format", "raw-in-base64-out")
		}
		out := filepath.Join(dir, "out.json")
		stdout, stderr, code := awsCLI(t, s, v2, append(args, out)...)
		if code != 0 || !strings.Contains(stdout, `"StatusCode": 200`) {
			t.Fatalf("%s invoke: %d %s %s", cliName(v2), code, stdout, stderr)
		}
		b, _ := os.ReadFile(out)
		if !strings.Contains(string(b), `"message":"cli"`) {
			t.Fatalf("%s invoke output: %s", cliName(v2), b)
		}
	}
}

// TestInvokeSeesConfigurationOnceUpdated: once the updated-waiter reports Successful, the very next invocation
// runs the new configuration (the invoke path learns of a change before readers can see it). Each round is an
// update and a cold start: ten rounds give an ordering bug ten chances in well under half the time of 25.
func TestInvokeSeesConfigurationOnceUpdated(t *testing.T) {
	parallel(t)
	s := startServer(t)
	c := s.Lambda()
	createEcho(t, c, "cfg")
	for i := range 10 {
		want := fmt.Sprintf("value-%d", i)
		if _, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("cfg"),
			Environment: &types.Environment{Variables: map[string]string{"USER_SETTING": want}}}); err != nil {
			t.Fatal(err)
		}
		waitUpdated(t, c, "cfg")
		var r echoResponse
		json.Unmarshal(invokeJSON(t, c, "cfg", "", `{}`).Payload, &r)
		if got := r.Env["USER_SETTING"]; got != want {
			t.Fatalf("update %d: the invocation after the waiter saw %q, want %q", i, got, want)
		}
	}
}
