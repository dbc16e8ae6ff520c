package stackapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/stackapi"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

const target = stackapi.TargetPrefix

var (
	acct  = lambda.Account{Region: "eu-west-1", ID: "123456789012"}
	epoch = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	quiet = slog.New(slog.DiscardHandler)
)

// newStore opens a stack store on a fresh bbolt file; every record it writes is stamped epoch.
func newStore(t *testing.T) stack.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return stack.NewStore(db, stack.WithClock(func() time.Time { return epoch }))
}

// newServer serves the handler directly (no gateway: every call is allowed).
func newServer(t *testing.T, s stack.Store) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(stackapi.New(s, acct, quiet, nil))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   any
	raw    string
}

// post sends one JSON 1.1 request as a client would, unsigned.
func post(t *testing.T, url, target string, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", stackapi.ContentType)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return r
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("want %q: %v", s, err)
	}
	return v
}

// TestOperations walks one stack through its life; each step sees the state the previous ones left.
func TestOperations(t *testing.T) {
	srv := newServer(t, newStore(t))
	const created = `"created":"2026-11-26T09:00:00Z","updated":"2026-11-26T09:00:00Z"`
	for _, step := range []struct {
		name, op, body string
		status         int
		want           string
	}{
		{"list none", "ListStacks", `{}`, 200, `{"Stacks":[]}`},
		{"list with an empty body", "ListStacks", ``, 200, `{"Stacks":[]}`},
		{"create", "PutStack",
			`{"Stack":{"name":"orders","revision":0,"status":"CREATE_IN_PROGRESS","owner":"ci-7","resources":{}}}`, 200,
			`{"Stack":{"name":"orders","revision":1,"status":"CREATE_IN_PROGRESS","owner":"ci-7","resources":{},` + created + `}}`},
		{"get", "GetStack", `{"StackName":"orders"}`, 200,
			`{"Stack":{"name":"orders","revision":1,"status":"CREATE_IN_PROGRESS","owner":"ci-7","resources":{},` + created + `}}`},
		{"update", "PutStack",
			`{"Stack":{"name":"orders","revision":1,"status":"CREATE_COMPLETE","templateSha256":"ab12",` +
				`"resources":{"Fn":{"type":"AWS::Lambda::Function","physicalId":"orders-Fn","properties":{"MemorySize":256},"attributes":{"Arn":"arn:aws:lambda:eu-west-1:123456789012:function:orders-Fn"}}},` +
				`"outputs":{"Url":"http://x"},"deployments":{"FnAliaslive":"d-1"}}}`, 200,
			`{"Stack":{"name":"orders","revision":2,"status":"CREATE_COMPLETE","templateSha256":"ab12",` +
				`"resources":{"Fn":{"type":"AWS::Lambda::Function","physicalId":"orders-Fn","properties":{"MemorySize":256},"attributes":{"Arn":"arn:aws:lambda:eu-west-1:123456789012:function:orders-Fn"}}},` +
				`"outputs":{"Url":"http://x"},` + created + `,"deployments":{"FnAliaslive":"d-1"}}}`},
		{"what the CloudFormation API keeps cannot be put here", "PutStack",
			`{"Stack":{"name":"orders","revision":2,"status":"CREATE_COMPLETE","resources":{},"outputs":{"Url":"http://x"},"deployments":{"FnAliaslive":"d-1"},` +
				`"api":{"id":"x","roleArn":"arn:aws:iam::123456789012:role/admin"},"operation":{"id":"o","kind":"delete","principal":"arn:aws:iam::123456789012:root"}}}`, 200,
			`{"Stack":{"name":"orders","revision":3,"status":"CREATE_COMPLETE","resources":{},"outputs":{"Url":"http://x"},` + created + `,"deployments":{"FnAliaslive":"d-1"}}}`},
		{"list one", "ListStacks", `{}`, 200,
			`{"Stacks":[{"name":"orders","status":"CREATE_COMPLETE","updated":"2026-11-26T09:00:00Z","resources":0}]}`},
		{"stale put", "PutStack", `{"Stack":{"name":"orders","revision":1,"status":"UPDATE_IN_PROGRESS","resources":{}}}`, 400,
			`{"__type":"RevisionConflictException","message":"Stack orders was changed by another deploy (revision 3, expected 1)"}`},
		{"stale delete", "DeleteStack", `{"StackName":"orders","Revision":1}`, 400,
			`{"__type":"RevisionConflictException","message":"Stack orders was changed by another deploy (revision 3, expected 1)"}`},
		{"delete", "DeleteStack", `{"StackName":"orders","Revision":3}`, 200, `{}`},
		{"get deleted", "GetStack", `{"StackName":"orders"}`, 400,
			`{"__type":"StackNotFoundException","message":"Stack with id orders does not exist"}`},
		{"delete deleted", "DeleteStack", `{"StackName":"orders","Revision":3}`, 400,
			`{"__type":"StackNotFoundException","message":"Stack with id orders does not exist"}`},
		{"put deleted", "PutStack", `{"Stack":{"name":"orders","revision":3,"status":"UPDATE_IN_PROGRESS","resources":{}}}`, 400,
			`{"__type":"RevisionConflictException","message":"Stack orders was deleted by another deploy (expected revision 3)"}`},
		{"list after delete", "ListStacks", `{}`, 200, `{"Stacks":[]}`},
	} {
		r := post(t, srv.URL, target+step.op, step.body)
		if r.status != step.status || !reflect.DeepEqual(r.body, decode(t, step.want)) {
			t.Errorf("%s: got %d %s\nwant %d %s", step.name, r.status, r.raw, step.status, step.want)
		}
		if ct := r.header.Get("Content-Type"); ct != stackapi.ContentType {
			t.Errorf("%s: Content-Type %q", step.name, ct)
		}
		if r.header.Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: no x-amzn-RequestId", step.name)
		}
		if code, _ := r.body.(map[string]any)["__type"].(string); r.header.Get("x-amzn-ErrorType") != code {
			t.Errorf("%s: x-amzn-ErrorType %q, body __type %q", step.name, r.header.Get("x-amzn-ErrorType"), code)
		}
	}
}

