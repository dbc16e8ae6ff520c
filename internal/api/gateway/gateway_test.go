package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sluice-dev/sluice/internal/sigv4"
)

const (
	testKey    = "AKIDGATEWAYTEST"
	testSecret = "gateway-test-secret"
	testRegion = "us-east-1"
)

var signTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type credentialSource map[string]sigv4.Credential

func (c credentialSource) LookupCredential(_ context.Context, id string) (sigv4.Credential, error) {
	if cred, ok := c[id]; ok {
		return cred, nil
	}
	return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
}

// tripwire is a request body that fails the test if anything reads it.
type tripwire struct{ t *testing.T }

func (b tripwire) Read([]byte) (int, error) {
	b.t.Error("the request body was read")
	return 0, errors.New("tripwire: body read")
}

func (tripwire) Close() error { return nil }

// protoService stands for a service edge with an error protocol of its own (CloudWatch, CodeDeploy, STS): it
// records what the gateway asks it to write.
type protoService struct {
	http.Handler
	code    string
	status  int
	message string
}

func (s *protoService) WriteAuthError(w http.ResponseWriter, _ *http.Request, code string, status int, message string) {
	s.code, s.status, s.message = code, status, message
	w.WriteHeader(status)
}

// echo answers 200 with the body it was handed.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Write(b)
})

func newGateway(services map[string]http.Handler) *Gateway {
	return &Gateway{
		Verifier: &sigv4.Verifier{
			Credentials: credentialSource{testKey: {AccessKeyID: testKey, SecretAccessKey: testSecret, Principal: "root"}},
			Now:         func() time.Time { return signTime },
		},
		Services:       services,
		Region:         testRegion,
		GlobalServices: map[string]bool{"iam": true, "sts": true},
		Log:            slog.New(slog.DiscardHandler),
	}
}

// signed is a server-side request for target signed for service in region with the test key (header form).
func signed(t *testing.T, method, target, service, region string, body []byte) *http.Request {
	t.Helper()
	return signedAs(t, method, target, service, region, body, false)
}

// signedAs is signed, with the body sent chunked (no Content-Length) if chunked.
func signedAs(t *testing.T, method, target, service, region string, body []byte, chunked bool) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, "http://127.0.0.1:9324"+target, bytes.NewReader(body))
	if chunked {
		r.ContentLength = -1
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, region, signTime); err != nil {
		t.Fatal(err)
	}
	return r
}

// unread makes r's body a tripwire, keeping its Content-Length.
func unread(t *testing.T, r *http.Request) *http.Request {
	r.Body = tripwire{t}
	return r
}

func serve(g *Gateway, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

// restError is a REST-JSON error answer: its status, x-amzn-ErrorType and JSON body.
func restError(t *testing.T, w *httptest.ResponseRecorder) (int, string, map[string]string) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return w.Code, w.Header().Get("x-amzn-ErrorType"), body
}

