package codedeployapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/api/codedeployapi"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/awsraw"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// actionAuthorizer allows each principal the actions listed for it; "admin" may do anything.
type actionAuthorizer map[string][]string

func (a actionAuthorizer) Authorize(_ context.Context, principal, _, action, resource string) error {
	if slices.Contains(a[principal], action) {
		return nil
	}
	return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
}

func (actionAuthorizer) Unrestricted(principal string) bool { return principal == "admin" }

// TestTrafficControlsOnTheWire sends the four extension operations, signed, through the real gateway: each is
// authorized as codedeploy:<Operation> on the deployment's group (an operator allowed to pause may not promote; a
// reader may do neither), reaches the Backend with the caller's principal, answers {} and spells the domain's
// refusals as CodeDeploy's JSON errors.
func TestTrafficControlsOnTheWire(t *testing.T) {
	f := newFake()
	quiet := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(&gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: hookCredentials{
			"AKIDADMIN":  {AccessKeyID: "AKIDADMIN", SecretAccessKey: "s1", Principal: "admin"},
			"AKIDOPS":    {AccessKeyID: "AKIDOPS", SecretAccessKey: "s2", Principal: "ops"},
			"AKIDREADER": {AccessKeyID: "AKIDREADER", SecretAccessKey: "s3", Principal: "reader"},
		}},
		Services: map[string]http.Handler{"codedeploy": codedeployapi.New(f, quiet, codedeployapi.WithAccount(acct))},
		Authorizer: actionAuthorizer{
			"ops":    {"codedeploy:PauseDeployment", "codedeploy:ResumeDeployment", "codedeploy:SkipWaitTime"},
			"reader": {"codedeploy:GetDeployment"},
		},
		Region: acct.Region,
		Log:    quiet,
	})
	defer srv.Close()
	group := "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:orders/orders-live"
	for _, tc := range []struct {
		name, key, op, id string
		status            int
		code, message     string // the error expected ("": 200 {})
		calls             []call
	}{
		{name: "pause by an operator", key: "AKIDOPS", op: "PauseDeployment", id: idInProgress, status: 200,
			calls: []call{{"GetDeployment", idInProgress}, {"PauseDeployment", controlArgs{idInProgress, "ops"}}}},
		{name: "skip by an operator", key: "AKIDOPS", op: "SkipWaitTime", id: idInProgress, status: 200,
			calls: []call{{"GetDeployment", idInProgress}, {"SkipWaitTime", controlArgs{idInProgress, "ops"}}}},
		{name: "promote by an operator who may not", key: "AKIDOPS", op: "PromoteDeployment", id: idInProgress, status: 400,
			code: "AccessDeniedException", message: "User: ops is not authorized to perform: codedeploy:PromoteDeployment on resource: " + group,
			calls: []call{{"GetDeployment", idInProgress}}},
		{name: "pause by a reader", key: "AKIDREADER", op: "PauseDeployment", id: idInProgress, status: 400,
			code: "AccessDeniedException", message: "User: reader is not authorized to perform: codedeploy:PauseDeployment on resource: " + group,
			calls: []call{{"GetDeployment", idInProgress}}},
		{name: "promote by the root", key: "AKIDADMIN", op: "PromoteDeployment", id: idInProgress, status: 200,
			calls: []call{{"PromoteDeployment", controlArgs{idInProgress, "admin"}}}},
		{name: "resume what is not paused", key: "AKIDADMIN", op: "ResumeDeployment", id: idInProgress, status: 400,
			code: "InvalidDeploymentStatusException", message: "Deployment " + idInProgress + " is not paused.",
			calls: []call{{"ResumeDeployment", controlArgs{idInProgress, "admin"}}}},
		{name: "pause a finished deployment", key: "AKIDADMIN", op: "PauseDeployment", id: idSucceeded, status: 400,
			code: "DeploymentAlreadyCompletedException", message: "Deployment " + idSucceeded + " has already completed.",
			calls: []call{{"PauseDeployment", controlArgs{idSucceeded, "admin"}}}},
		{name: "an ID of the wrong shape", key: "AKIDADMIN", op: "SkipWaitTime", id: "d-nope", status: 400,
			code: "InvalidDeploymentIdException", message: "Specified DeploymentId is not in the valid format: d-nope"},
		{name: "no ID", key: "AKIDADMIN", op: "PromoteDeployment", status: 400,
			code: "DeploymentIdRequiredException", message: "At least one deployment ID must be specified."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := map[string]string{"AKIDADMIN": "s1", "AKIDOPS": "s2", "AKIDREADER": "s3"}[tc.key]
			cfg := aws.Config{Region: acct.Region, BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider(tc.key, secret, "")}
			body := []byte("{}")
			if tc.id != "" {
				body = []byte(fmt.Sprintf(`{"deploymentId":%q}`, tc.id))
			}
			f.takeCalls()
			resp, err := awsraw.Do(t.Context(), cfg, "codedeploy", http.MethodPost, "/", map[string]string{
				"X-Amz-Target": "CodeDeploy_20141006." + tc.op, "Content-Type": "application/x-amz-json-1.1"}, body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.status {
				t.Fatalf("status %d %s, want %d", resp.Status, resp.Body, tc.status)
			}
			var doc struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(resp.Body, &doc); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			if tc.code == "" && strings.TrimSpace(string(resp.Body)) != "{}" {
				t.Fatalf("body %s, want {}", resp.Body)
			}
			if doc.Type != tc.code || !strings.Contains(doc.Message, tc.message) {
				t.Fatalf("error %s %q, want %s %q", doc.Type, doc.Message, tc.code, tc.message)
			}
			if got := f.takeCalls(); !reflect.DeepEqual(got, tc.calls) {
				t.Fatalf("backend calls %+v, want %+v", got, tc.calls)
			}
		})
	}
}