func TestErrors(t *testing.T) {
	srv := newServer(t, newStore(t))
	long := "a" + strings.Repeat("b", 128)
	for _, tc := range []struct {
		name, target, body string
		code, message      string
	}{
		{"unknown operation", target + "DescribeStacks", `{}`, "UnknownOperationException", "Unknown operation SluiceStacks_20261126.DescribeStacks"},
		{"other service's target", "CodeDeploy_20141006.ListApplications", `{}`, "UnknownOperationException", "Unknown operation CodeDeploy_20141006.ListApplications"},
		{"no target", "", `{}`, "UnknownOperationException", "Unknown operation POST /"},
		{"not JSON", target + "GetStack", `{"StackName":`, "SerializationException", "Request body is not valid JSON: unexpected end of JSON input"},
		{"wrong type", target + "DeleteStack", `{"StackName":"orders","Revision":"7"}`, "SerializationException", "Cannot deserialize value of Revision: expected int64, got string"},
		{"record of the wrong type", target + "PutStack", `{"Stack":[]}`, "SerializationException", "Cannot deserialize value of Stack: expected stack.Stack, got array"},
		{"name missing", target + "GetStack", `{}`, "ValidationException", "1 validation error detected: Value null at 'StackName' failed to satisfy constraint: Member must not be null"},
		{"name with a slash", target + "GetStack", `{"StackName":"orders/x"}`, "ValidationException", "1 validation error detected: Value 'orders/x' at 'StackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"},
		{"name starting with a digit", target + "DeleteStack", `{"StackName":"1orders","Revision":1}`, "ValidationException", "1 validation error detected: Value '1orders' at 'StackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"},
		{"name with an underscore", target + "PutStack", `{"Stack":{"name":"my_stack","resources":{}}}`, "ValidationException", "1 validation error detected: Value 'my_stack' at 'Stack.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"},
		{"name too long", target + "GetStack", `{"StackName":"` + long + `"}`, "ValidationException", "1 validation error detected: Value '" + long + "' at 'StackName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"record missing", target + "PutStack", `{}`, "ValidationException", "1 validation error detected: Value null at 'Stack' failed to satisfy constraint: Member must not be null"},
		{"record null", target + "PutStack", `{"Stack":null}`, "ValidationException", "1 validation error detected: Value null at 'Stack' failed to satisfy constraint: Member must not be null"},
		{"negative revision", target + "PutStack", `{"Stack":{"name":"orders","revision":-1}}`, "ValidationException", "1 validation error detected: Value -1 at 'Stack.revision' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"missing stack", target + "GetStack", `{"StackName":"nope"}`, "StackNotFoundException", "Stack with id nope does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv.URL, tc.target, tc.body)
			want := map[string]any{"__type": tc.code, "message": tc.message}
			if r.status != 400 || !reflect.DeepEqual(r.body, want) || r.header.Get("x-amzn-ErrorType") != tc.code {
				t.Errorf("got %d %s %v\nwant 400 %v", r.status, r.header.Get("x-amzn-ErrorType"), r.body, want)
			}
		})
	}
	t.Run("name of 128 characters", func(t *testing.T) {
		name := long[:128]
		if r := post(t, srv.URL, target+"GetStack", `{"StackName":"`+name+`"}`); r.body.(map[string]any)["__type"] != "StackNotFoundException" {
			t.Errorf("got %d %s", r.status, r.raw)
		}
	})
	t.Run("GET", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/", nil)
		req.Header.Set("X-Amz-Target", target+"ListStacks")
		if r := do(t, req); r.status != 400 || r.body.(map[string]any)["__type"] != "UnknownOperationException" {
			t.Errorf("got %d %s", r.status, r.raw)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		body := `{"Stack":{"name":"big","resources":{},"reason":"` + strings.Repeat("x", stackapi.MaxBodyBytes) + `"}}`
		r := post(t, srv.URL, target+"PutStack", body)
		want := map[string]any{"__type": "ValidationException", "message": "Request must be smaller than 16777216 bytes for the PutStack operation"}
		if r.status != 400 || !reflect.DeepEqual(r.body, want) {
			t.Errorf("got %d %v", r.status, r.body)
		}
	})
}