// TestRefusedBeforeTheBody: everything the headers decide is decided without reading the body, and the
// connection is closed rather than the body read.
func TestRefusedBeforeTheBody(t *testing.T) {
	body := []byte(`{"payload":"` + strings.Repeat("x", 1000) + `"}`)
	const invoke = "/2015-03-31/functions/orders/invocations"
	cases := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		status  int
		code    string
		message string // substring
	}{
		{"unsigned", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, invoke, bytes.NewReader(body))
		}, 403, sigv4.CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"unknown access key", func(t *testing.T) *http.Request {
			r := signed(t, http.MethodPost, invoke, "lambda", testRegion, body)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testKey, "AKIDUNKNOWN", 1))
			return r
		}, 403, sigv4.CodeUnrecognizedClient, "security token included in the request is invalid"},
		{"outside the skew window", func(t *testing.T) *http.Request {
			r := signed(t, http.MethodPost, invoke, "lambda", testRegion, body)
			r.Header.Set("X-Amz-Date", signTime.Add(-time.Hour).Format("20060102T150405Z"))
			return r
		}, 403, sigv4.CodeInvalidSignature, "Signature expired"},
		{"another region", func(t *testing.T) *http.Request {
			return signed(t, http.MethodPost, invoke, "lambda", "eu-west-1", body)
		}, 403, sigv4.CodeInvalidSignature, "Credential should be scoped to a valid region, not 'eu-west-1'"},
		{"a service Sluice does not serve", func(t *testing.T) *http.Request {
			return signed(t, http.MethodPost, "/", "dynamodb", testRegion, body)
		}, 404, codeUnknownOperation, `Sluice does not serve the "dynamodb" service`},
		{"larger than any request AWS accepts", func(t *testing.T) *http.Request {
			r := signed(t, http.MethodPost, "/2015-03-31/functions", "lambda", testRegion, body)
			r.ContentLength = MaxRequestBytes + 1
			return r
		}, 413, "RequestEntityTooLargeException", "Request must be smaller than 70167211 bytes for the CreateFunction operation"},
		{"unclean path", func(t *testing.T) *http.Request {
			return signed(t, http.MethodPost, "/2015-03-31/functions/../../../etc/passwd", "lambda", testRegion, body)
		}, 404, codeUnknownOperation, "Unknown operation POST /2015-03-31/functions/../../../etc/passwd"},
	}
	g := newGateway(map[string]http.Handler{"lambda": echo})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(g, unread(t, tc.req(t)))
			status, code, got := restError(t, w)
			msg := got["message"] + got["Message"]
			if status != tc.status || code != tc.code || !strings.Contains(msg, tc.message) {
				t.Errorf("got %d %s %q, want %d %s containing %q", status, code, msg, tc.status, tc.code, tc.message)
			}
			if c := w.Header().Get("Connection"); c != "close" {
				t.Errorf("Connection: %q, want close (the body was not read)", c)
			}
			if n := g.inUse.Load(); n != 0 {
				t.Errorf("%d bytes of the budget still held", n)
			}
		})
	}
}

// TestServedWithTheBody: a signed request's body is read once, verified, and handed to its service; a body that
// is not the signed one is refused.
func TestServedWithTheBody(t *testing.T) {
	g := newGateway(map[string]http.Handler{"lambda": echo})
	for _, size := range []int{0, 1000, 2*chunkSize + 12345} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d bytes, chunked %v", size, chunked), func(t *testing.T) {
				w := serve(g, signedAs(t, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", testRegion, body, chunked))
				if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), body) {
					t.Errorf("HTTP %d, %d bytes back (want 200 and the %d bytes sent)", w.Code, w.Body.Len(), len(body))
				}
				if w.Header().Get("Connection") != "" {
					t.Errorf("Connection: %q after the body was read", w.Header().Get("Connection"))
				}
				if n := g.inUse.Load(); n != 0 {
					t.Errorf("%d bytes of the budget still held", n)
				}
			})
		}
	}
	t.Run("tampered body", func(t *testing.T) {
		r := signed(t, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", testRegion, []byte(`{"a":1}`))
		r.Body = io.NopCloser(strings.NewReader(`{"a":2}`))
		status, code, _ := restError(t, serve(g, r))
		if status != 403 || code != sigv4.CodeInvalidSignature {
			t.Errorf("got %d %s, want 403 %s", status, code, sigv4.CodeInvalidSignature)
		}
	})
}

