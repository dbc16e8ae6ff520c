package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// maxRequestBytes is the largest request Sluice (and AWS) accepts: gateway.MaxRequestBytes.
const maxRequestBytes = 70167211

// zeros is an upload of n zero bytes that counts how much of it the transport read.
type zeros struct {
	left int64
	read atomic.Int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	z.left -= int64(n)
	z.read.Add(int64(n))
	return n, nil
}

// zerosSHA256 is the hex SHA-256 of n zero bytes.
func zerosSHA256(n int64) string {
	h := sha256.New()
	io.Copy(h, &zeros{left: n})
	return hex.EncodeToString(h.Sum(nil))
}

// memoryKiB reads a field of the server process's /proc status (VmRSS: resident now; VmHWM: the peak).
func (s *server) memoryKiB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read the server's memory: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse %s %q: %v", field, v, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
	return 0
}

// signedHead is the head of a request for target, signed for service with the server's root credentials over a
// body of contentLength bytes whose SHA-256 is payloadHash, as raw HTTP/1.1: for requests no client library sends
// (unclean paths, a body held back after Expect: 100-continue).
func signedHead(t *testing.T, s *server, method, target, service string, contentLength int64, payloadHash string, header http.Header) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: method, URL: &url.URL{Scheme: "http", Host: u.Host, Opaque: "//" + u.Host + target},
		Host: u.Host, Header: http.Header{}, ContentLength: contentLength}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), req, payloadHash, service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, u.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", contentLength)
	return b.String()
}

// rawConn is one raw HTTP/1.1 connection to the server.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, s *server) *rawConn {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hung server fails the test instead of hanging it
	return &rawConn{Conn: conn, r: bufio.NewReader(conn)}
}

// rawAnswer is a response read from a raw connection.
type rawAnswer struct {
	rawResponse
	Close bool // the server closes the connection after it ("Connection: close")
}

// response reads one response; nil if the server closed the connection instead.
func (c *rawConn) response(t *testing.T) *rawAnswer {
	t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &rawAnswer{rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, resp.Close}
}

// TestGatewayUnsignedBodiesUnread: maximum-size unsigned uploads are refused without being read, so they cost the
// server no memory; before, each was read whole before its signature was looked at.
func TestGatewayUnsignedBodiesUnread(t *testing.T) {
	parallel(t)
	const budgetMiB = 128
	s := startServer(t, "--max-request-memory-mib", strconv.Itoa(budgetMiB))
	before := s.memoryKiB(t, "VmRSS")

	const uploads = 16
	var wg sync.WaitGroup
	results := make([]string, uploads)
	bodies := make([]*zeros, uploads)
	for i := range uploads {
		bodies[i] = &zeros{left: maxRequestBytes}
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, s.URL+"/2015-03-31/functions/orders/invocations", io.NopCloser(bodies[i]))
			if err != nil {
				results[i] = err.Error()
				return
			}
			if i%4 != 3 {
				req.ContentLength = maxRequestBytes // every fourth one is sent chunked, its length unknown
			}
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(req)
			if err != nil {
				results[i] = "connection closed: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results[i] = fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), b)
		})
	}
	wg.Wait()
	for i, res := range results {
		if !strings.HasPrefix(res, "403 MissingAuthenticationTokenException") && !strings.HasPrefix(res, "connection closed") {
			t.Errorf("unsigned upload %d: %s, want 403 MissingAuthenticationTokenException or the connection closed", i, res)
		}
		// Loopback socket buffers take a few MB before the refusal closes the connection; the rest is never sent.
		if n := bodies[i].read.Load(); n > maxRequestBytes/2 {
			t.Errorf("unsigned upload %d: the client sent %d of %d bytes before being refused", i, n, maxRequestBytes)
		}
	}
	peak := s.memoryKiB(t, "VmHWM")
	t.Logf("server RSS %d MiB before, peak %d MiB after %d unsigned uploads of %d bytes", before>>10, peak>>10, uploads, maxRequestBytes)
	if grew := (peak - before) >> 10; grew > budgetMiB+64 {
		t.Errorf("the server's peak RSS grew by %d MiB, more than the %d MiB budget + 64 MiB", grew, budgetMiB)
	}
	if _, err := s.Lambda().ListFunctions(t.Context(), &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("ListFunctions after the uploads: %v", err)
	}
}

