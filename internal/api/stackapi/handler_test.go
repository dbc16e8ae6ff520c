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
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/stackapi"
	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
	"github.com/sluice-dev/sluice/internal/stack"
)

const target = stackapi.TargetPrefix

var (
	quiet   = slog.New(slog.DiscardHandler)
	status  = cluster.Status{Mode: "single", Nodes: []cluster.NodeStatus{{Node: cluster.Node{Name: "n1", URL: "http://n1"}, InFlight: 2}}}
	errDisk = errors.New("input/output error")
)

func describe(context.Context) (cluster.Status, error) { return status, nil }

// newServer serves the handler directly (no gateway: every call is allowed).
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(stackapi.New(quiet, describe))
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

// TestDescribeCluster: the cluster's status, whole, in the JSON 1.1 envelope.
func TestDescribeCluster(t *testing.T) {
	srv := newServer(t)
	for _, body := range []string{`{}`, ``} {
		r := post(t, srv.URL, target+"DescribeCluster", body)
		want, _ := json.Marshal(struct{ Cluster cluster.Status }{status})
		if r.status != 200 || !reflect.DeepEqual(r.body, decode(t, string(want))) {
			t.Errorf("body %q: got %d %s, want 200 %s", body, r.status, r.raw, want)
		}
		if ct := r.header.Get("Content-Type"); ct != stackapi.ContentType || r.header.Get("x-amzn-RequestId") == "" {
			t.Errorf("headers %v", r.header)
		}
	}
}

// TestErrors: the stack operations are gone — stack records are the CloudFormation API's —, and a request that
// is not DescribeCluster's is refused in the protocol's words.
func TestErrors(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		name, target, body, code, message string
	}{
		{"GetStack is gone", target + "GetStack", `{"StackName":"orders"}`, "UnknownOperationException", ""},
		{"PutStack is gone", target + "PutStack", `{"Stack":{"name":"orders"}}`, "UnknownOperationException", ""},
		{"DeleteStack is gone", target + "DeleteStack", `{"StackName":"orders","Revision":1}`, "UnknownOperationException", ""},
		{"ListStacks is gone", target + "ListStacks", `{}`, "UnknownOperationException", ""},
		{"not JSON", target + "DescribeCluster", `{"x":`, "SerializationException", "Request body is not valid JSON: unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv.URL, tc.target, tc.body)
			got, _ := r.body.(map[string]any)
			if r.status != 400 || got["__type"] != tc.code || r.header.Get("x-amzn-ErrorType") != tc.code || tc.message != "" && got["message"] != tc.message {
				t.Errorf("got %d %s %s, want 400 %s %q", r.status, r.header.Get("x-amzn-ErrorType"), r.raw, tc.code, tc.message)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/", nil)
		req.Header.Set("X-Amz-Target", target+"DescribeCluster")
		if r := do(t, req); r.status != 400 || r.body.(map[string]any)["__type"] != "UnknownOperationException" {
			t.Errorf("got %d %s", r.status, r.raw)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		r := post(t, srv.URL, target+"DescribeCluster", `{"x":"`+strings.Repeat("x", stackapi.MaxBodyBytes)+`"}`)
		want := map[string]any{"__type": "ValidationException", "message": fmt.Sprintf("Request must be smaller than %d bytes for the DescribeCluster operation", stackapi.MaxBodyBytes)}
		if r.status != 400 || !reflect.DeepEqual(r.body, want) {
			t.Errorf("got %d %v", r.status, r.body)
		}
	})
}

func TestInternalFailure(t *testing.T) {
	var logs bytes.Buffer
	srv := httptest.NewServer(stackapi.New(slog.New(slog.NewTextHandler(&logs, nil)), func(context.Context) (cluster.Status, error) {
		return cluster.Status{}, errDisk
	}))
	defer srv.Close()
	r := post(t, srv.URL, target+"DescribeCluster", `{}`)
	id := r.header.Get("x-amzn-RequestId")
	want := map[string]any{"__type": "InternalFailure", "message": "An internal error occurred. Request ID: " + id}
	if r.status != 500 || id == "" || !reflect.DeepEqual(r.body, want) {
		t.Errorf("got %d %v, want 500 %v", r.status, r.body, want)
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

// TestAuthorization runs the handler behind the real gateway, signed by stack.Client: DescribeCluster is authorized
// as sluice:DescribeCluster on "*", and a refusal is an AccessDeniedException.
func TestAuthorization(t *testing.T) {
	const deployer = "arn:aws:iam::123456789012:role/deployer"
	allowed := true
	az := &authorizer{allow: func(string, string) bool { return allowed }}
	gw := &gateway.Gateway{
		Verifier: &sigv4.Verifier{Credentials: credentialSource{
			"AKIDDEPLOYER": {AccessKeyID: "AKIDDEPLOYER", SecretAccessKey: "s2", Principal: deployer},
		}},
		Services:   map[string]http.Handler{"sluice": stackapi.New(quiet, describe)},
		Authorizer: az,
		Region:     "eu-west-1",
		Log:        quiet,
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	dep := stack.NewClient(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDDEPLOYER", "s2", "")})
	for _, allow := range []bool{true, false} {
		allowed = allow
		got, err := dep.DescribeCluster(t.Context())
		if asked := az.take(); !reflect.DeepEqual(asked, []string{"sluice:DescribeCluster *"}) {
			t.Errorf("authorizer asked %q", asked)
		}
		if allow {
			if err != nil || !reflect.DeepEqual(got, status) {
				t.Errorf("allowed: %+v, %v", got, err)
			}
			continue
		}
		var ae *stack.APIError
		wantMsg := "User: " + deployer + " is not authorized to perform: sluice:DescribeCluster on resource: *"
		if !errors.As(err, &ae) || ae.Code != "AccessDeniedException" || ae.Status != 400 || ae.Message != wantMsg {
			t.Errorf("got %#v, want AccessDeniedException %q", err, wantMsg)
		}
	}
}

// TestWriteAuthError: what the gateway sends a caller it could not authenticate is a JSON 1.1 error.
func TestWriteAuthError(t *testing.T) {
	h := stackapi.New(quiet, describe)
	w := httptest.NewRecorder()
	h.WriteAuthError(w, httptest.NewRequest(http.MethodPost, "/", nil), "InvalidSignatureException", 403, "Signature expired")
	want := map[string]any{"__type": "InvalidSignatureException", "message": "Signature expired"}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 403 || !reflect.DeepEqual(got, want) ||
		w.Header().Get("Content-Type") != stackapi.ContentType || w.Header().Get("x-amzn-ErrorType") != "InvalidSignatureException" {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
}
