package edge_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/sluice-dev/sluice/internal/api/edge"
	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/api/wire"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

const region = "us-east-1"

var signTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// echoInput is the input shape of the test operations; its members spell the same in every protocol.
type echoInput struct {
	Name  *string
	Count *int
}

type echoOutput struct{ Name string }

// echo answers its name back; the names "missing" and "broken" fail with a fault and with a plain error.
func echo(_ context.Context, in *echoInput) (*echoOutput, error) {
	switch name := deref(in.Name); name {
	case "missing":
		return nil, fault.New("NoSuchThing", "The thing %s does not exist.", name)
	case "broken":
		return nil, errors.New("disk on fire")
	default:
		return &echoOutput{Name: name}, nil
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// checked names its resource from the decoded input after checking it, as IAM does: a missing name is a
// validation error, whoever calls.
func checked(_ context.Context, in *echoInput) (string, error) {
	if in.Name == nil {
		return "", fault.New("ValidationError", "Name is required.")
	}
	return "arn:test:thing/" + *in.Name, nil
}

// wireService is a service of package wire's protocols (as CloudWatch is).
var wireService = &wire.Service{TargetPrefix: "TestService", ShapeNamespace: "com.test", Version: "2026-12-01",
	XMLNamespace: "https://test.example/doc/2026-12-01/"}

// protocols are the four protocols a Handler serves, each with how a client sends an operation and reads an
// error's code.
var protocols = []struct {
	name  string
	json  bool // edge.JSON11 rather than package wire's protocols
	build func(op string, in map[string]any) (path string, header http.Header, body []byte)
	code  func(resp *http.Response, body []byte) string
}{
	{
		name: "awsJson1_1", json: true,
		build: func(op string, in map[string]any) (string, http.Header, []byte) {
			b, _ := json.Marshal(in)
			return "/", http.Header{"X-Amz-Target": {"Test_20261201." + op}, "Content-Type": {"application/x-amz-json-1.1"}}, b
		},
		code: func(resp *http.Response, _ []byte) string { return resp.Header.Get("x-amzn-ErrorType") },
	},
	{
		name: "awsJson1_0",
		build: func(op string, in map[string]any) (string, http.Header, []byte) {
			b, _ := json.Marshal(in)
			return "/", http.Header{"X-Amz-Target": {"TestService." + op}, "Content-Type": {"application/x-amz-json-1.0"}}, b
		},
		code: queryErrorCode,
	},
	{
		name: "rpcv2Cbor",
		build: func(op string, in map[string]any) (string, http.Header, []byte) {
			b, _ := cbor.Marshal(in)
			return "/service/TestService/operation/" + op, http.Header{"Smithy-Protocol": {"rpc-v2-cbor"}, "Content-Type": {"application/cbor"}}, b
		},
		code: queryErrorCode,
	},
	{
		name: "awsQuery",
		build: func(op string, in map[string]any) (string, http.Header, []byte) {
			form := "Action=" + op + "&Version=2026-12-01"
			for k, v := range in {
				b, _ := json.Marshal(v)
				form += "&" + k + "=" + strings.Trim(string(b), `"`)
			}
			return "/", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form)
		},
		code: func(_ *http.Response, body []byte) string {
			var e struct {
				Error struct{ Code string }
			}
			xml.Unmarshal(body, &e)
			return e.Error.Code
		},
	},
}

func queryErrorCode(resp *http.Response, _ []byte) string {
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Query-Error"), ";")
	return code
}

// authorizer lets "admin" do anything and everyone else anything but act on resources ending in "denied"; it
// records what it was asked.
type authorizer struct {
	mu    sync.Mutex
	asked []string
}

func (a *authorizer) Authorize(_ context.Context, principal, _, action, resource string) error {
	a.mu.Lock()
	a.asked = append(a.asked, action+" "+resource)
	a.mu.Unlock()
	if strings.HasSuffix(resource, "denied") {
		return fault.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", principal, action, resource)
	}
	return nil
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

// newEdge is a test service's handler in the JSON 1.1 protocol or in package wire's: Echo and Checked (which
// names its resource with ResourceOf), both echo; resourceCalls counts Service.Resource's calls.
func newEdge(json bool, resourceCalls *int) *edge.Handler {
	svc := edge.Service{
		IAMPrefix: "test",
		Protocol:  wireService.Detect,
		Resource: func(req edge.Request) string {
			*resourceCalls++
			var in echoInput
			if req.Protocol.Decode(req.HTTP, req.Body, &in) != nil {
				return "*"
			}
			return "arn:test:thing/" + deref(in.Name)
		},
		Error: edge.ByStatus(map[string]int{"NoSuchThing": 404, "InternalFailure": 500},
			map[string]int{"AccessDenied": 403, "MissingAuthenticationToken": 403, "NoSuchThing": 410}),
		InternalCode: "InternalFailure",
		Unsigned:     fault.New("MissingAuthenticationToken", "Request is missing Authentication Token"),
		Log:          slog.New(slog.DiscardHandler),
	}
	if json {
		proto := edge.JSON11{TargetPrefix: "Test_20261201.", InternalCode: "InternalFailure"}
		svc.Protocol = func(*http.Request) wire.Protocol { return proto }
		svc.AccessDenied = "AccessDeniedException"
	}
	return edge.New(svc, edge.Op("Echo", echo), edge.Op("Checked", echo, edge.ResourceOf(checked)),
		edge.Op("Open", echo).AllowUnsigned())
}

// TestHandler runs each protocol's handler behind the real gateway, signed as a limited caller: the middleware
// answers unknown operations, refusals, undecodable inputs and handler errors in the request's protocol, with
// the service's codes, and asks the authorizer about the declared action and resource.
func TestHandler(t *testing.T) {
	az := &authorizer{}
	tests := []struct {
		name      string
		op        string
		in        map[string]any
		status    int
		code      string // "" for a success; per protocol below where they differ
		codeQuery string
		codeJSON  string
		statusFor map[string]int // status by protocol, where it differs
		asked     string         // what the authorizer is asked ("" : nothing)
	}{
		{name: "success", op: "Echo", in: map[string]any{"Name": "orders"}, status: 200, asked: "test:Echo arn:test:thing/orders"},
		{name: "unknown operation", op: "Nope", in: map[string]any{}, status: 400, code: "UnknownOperationException",
			codeQuery: "InvalidAction", statusFor: map[string]int{"rpcv2Cbor": 404}},
		{name: "denied", op: "Echo", in: map[string]any{"Name": "denied"}, status: 403, code: "AccessDenied",
			codeJSON: "AccessDeniedException", statusFor: map[string]int{"awsJson1_1": 400}, asked: "test:Echo arn:test:thing/denied"},
		{name: "undecodable input", op: "Echo", in: map[string]any{"Name": "orders", "Count": "many"}, status: 400,
			code: "SerializationException", codeQuery: "InvalidParameterValue", asked: "test:Echo *"}, // authorized before decoding: the raw request names no resource
		{name: "handler fault", op: "Echo", in: map[string]any{"Name": "missing"}, status: 404, code: "NoSuchThing",
			asked: "test:Echo arn:test:thing/missing"},
		{name: "internal error", op: "Echo", in: map[string]any{"Name": "broken"}, status: 500, code: "InternalFailure",
			asked: "test:Echo arn:test:thing/broken"},
		{name: "checked before authorization", op: "Checked", in: map[string]any{}, status: 400, code: "ValidationError"},
		{name: "checked, then denied", op: "Checked", in: map[string]any{"Name": "denied"}, status: 403, code: "AccessDenied",
			codeJSON: "AccessDeniedException", statusFor: map[string]int{"awsJson1_1": 400}, asked: "test:Checked arn:test:thing/denied"},
		{name: "checked, then allowed", op: "Checked", in: map[string]any{"Name": "orders"}, status: 200, asked: "test:Checked arn:test:thing/orders"},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			var resourceCalls int
			srv := httptest.NewServer(&gateway.Gateway{
				Verifier: &sigv4.Verifier{Now: func() time.Time { return signTime }, Credentials: credentialSource{
					"AKIDADMIN":   {AccessKeyID: "AKIDADMIN", SecretAccessKey: "s1", Principal: "admin"},
					"AKIDLIMITED": {AccessKeyID: "AKIDLIMITED", SecretAccessKey: "s2", Principal: "arn:aws:iam::123456789012:role/limited"},
				}},
				Services:   map[string]http.Handler{"test": newEdge(p.json, &resourceCalls)},
				Authorizer: az,
				Region:     region,
				Log:        slog.New(slog.DiscardHandler),
			})
			defer srv.Close()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					path, header, body := p.build(tt.op, tt.in)
					resp, got := send(t, srv.URL+path, header, body, "AKIDLIMITED", "s2")
					status, code := tt.status, tt.code
					if s, ok := tt.statusFor[p.name]; ok {
						status = s
					}
					switch {
					case p.name == "awsQuery" && tt.codeQuery != "":
						code = tt.codeQuery
					case p.json && tt.codeJSON != "":
						code = tt.codeJSON
					}
					if resp.StatusCode != status {
						t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, status, got)
					}
					if code != "" {
						if c := p.code(resp, got); c != code {
							t.Errorf("error code %q, want %q: %s", c, code, got)
						}
					} else if !bytes.Contains(got, []byte("orders")) {
						t.Errorf("response does not carry the name: %s", got)
					}
					if asked := az.take(); strings.Join(asked, ",") != tt.asked {
						t.Errorf("authorizer asked %q, want %q", asked, tt.asked)
					}
				})
			}
			t.Run("unrestricted caller", func(t *testing.T) {
				resourceCalls = 0
				path, header, body := p.build("Echo", map[string]any{"Name": "denied"})
				if resp, got := send(t, srv.URL+path, header, body, "AKIDADMIN", "s1"); resp.StatusCode != 200 {
					t.Errorf("HTTP %d: %s", resp.StatusCode, got)
				}
				if asked := az.take(); len(asked) != 0 || resourceCalls != 0 {
					t.Errorf("the account root was checked (%v) or its resource worked out (%d times)", asked, resourceCalls)
				}
			})
		})
	}
}

