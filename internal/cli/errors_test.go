package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// sdkError is an API error as aws-sdk-go-v2 returns it: operation error → HTTP response error → the API's error.
func sdkError(service, operation string, status int, api error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: operation, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: api},
		RequestID:     "5c2a3b4d-0000-4000-8000-000000000000",
	}}
}

func TestErrorLine(t *testing.T) {
	conflict := sdkError("Lambda", "CreateFunction", 409, &types.ResourceConflictException{Message: aws.String("Function already exist: dup")})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a plain error", errors.New("--output: \"yaml\" is neither text nor json"), "--output: \"yaml\" is neither text nor json"},
		{"an SDK error", conflict, "ResourceConflictException: Function already exist: dup"},
		{"an SDK error with context around it", fmt.Errorf("Fn: create: %w", conflict), "Fn: create: ResourceConflictException: Function already exist: dup"},
		{"a signed call's error", fmt.Errorf("GetDeployment: %w", apiError(400, "", []byte(`{"__type":"com.amazonaws.codedeploy#DeploymentDoesNotExistException","message":"no d-NOPE"}`))),
			"GetDeployment: DeploymentDoesNotExistException: no d-NOPE"},
		{"an error type header with a URL", apiError(404, "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/", []byte(`{"Message":"gone"}`)),
			"ResourceNotFoundException: gone"},
		{"credentials that failed", fmt.Errorf("credentials from AWS_ROLE_ARN (sts:AssumeRoleWithWebIdentity): failed to refresh cached credentials, %w",
			sdkError("STS", "AssumeRoleWithWebIdentity", 403, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Not authorized"})),
			"credentials from AWS_ROLE_ARN (sts:AssumeRoleWithWebIdentity): failed to refresh cached credentials, AccessDenied: Not authorized"},
	} {
		if got := errorLine(tc.err); got != tc.want {
			t.Errorf("%s: errorLine = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestExecuteReportsAnErrorOnce runs commands against a server that answers with AWS errors: stderr has one line,
// "sluice: Code: message", and the SDK's chain only with --debug.
func TestExecuteReportsAnErrorOnce(t *testing.T) {
	noAWSEnvironment(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"): // Lambda's REST JSON: the code in a header
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.Header().Set("X-Amzn-Requestid", "5c2a3b4d-0000-4000-8000-000000000000")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"}`)
		case r.Header.Get("X-Amz-Target") == "CodeDeploy_20141006.GetDeployment": // JSON 1.1: the code in the body
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"InvalidDeploymentIdException","message":"Specified DeploymentId is not in the valid format: d-NOPE"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	for _, tc := range []struct {
		args          []string
		want          string // all of stderr
		wantWithDebug []string
	}{
		{args: []string{"status", "nope"},
			want:          "sluice: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope\n",
			wantWithDebug: []string{"operation error Lambda: GetFunction", "StatusCode: 404", "RequestID: 5c2a3b4d-0000-4000-8000-000000000000"}},
		{args: []string{"deployments", "show", "d-NOPE"},
			want:          "sluice: InvalidDeploymentIdException: Specified DeploymentId is not in the valid format: d-NOPE\n",
			wantWithDebug: []string{"InvalidDeploymentIdException"}},
	} {
		args := append(tc.args, "--endpoint-url", api.URL, "--data-dir", t.TempDir())
		var stdout, stderr bytes.Buffer
		if code := Execute(t.Context(), args, &stdout, &stderr); code != 1 {
			t.Errorf("sluice %s: exit %d, want 1", strings.Join(tc.args, " "), code)
		}
		if stderr.String() != tc.want || stdout.Len() != 0 {
			t.Errorf("sluice %s:\nstderr %q\nwant   %q\nstdout %q", strings.Join(tc.args, " "), stderr.String(), tc.want, stdout.String())
		}
		stderr.Reset()
		Execute(t.Context(), append(args, "--debug"), &stdout, &stderr)
		for _, want := range tc.wantWithDebug {
			if !strings.Contains(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("sluice %s --debug: stderr lacks %q (or is not one line):\n%s", strings.Join(tc.args, " "), want, stderr.String())
			}
		}
	}
}

// TestPrintResultLeavesTheErrorToStderr: a failed deploy's summary gives its status; the error that failed it is
// printed once, on stderr, by Execute.
func TestPrintResultLeavesTheErrorToStderr(t *testing.T) {
	failure := errors.New("Fn: create: ResourceConflictException: Function already exist: dup")
	for _, tc := range []struct {
		name     string
		result   stackdeploy.Result
		err      error
		wantLast string
	}{
		{"success", stackdeploy.Result{Stack: "b", Status: "CREATE_COMPLETE", Changes: []stackdeploy.Change{{LogicalID: "Fn", Action: stackdeploy.ActionCreate}}},
			nil, "Stack b: CREATE_COMPLETE"},
		{"failed by the error returned", stackdeploy.Result{Stack: "b", Status: "CREATE_FAILED", Reason: failure.Error()}, failure, "Stack b: CREATE_FAILED"},
		{"failed for a reason of the engine's", stackdeploy.Result{Stack: "b", Status: "UPDATE_ROLLBACK_COMPLETE", Reason: "OrdersErrorsAlarm went to ALARM"},
			fmt.Errorf("%w: orders:live stayed on version 2", stackdeploy.ErrRolledBack), "Stack b: UPDATE_ROLLBACK_COMPLETE — OrdersErrorsAlarm went to ALARM"},
		{"failed before it had a status", stackdeploy.Result{Stack: "b", Reason: failure.Error()}, failure, ""},
	} {
		var out bytes.Buffer
		printResult(&out, &tc.result, tc.err)
		lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if last := lines[len(lines)-1]; last != tc.wantLast {
			t.Errorf("%s: summary ends %q, want %q:\n%s", tc.name, last, tc.wantLast, out.String())
		}
		if tc.err != nil && strings.Contains(out.String(), tc.err.Error()) {
			t.Errorf("%s: the summary repeats the error:\n%s", tc.name, out.String())
		}
	}
}

// TestPrintResultShowsTheCleanup: the summary says what became of each physical resource that left the stack.
func TestPrintResultShowsTheCleanup(t *testing.T) {
	res := stackdeploy.Result{Stack: "cdk", Status: "UPDATE_COMPLETE", Changes: []stackdeploy.Change{
		{LogicalID: "VersionB", Type: "AWS::Lambda::Version", Action: stackdeploy.ActionCreate}},
		Cleanup: []stack.Removal{
			{LogicalID: "VersionA", Type: "AWS::Lambda::Version", PhysicalID: "arn:aws:lambda:us-east-1:000000000000:function:orders:1",
				Why: stack.RemovalRemoved, Outcome: stack.OutcomeDeleted},
			{LogicalID: "Role", Type: "AWS::IAM::Role", PhysicalID: "cdk-Role-1", Why: stack.RemovalReplaced, Outcome: stack.OutcomeRetained,
				Reason: "UpdateReplacePolicy: Retain"},
		}}
	var out bytes.Buffer
	printResult(&out, &res, nil)
	want := "create  VersionB  AWS::Lambda::Version  \n" +
		"Cleanup (after every update):\n" +
		"  VersionA  AWS::Lambda::Version  arn:aws:lambda:us-east-1:000000000000:function:orders:1  left the template: deleted\n" +
		"  Role      AWS::IAM::Role        cdk-Role-1                                               replaced: retained (UpdateReplacePolicy: Retain)\n" +
		"Stack cdk: UPDATE_COMPLETE\n"
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", out.String(), want)
	}
}
