package codedeployapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/api/codedeployapi"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// hookAuthorizer lets the role "reporter" report hook statuses and nobody else but the unrestricted "admin".
type hookAuthorizer struct{}

func (hookAuthorizer) Authorize(_ context.Context, principal, _, action, resource string) error {
	if principal == "reporter" {
		return nil
	}
	return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
}

func (hookAuthorizer) Unrestricted(principal string) bool { return principal == "admin" }

type hookCredentials map[string]sigv4.Credential

func (c hookCredentials) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	if cred, ok := c[id]; ok {
		return cred, nil
	}
	return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
}

// TestDeniedHookReportIsToldToTheBackend runs the edge behind the real gateway: a hook whose role may not call
// PutLifecycleEventHookExecutionStatus gets AccessDeniedException, and the refusal is handed to the Backend
// (NoteHookReportDenied) so that the deployment can say why its hook will time out. Callers who may report are
// not noted, and an unrestricted caller costs no deployment lookup.
func TestDeniedHookReportIsToldToTheBackend(t *testing.T) {
	f := newFake()
	quiet := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(&gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: hookCredentials{
			"AKIDADMIN":    {AccessKeyID: "AKIDADMIN", SecretAccessKey: "s1", Principal: "admin"},
			"AKIDREPORTER": {AccessKeyID: "AKIDREPORTER", SecretAccessKey: "s2", Principal: "reporter"},
			"AKIDHOOK":     {AccessKeyID: "AKIDHOOK", SecretAccessKey: "s3", Principal: "hook"},
		}},
		Services:   map[string]http.Handler{"codedeploy": codedeployapi.New(f, quiet, codedeployapi.WithAccount(acct))},
		Authorizer: hookAuthorizer{},
		Region:     acct.Region,
		Log:        quiet,
	})
	defer srv.Close()
	group := "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:orders/orders-live"
	denied := "User: hook is not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus on resource: " + group
	report := hookArgs{idHook, hookExecution, "Succeeded"}
	for _, tc := range []struct {
		name, key, secret string
		denied            bool
		calls             []call
	}{
		{name: "unrestricted", key: "AKIDADMIN", secret: "s1", calls: []call{{"PutLifecycleEventHookExecutionStatus", report}}},
		{name: "allowed", key: "AKIDREPORTER", secret: "s2",
			calls: []call{{"GetDeployment", idHook}, {"PutLifecycleEventHookExecutionStatus", report}}},
		{name: "denied", key: "AKIDHOOK", secret: "s3", denied: true,
			calls: []call{{"GetDeployment", idHook}, {"NoteHookReportDenied", hookArgs{idHook, hookExecution, denied}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := codedeploy.NewFromConfig(aws.Config{Region: acct.Region, BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider(tc.key, tc.secret, "")})
			f.takeCalls()
			_, err := client.PutLifecycleEventHookExecutionStatus(t.Context(), &codedeploy.PutLifecycleEventHookExecutionStatusInput{
				DeploymentId: aws.String(idHook), LifecycleEventHookExecutionId: aws.String(hookExecution), Status: types.LifecycleEventStatusSucceeded})
			var ae smithy.APIError
			if got := errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException"; got != tc.denied || err != nil && !tc.denied {
				t.Fatalf("err = %v, want denied %v", err, tc.denied)
			}
			if tc.denied && !strings.Contains(err.Error(), denied) {
				t.Fatalf("err = %v, want it to say %q", err, denied)
			}
			if got := f.takeCalls(); !reflect.DeepEqual(got, tc.calls) {
				t.Fatalf("backend calls %+v, want %+v", got, tc.calls)
			}
		})
	}
}