// TestBudgetThrottles: a body that does not fit in the memory budget is answered at once, unread, with its
// service's throttling error; the budget is held while the handler runs and given back when it returns.
func TestBudgetThrottles(t *testing.T) {
	body := bytes.Repeat([]byte("z"), 100)
	monitoring, codedeploy, sts := &protoService{Handler: echo}, &protoService{Handler: echo}, &protoService{Handler: echo}
	g := newGateway(map[string]http.Handler{"lambda": echo, "logs": echo, "monitoring": monitoring, "codedeploy": codedeploy, "sts": sts})
	g.MaxBodyMemory = 50

	t.Run("lambda", func(t *testing.T) {
		w := serve(g, unread(t, signed(t, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", testRegion, body)))
		status, code, got := restError(t, w)
		want := map[string]string{"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}
		if status != 429 || code != "TooManyRequestsException" || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %d %s %v, want 429 TooManyRequestsException %v", status, code, got, want)
		}
		if w.Header().Get("Connection") != "close" {
			t.Error("no Connection: close")
		}
	})
	t.Run("logs (JSON 1.1, gateway-shaped errors)", func(t *testing.T) {
		status, code, got := restError(t, serve(g, unread(t, signed(t, http.MethodPost, "/", "logs", testRegion, body))))
		if status != 400 || code != "ThrottlingException" || got["message"] != "Rate exceeded" {
			t.Errorf("got %d %s %v, want 400 ThrottlingException", status, code, got)
		}
	})
	for _, tc := range []struct {
		service string
		edge    *protoService
		code    string
	}{{"monitoring", monitoring, "Throttling"}, {"sts", sts, "Throttling"}, {"codedeploy", codedeploy, "ThrottlingException"}} {
		t.Run(tc.service, func(t *testing.T) {
			serve(g, unread(t, signed(t, http.MethodPost, "/", tc.service, testRegion, body)))
			if tc.edge.code != tc.code || tc.edge.status != 400 || tc.edge.message != "Rate exceeded" {
				t.Errorf("the edge was asked for %d %s %q, want 400 %s", tc.edge.status, tc.edge.code, tc.edge.message, tc.code)
			}
		})
	}
	t.Run("chunked, past the budget as it arrives", func(t *testing.T) {
		r := signedAs(t, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", testRegion, body, true)
		if status, code, _ := restError(t, serve(g, r)); status != 429 || code != "TooManyRequestsException" {
			t.Errorf("got %d %s, want 429 TooManyRequestsException", status, code)
		}
		if n := g.inUse.Load(); n != 0 {
			t.Errorf("%d bytes of the budget still held", n)
		}
	})

	t.Run("held while served, then given back", func(t *testing.T) {
		entered, leave := make(chan int64), make(chan struct{})
		g := newGateway(map[string]http.Handler{"lambda": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			entered <- 0
			<-leave
		})})
		g.MaxBodyMemory = 150
		done := make(chan *httptest.ResponseRecorder)
		go func() {
			done <- serve(g, signed(t, http.MethodPost, "/2015-03-31/functions/a/invocations", "lambda", testRegion, body))
		}()
		<-entered
		if n := g.inUse.Load(); n != 100 {
			t.Errorf("%d bytes held while the first request is served, want 100", n)
		}
		if w := serve(g, unread(t, signed(t, http.MethodPost, "/2015-03-31/functions/b/invocations", "lambda", testRegion, body))); w.Code != 429 {
			t.Errorf("second request while the first holds the budget: HTTP %d, want 429", w.Code)
		}
		close(leave)
		if w := <-done; w.Code != 200 {
			t.Errorf("first request: HTTP %d", w.Code)
		}
		go func() { <-entered }()
		if w := serve(g, signed(t, http.MethodPost, "/2015-03-31/functions/c/invocations", "lambda", testRegion, body)); w.Code != 200 {
			t.Errorf("third request after the first returned: HTTP %d, want 200", w.Code)
		}
		if n := g.inUse.Load(); n != 0 {
			t.Errorf("%d bytes of the budget still held", n)
		}
	})
}

// TestUnsignedAnonymous: an unsigned request that may go without a signature is decided from a small bounded
// read of its body; a larger one is refused without being read.
func TestUnsignedAnonymous(t *testing.T) {
	sts := &protoService{Handler: echo}
	g := newGateway(map[string]http.Handler{"sts": sts})
	calls := 0
	g.Anonymous = func(r *http.Request, body []byte) http.Handler {
		calls++
		if bytes.Contains(body, []byte("Action=AssumeRoleWithWebIdentity")) {
			return echo
		}
		return nil
	}
	form := "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=" + strings.Repeat("t", 20000)

	w := serve(g, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form)))
	if w.Code != 200 || w.Body.String() != form || calls != 1 {
		t.Errorf("web identity form: HTTP %d, %d bytes back, %d calls of Anonymous", w.Code, w.Body.Len(), calls)
	}
	w = serve(g, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=GetCallerIdentity")))
	if status, code, _ := restError(t, w); status != 403 || code != sigv4.CodeMissingAuthenticationToken || calls != 2 {
		t.Errorf("another unsigned form: %d %s", status, code)
	}

	big := form + strings.Repeat("&x=y", anonymousMaxBytes/4)
	r := unread(t, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big)))
	if status, code, _ := restError(t, serve(g, r)); status != 403 || code != sigv4.CodeMissingAuthenticationToken {
		t.Errorf("unsigned body over %d bytes: %d %s", anonymousMaxBytes, status, code)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big))
	r.ContentLength = -1
	w = serve(g, r)
	if status, code, _ := restError(t, w); status != 403 || code != sigv4.CodeMissingAuthenticationToken || w.Header().Get("Connection") != "close" {
		t.Errorf("chunked unsigned body over %d bytes: %d %s, Connection %q", anonymousMaxBytes, status, code, w.Header().Get("Connection"))
	}
	if calls != 2 {
		t.Errorf("Anonymous was asked about a body over its bound (%d calls)", calls)
	}
	if n := g.inUse.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still held", n)
	}
}

func TestReadDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const timeout, rate = 30 * time.Second, 64 << 10
	cases := []struct {
		name string
		now  time.Duration // since start
		n    int64         // bytes read so far
		want time.Duration // since start
	}{
		{"first read", 0, 0, 30 * time.Second},
		{"nothing after 10 s", 10 * time.Second, 0, 30 * time.Second},
		{"on pace: a stall may last the timeout", 2 * time.Second, 64 << 20, 32 * time.Second},
		{"ahead of pace", 1 * time.Second, 2 << 20, 31 * time.Second},
		{"behind pace: the pace decides", 100 * time.Second, 64 << 10 * 80, 110 * time.Second},
	}
	for _, tc := range cases {
		if got := readDeadline(start, start.Add(tc.now), tc.n, timeout, rate); !got.Equal(start.Add(tc.want)) {
			t.Errorf("%s: deadline %v after start, want %v", tc.name, got.Sub(start), tc.want)
		}
	}
}

// rawServer serves g over a real listener for requests no client library sends.
func rawServer(t *testing.T, g *Gateway) string {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// rawExchange writes raw to addr and reads one response (nil if the server closed the connection instead).
func rawExchange(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestNoRedirects: no path, however written, is answered with a redirect; unclean and unknown paths are unknown
// operations, in the protocol of the service the request claims.
func TestNoRedirects(t *testing.T) {
	lambdaMux := http.NewServeMux()
	lambdaMux.HandleFunc("GET /2015-03-31/functions/{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("list")) })
	lambdaMux.HandleFunc("GET /tree/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("tree")) })
	internal := http.NewServeMux()
	internal.HandleFunc("GET /_sluice/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	internal.HandleFunc("GET /_sluice/dir/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("dir")) })
	monitoring := &protoService{Handler: echo}
	g := newGateway(map[string]http.Handler{"lambda": lambdaMux, "monitoring": monitoring})
	g.Internal = internal
	addr := rawServer(t, g)

	for _, tc := range []struct{ requestLine, message string }{
		{"POST ////// HTTP/1.1", "Unknown operation POST //////"},
		{"GET /2015-03-31/functions/../../../etc/passwd HTTP/1.1", "Unknown operation GET /2015-03-31/functions/../../../etc/passwd"},
		{"GET /2015-03-31/functions/%2e%2e/x HTTP/1.1", "Unknown operation GET /2015-03-31/functions/../x"},
		{"GET /2015-03-31//functions/ HTTP/1.1", "Unknown operation GET /2015-03-31//functions/"},
		{"GET /2015-03-31/functions/. HTTP/1.1", "Unknown operation GET /2015-03-31/functions/."},
		{"GET /_sluice/../x HTTP/1.1", "Unknown operation GET /_sluice/../x"},
		{"GET /_sluice/nope HTTP/1.1", "Unknown operation GET /_sluice/nope"},
		{"GET /_sluice/dir HTTP/1.1", "Unknown operation GET /_sluice/dir"},
		{"GET /_sluice//health HTTP/1.1", "Unknown operation GET /_sluice//health"},
		{"POST * HTTP/1.1", "Unknown operation POST *"},
		{"CONNECT 127.0.0.1:1 HTTP/1.1", "Unknown operation CONNECT "},
		{"GET http://127.0.0.1/a/../b HTTP/1.1", "Unknown operation GET /a/../b"},
	} {
		t.Run(tc.requestLine, func(t *testing.T) {
			resp := rawExchange(t, addr, tc.requestLine+"\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
			if resp == nil {
				t.Fatal("no response")
			}
			b, _ := io.ReadAll(resp.Body)
			var body map[string]string
			_ = json.Unmarshal(b, &body)
			if resp.StatusCode != 404 || resp.Header.Get("x-amzn-ErrorType") != codeUnknownOperation || body["message"] != tc.message || resp.Header.Get("Location") != "" {
				t.Errorf("HTTP %d %s %q %s, want 404 %s %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b,
					resp.Header.Get("Location"), codeUnknownOperation, tc.message)
			}
		})
	}

	t.Run("clean paths are served", func(t *testing.T) {
		if resp := rawExchange(t, addr, "GET /_sluice/health HTTP/1.1\r\nHost: x\r\n\r\n"); resp == nil || resp.StatusCode != 200 {
			t.Errorf("GET /_sluice/health: %v", resp)
		}
		w := serve(g, signed(t, http.MethodGet, "/2015-03-31/functions/", "lambda", testRegion, nil))
		if w.Code != 200 || w.Body.String() != "list" {
			t.Errorf("GET /2015-03-31/functions/: HTTP %d %q", w.Code, w.Body)
		}
	})
	t.Run("no internal endpoints", func(t *testing.T) {
		g := newGateway(nil)
		status, code, _ := restError(t, serve(g, httptest.NewRequest(http.MethodGet, "/_sluice/health", nil)))
		if status != 404 || code != codeUnknownOperation {
			t.Errorf("GET /_sluice/health without Internal: %d %s", status, code)
		}
	})
	t.Run("a service's own redirect", func(t *testing.T) {
		w := serve(g, signed(t, http.MethodGet, "/tree", "lambda", testRegion, nil))
		status, code, body := restError(t, w)
		if status != 404 || code != codeUnknownOperation || body["message"] != "Unknown operation GET /tree" || w.Header().Get("Location") != "" {
			t.Errorf("ServeMux's subtree redirect: %d %s %v (Location %q)", status, code, body, w.Header().Get("Location"))
		}
	})
	t.Run("in the claimed service's protocol", func(t *testing.T) {
		r := signed(t, http.MethodPost, "/a/../", "monitoring", testRegion, []byte("{}"))
		serve(g, unread(t, r))
		if monitoring.code != codeUnknownOperation || monitoring.status != 404 || monitoring.message != "Unknown operation POST /a/../" {
			t.Errorf("monitoring asked for %d %s %q", monitoring.status, monitoring.code, monitoring.message)
		}
	})
}

// TestStalledUploadCutOff: an upload that stops arriving is answered (or its connection closed) once the read
// timeout passes, and the budget it held is given back.
func TestStalledUploadCutOff(t *testing.T) {
	g := newGateway(map[string]http.Handler{"lambda": echo})
	g.ReadTimeout = 50 * time.Millisecond
	addr := rawServer(t, g)
	r := signed(t, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", testRegion, bytes.Repeat([]byte("s"), 1000))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\n", r.URL.RequestURI(), r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&head, "Content-Length: 1000\r\n\r\n%s", strings.Repeat("s", 10)) // then nothing

	resp := rawExchange(t, addr, head.String())
	if resp == nil {
		t.Log("the server closed the connection without an answer")
	} else {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("x-amzn-ErrorType") != codeRequestTimeout || !resp.Close {
			t.Errorf("stalled upload: HTTP %d %s %q (close %v), want 408 %s and the connection closed",
				resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b, resp.Close, codeRequestTimeout)
		}
	}
	if n := g.inUse.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still held", n)
	}
}

// TestBodyHandedOn: the service is handed the body the gateway read, through Body, and r.Body still replays it
// for handlers that read it; a request that did not pass the gateway has no such body.
func TestBodyHandedOn(t *testing.T) {
	var got, replayed []byte
	var handed bool
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := Body(r)
		got, handed = bytes.Clone(b), ok
		replayed, _ = io.ReadAll(r.Body)
	})
	g := newGateway(map[string]http.Handler{"logs": service})
	for _, size := range []int{0, 1000, chunkSize, 2*chunkSize + 12345} {
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d bytes, chunked %v", size, chunked), func(t *testing.T) {
				got, replayed, handed = nil, nil, false
				if w := serve(g, signedAs(t, http.MethodPost, "/", "logs", testRegion, body, chunked)); w.Code != 200 {
					t.Fatalf("HTTP %d", w.Code)
				}
				if !handed || !bytes.Equal(got, body) || !bytes.Equal(replayed, body) {
					t.Errorf("Body: %v, %d bytes; r.Body: %d bytes; want the %d bytes sent in both", handed, len(got), len(replayed), len(body))
				}
			})
		}
	}
	if _, ok := Body(httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))); ok {
		t.Error("Body of a request that did not pass the gateway: ok")
	}
}