// send signs and sends one request, and returns the response and its body.
func send(t *testing.T, url string, header http.Header, body []byte, id, secret string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "test", region, signTime); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got
}

// TestUnsigned: served on its own (no gateway, so no identity), the handler refuses operations that need a
// signature with Service.Unsigned, in the request's protocol, and serves those declared AllowUnsigned.
func TestUnsigned(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			var resourceCalls int
			h := newEdge(p.json, &resourceCalls)
			for _, tt := range []struct {
				op     string
				status int
				code   string
			}{{"Echo", 403, "MissingAuthenticationToken"}, {"Open", 200, ""}} {
				path, header, body := p.build(tt.op, map[string]any{"Name": "orders"})
				r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
				r.Header = header
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				resp := w.Result()
				if resp.StatusCode != tt.status || (tt.code != "" && p.code(resp, w.Body.Bytes()) != tt.code) {
					t.Errorf("%s: HTTP %d %s, want %d %s", tt.op, resp.StatusCode, w.Body, tt.status, tt.code)
				}
				if resp.Header.Get("x-amzn-RequestId") == "" {
					t.Errorf("%s: no request ID", tt.op)
				}
			}
		})
	}
}

// TestWriteAuthError: the gateway's refusals are written in the request's protocol with the service's spelling
// of the code.
func TestWriteAuthError(t *testing.T) {
	svc := edge.Service{Protocol: wireService.Detect, AuthCodes: map[string]string{"InvalidSignatureException": "SignatureDoesNotMatch"},
		Log: slog.New(slog.DiscardHandler)}
	h := edge.New(svc)
	for _, p := range protocols[1:] {
		path, header, body := p.build("Echo", map[string]any{})
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header = header
		w := httptest.NewRecorder()
		h.WriteAuthError(w, r, "InvalidSignatureException", 403, "Signature expired")
		if resp := w.Result(); resp.StatusCode != 403 || p.code(resp, w.Body.Bytes()) != "SignatureDoesNotMatch" {
			t.Errorf("%s: HTTP %d %s", p.name, resp.StatusCode, w.Body)
		}
	}
}

// TestDeclaredTwice: an operation table with a name twice is a programming error caught at start-up.
func TestDeclaredTwice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	edge.New(edge.Service{}, edge.Op("Echo", echo), edge.OpNoOutput("Echo", func(context.Context, *echoInput) error { return nil }))
}