// TestGatewayBudgetThrottles: signed uploads past the memory budget are answered at once, unread, with Lambda's
// throttling error, while the server keeps serving; once the budget is free they are read again.
func TestGatewayBudgetThrottles(t *testing.T) {
	parallel(t)
	const budgetMiB, size = 100, 45_000_000 // two bodies fit, a third does not
	s := startServer(t, "--max-request-memory-mib", strconv.Itoa(budgetMiB))
	c := s.Lambda()
	createFunction(t, c, "orders")
	before := s.memoryKiB(t, "VmRSS")
	hash := zerosSHA256(size)
	const invoke = "/2015-03-31/functions/orders/invocations"

	// Two uploads take their size from the budget (the server asks for their bodies: 100 Continue) and stall.
	var held []*rawConn
	for range 2 {
		conn := dialRaw(t, s)
		io.WriteString(conn, signedHead(t, s, http.MethodPost, invoke, "lambda", size, hash,
			http.Header{"Expect": {"100-continue"}, "Content-Type": {"application/json"}}))
		if line, err := conn.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
			t.Fatalf("expected 100 Continue for a body within the budget, got %q (%v)", line, err)
		}
		if _, err := conn.r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}

	third := func() (rawResponse, *zeros) {
		body := &zeros{left: size}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+invoke, io.NopCloser(body))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		if err := v4.NewSigner().SignHTTP(t.Context(), s.creds(), req, hash, "lambda", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		return doRaw(t, req), body
	}
	r, body := third()
	checkRawError(t, "a third upload past the budget", r, wantErr{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	var shape map[string]string
	if err := json.Unmarshal(r.Body, &shape); err != nil || shape["Type"] != "User" || shape["Reason"] != "CallerRateLimitExceeded" {
		t.Errorf("throttling body %s, want Type User and Reason CallerRateLimitExceeded", r.Body)
	}
	if n := body.read.Load(); n > size/2 {
		t.Errorf("the throttled upload was read: the client sent %d of %d bytes", n, size)
	}
	if _, err := c.ListFunctions(t.Context(), &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("ListFunctions while the budget is taken: %v", err)
	}

	// The held uploads finish: their bodies are read and verified, and Lambda refuses them as payloads (> 6 MB).
	var wg sync.WaitGroup
	answers := make([]*rawAnswer, len(held))
	for i, conn := range held {
		wg.Go(func() {
			chunk := make([]byte, 1<<20)
			for left := size; left > 0; left -= len(chunk) {
				if _, err := conn.Write(chunk[:min(len(chunk), left)]); err != nil {
					return
				}
			}
			answers[i] = conn.response(t)
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a == nil {
			t.Errorf("held upload %d: no answer", i)
			continue
		}
		checkRawError(t, fmt.Sprintf("held upload %d", i), a.rawResponse, wantErr{Status: 413, Code: "RequestEntityTooLargeException",
			Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
	}
	r, _ = third()
	checkRawError(t, "the same upload once the budget is free", r, wantErr{Status: 413, Code: "RequestEntityTooLargeException",
		Message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})

	peak := s.memoryKiB(t, "VmHWM")
	t.Logf("server RSS %d MiB before, peak %d MiB after", before>>10, peak>>10)
	// The race detector's shadow memory multiplies what the bodies cost; the bound holds for the real build.
	if grew := (peak - before) >> 10; !raceEnabled && grew > budgetMiB+64 {
		t.Errorf("the server's peak RSS grew by %d MiB, more than the %d MiB budget + 64 MiB", grew, budgetMiB)
	}
}

// TestGatewayStalledUploadsCutOff: uploads that stop arriving lose their connections after the read timeout, and
// the server serves on.
func TestGatewayStalledUploadsCutOff(t *testing.T) {
	parallel(t)
	s := startServer(t, "--request-read-timeout", "1s")
	const uploads, size = 20, 1_000_000
	hash := zerosSHA256(size)
	var wg sync.WaitGroup
	answers := make([]*rawAnswer, uploads)
	for i := range uploads {
		conn := dialRaw(t, s)
		wg.Go(func() {
			io.WriteString(conn, signedHead(t, s, http.MethodPost, "/2015-03-31/functions/orders/invocations", "lambda", size, hash, nil))
			conn.Write(make([]byte, 1000)) // then nothing
			answers[i] = conn.response(t)
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a == nil {
			continue // cut off without an answer
		}
		if a.Status != http.StatusRequestTimeout || a.errorCode() != "RequestTimeoutException" || !a.Close {
			t.Errorf("stalled upload %d: HTTP %d %s %q (close %v), want 408 RequestTimeoutException and the connection closed",
				i, a.Status, a.errorCode(), a.Body, a.Close)
		}
	}
	if _, err := s.Lambda().ListFunctions(t.Context(), &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("ListFunctions after the stalled uploads: %v", err)
	}
}

// TestGatewayNoRedirects: no path on the API listener is answered with a redirect; unclean and unknown paths are
// unknown operations in the protocol of the service the request claims, whatever their body; a proxy request (the
// absolute form, CONNECT) for a host that is not an AWS endpoint Sluice serves is refused by the proxy.
func TestGatewayNoRedirects(t *testing.T) {
	parallel(t)
	s := startServer(t)
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"a":1}`)
	sum := sha256.Sum256(body)
	signedLambda := func(method, target string) string {
		return signedHead(t, s, method, target, "lambda", int64(len(body)), hex.EncodeToString(sum[:]), http.Header{"Content-Type": {"application/json"}}) + string(body)
	}
	unsigned := func(requestLine string) string {
		return requestLine + "\r\nHost: " + u.Host + "\r\nContent-Length: 0\r\n\r\n"
	}
	for _, tc := range []struct{ name, raw, message string }{
		{"signed POST //////", signedLambda("POST", "//////"), "Unknown operation POST //////"},
		{"signed dot segments", signedLambda("GET", "/2015-03-31/functions/../../../etc/passwd"), "Unknown operation GET /2015-03-31/functions/../../../etc/passwd"},
		{"signed encoded dot segment", signedLambda("GET", "/2015-03-31/functions/%2E%2E/configuration"), "Unknown operation GET /2015-03-31/functions/../configuration"},
		{"signed empty segment", signedLambda("GET", "/2015-03-31//functions"), "Unknown operation GET /2015-03-31//functions"},
		{"unsigned dot segments", unsigned("GET /2015-03-31/functions/../../../etc/passwd HTTP/1.1"), "Unknown operation GET /2015-03-31/functions/../../../etc/passwd"},
		{"internal dot segments", unsigned("GET /_sluice/../x HTTP/1.1"), "Unknown operation GET /_sluice/../x"},
		{"internal empty segment", unsigned("GET /_sluice//health HTTP/1.1"), "Unknown operation GET /_sluice//health"},
		{"internal unknown path", unsigned("GET /_sluice/nope HTTP/1.1"), "Unknown operation GET /_sluice/nope"},
		{"internal subtree without its slash", unsigned("GET /_sluice/code HTTP/1.1"), "Unknown operation GET /_sluice/code"},
		{"asterisk", unsigned("POST * HTTP/1.1"), "Unknown operation POST *"},
		{"absolute form", unsigned("GET http://" + u.Host + "/a/./b HTTP/1.1"), "proxy"},
		{"CONNECT", unsigned("CONNECT " + u.Host + " HTTP/1.1"), "proxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dialRaw(t, s)
			io.WriteString(conn, tc.raw)
			r := conn.response(t)
			if r == nil {
				t.Fatal("no answer")
			}
			if r.Status >= 300 && r.Status < 400 {
				t.Fatalf("HTTP %d Location %q: a redirect", r.Status, r.Header.Get("Location"))
			}
			if tc.message == "proxy" {
				if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "Sluice proxies only the AWS endpoints it serves") {
					t.Fatalf("HTTP %d %q, want the proxy's 403 for a host it does not serve", r.Status, r.Body)
				}
				return
			}
			checkRawError(t, tc.name, r.rawResponse, wantErr{Status: 404, Code: "UnknownOperationException", Message: tc.message})
		})
	}

	t.Run("in CloudWatch's query protocol", func(t *testing.T) {
		form := []byte("Action=ListMetrics&Version=2010-08-01")
		sum := sha256.Sum256(form)
		conn := dialRaw(t, s)
		io.WriteString(conn, signedHead(t, s, "POST", "/x/../", "monitoring", int64(len(form)), hex.EncodeToString(sum[:]),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}})+string(form))
		r := conn.response(t)
		if r == nil || r.Status != 404 || !bytes.Contains(r.Body, []byte("<Code>UnknownOperationException</Code>")) ||
			!bytes.Contains(r.Body, []byte("Unknown operation POST /x/../")) {
			t.Errorf("unclean path signed for monitoring: %+v", r)
		}
	})
	t.Run("an unclean path with a large body is not read", func(t *testing.T) {
		conn := dialRaw(t, s)
		io.WriteString(conn, "POST /a/../b HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Length: "+strconv.Itoa(maxRequestBytes)+"\r\n\r\n")
		r := conn.response(t)
		if r == nil || r.Status != 404 || !r.Close {
			t.Errorf("unclean path with an unsent body: %+v, want 404 and Connection: close", r)
		}
	})
	if _, err := s.Lambda().ListFunctions(t.Context(), &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("ListFunctions: %v", err)
	}
}