// failing is a store whose every call fails the way a broken disk would.
type failing struct{}

var errDisk = errors.New("input/output error")

func (failing) Get(context.Context, string) (stack.Stack, error)      { return stack.Stack{}, errDisk }
func (failing) Put(context.Context, stack.Stack) (stack.Stack, error) { return stack.Stack{}, errDisk }
func (failing) Delete(context.Context, string, int64) error           { return errDisk }
func (failing) List(context.Context) ([]stack.Summary, error)         { return nil, errDisk }

func TestInternalFailure(t *testing.T) {
	var logs bytes.Buffer
	srv := httptest.NewServer(stackapi.New(failing{}, acct, slog.New(slog.NewTextHandler(&logs, nil)), nil))
	defer srv.Close()
	for _, tc := range []struct{ op, body string }{
		{"GetStack", `{"StackName":"orders"}`},
		{"PutStack", `{"Stack":{"name":"orders"}}`},
		{"DeleteStack", `{"StackName":"orders","Revision":1}`},
		{"ListStacks", `{}`},
	} {
		r := post(t, srv.URL, target+tc.op, tc.body)
		id := r.header.Get("x-amzn-RequestId")
		want := map[string]any{"__type": "InternalFailure", "message": "An internal error occurred. Request ID: " + id}
		if r.status != 500 || id == "" || !reflect.DeepEqual(r.body, want) {
			t.Errorf("%s: got %d %v, want 500 %v", tc.op, r.status, r.body, want)
		}
	}
	if !strings.Contains(logs.String(), "input/output error") {
		t.Errorf("the cause was not logged: %s", logs.String())
	}
}

// authorizer lets the principal "admin" do anything and everyone else only what allow says; it records what it
// was asked.
type authorizer struct {
	mu    sync.Mutex
	asked []string
	allow func(action, resource string) bool
}

func (a *authorizer) Authorize(_ context.Context, principal, _, action, resource string) error {
	a.mu.Lock()
	a.asked = append(a.asked, action+" "+resource)
	a.mu.Unlock()
	if a.allow(action, resource) {
		return nil
	}
	return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
}

func (a *authorizer) Unrestricted(principal string) bool { return principal == "admin" }

func (a *authorizer) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.asked
	a.asked = nil
	return out
}

type credentialSource map[string]sigv4.Credential

func (c credentialSource) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	if cred, ok := c[id]; ok {
		return cred, nil
	}
	return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
}

// TestAuthorization runs the handler behind the real gateway, signed by stack.Client: every operation is
// authorized as sluice:<Operation> on the stack's ARN, and a refusal is an AccessDeniedException.
func TestAuthorization(t *testing.T) {
	const deployer = "arn:aws:iam::123456789012:role/deployer"
	az := &authorizer{allow: func(action, resource string) bool { return !strings.HasSuffix(resource, ":stack/secret") }}
	gw := &gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: credentialSource{
			"AKIDADMIN":    {AccessKeyID: "AKIDADMIN", SecretAccessKey: "s1", Principal: "admin"},
			"AKIDDEPLOYER": {AccessKeyID: "AKIDDEPLOYER", SecretAccessKey: "s2", Principal: deployer},
		}},
		Services:   map[string]http.Handler{"sluice": stackapi.New(newStore(t), acct, quiet, nil)},
		Authorizer: az,
		Region:     acct.Region,
		Log:        quiet,
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	client := func(id, secret string) *stack.Client {
		return stack.NewClient(aws.Config{Region: acct.Region, BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	admin, dep := client("AKIDADMIN", "s1"), client("AKIDDEPLOYER", "s2")
	ctx := t.Context()
	for _, name := range []string{"orders", "secret"} {
		if _, err := admin.Put(ctx, stack.Stack{Name: name, Status: stack.StatusCreateComplete}); err != nil {
			t.Fatal(err)
		}
	}
	if asked := az.take(); len(asked) != 0 {
		t.Fatalf("an unrestricted caller was checked: %v", asked)
	}

	arn := "arn:aws:sluice:eu-west-1:123456789012:stack/"
	for _, tc := range []struct {
		name   string
		call   func() error
		asked  string
		denied bool
	}{
		{"GetStack", func() error { _, err := dep.Get(ctx, "orders"); return err }, "sluice:GetStack " + arn + "orders", false},
		{"PutStack", func() error {
			_, err := dep.Put(ctx, stack.Stack{Name: "orders", Revision: 1, Status: stack.StatusUpdateComplete})
			return err
		}, "sluice:PutStack " + arn + "orders", false},
		{"ListStacks", func() error { _, err := dep.List(ctx); return err }, "sluice:ListStacks *", false},
		{"DeleteStack", func() error { return dep.Delete(ctx, "orders", 2) }, "sluice:DeleteStack " + arn + "orders", false},
		{"GetStack denied", func() error { _, err := dep.Get(ctx, "secret"); return err }, "sluice:GetStack " + arn + "secret", true},
		{"PutStack denied", func() error {
			_, err := dep.Put(ctx, stack.Stack{Name: "secret", Revision: 1})
			return err
		}, "sluice:PutStack " + arn + "secret", true},
		{"DeleteStack denied", func() error { return dep.Delete(ctx, "secret", 1) }, "sluice:DeleteStack " + arn + "secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if asked := az.take(); !reflect.DeepEqual(asked, []string{tc.asked}) {
				t.Errorf("authorizer asked %q, want %q", asked, tc.asked)
			}
			if !tc.denied {
				if err != nil {
					t.Errorf("allowed call failed: %v", err)
				}
				return
			}
			var ae *stack.APIError
			wantMsg := fmt.Sprintf("User: %s is not authorized to perform: %s", deployer, strings.Replace(tc.asked, " ", " on resource: ", 1))
			if !errors.As(err, &ae) || ae.Code != "AccessDeniedException" || ae.Status != 400 || ae.Message != wantMsg {
				t.Errorf("got %#v, want AccessDeniedException %q", err, wantMsg)
			}
		})
	}
	if _, err := admin.Get(ctx, "secret"); err != nil {
		t.Errorf("a denied call changed the stack: %v", err)
	}
}

// TestWriteAuthError: what the gateway sends a caller it could not authenticate is a JSON 1.1 error.
func TestWriteAuthError(t *testing.T) {
	h := stackapi.New(newStore(t), acct, quiet, nil)
	w := httptest.NewRecorder()
	h.WriteAuthError(w, httptest.NewRequest(http.MethodPost, "/", nil), "InvalidSignatureException", 403, "Signature expired")
	want := map[string]any{"__type": "InvalidSignatureException", "message": "Signature expired"}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 403 || !reflect.DeepEqual(got, want) ||
		w.Header().Get("Content-Type") != stackapi.ContentType || w.Header().Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
}
