package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runtime is a minimal Runtime API client, like the loop in every runtime.
type runtime struct {
	t    *testing.T
	base string
}

func (rt runtime) next() (id string, h http.Header, body []byte) {
	rt.t.Helper()
	resp, err := http.Get(rt.base + "/2018-06-01/runtime/invocation/next")
	if err != nil {
		rt.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.Header.Get("Lambda-Runtime-Aws-Request-Id"), resp.Header, body
}

func (rt runtime) post(path string, header map[string]string, body []byte) (int, string) {
	rt.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rt.base+"/2018-06-01/runtime/"+path, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rt.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func start(t *testing.T) (*Server, runtime) {
	t.Helper()
	return startWith(t, nil)
}

func startWith(t *testing.T, admit Admit) (*Server, runtime) {
	t.Helper()
	s, err := Listen(admit)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return s, runtime{t: t, base: "http://" + s.Addr()}
}

func wait(t *testing.T, inv *Invocation) Response {
	t.Helper()
	select {
	case r := <-inv.Done():
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		return Response{}
	}
}

func TestInvocationRoundTrip(t *testing.T) {
	s, rt := start(t)
	deadline := time.UnixMilli(1_900_000_000_123)
	inv := NewInvocation("req-1", []byte(`{"a":1}`), deadline)
	inv.InvokedFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:f:live"
	inv.TraceID = "Root=1-abc"
	inv.ClientContext = `{"custom":{"k":"v"}}`
	s.Deliver(inv)

	select {
	case <-s.Ready():
		t.Fatal("ready before the runtime asked for an event")
	default:
	}
	id, h, body := rt.next()
	<-s.Ready()
	if id != "req-1" || string(body) != `{"a":1}` {
		t.Fatalf("next = %q %s", id, body)
	}
	for k, want := range map[string]string{
		"Lambda-Runtime-Deadline-Ms":          "1900000000123",
		"Lambda-Runtime-Invoked-Function-Arn": inv.InvokedFunctionARN,
		"Lambda-Runtime-Trace-Id":             "Root=1-abc",
		"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
		"Content-Type":                        "application/json",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if _, ok := h["Lambda-Runtime-Cognito-Identity"]; ok {
		t.Error("empty headers must be omitted")
	}
	if code, body := rt.post("invocation/req-1/response", nil, []byte(`"ok"`)); code != 202 || body != `{"status":"OK"}` {
		t.Fatalf("response post = %d %s", code, body)
	}
	if r := wait(t, inv); r.FunctionError || string(r.Payload) != `"ok"` {
		t.Fatalf("answer = %+v", r)
	}
	// A second answer for a finished invocation is a state error; an unknown ID is a bad request.
	if code, body := rt.post("invocation/req-1/response", nil, []byte(`1`)); code != 403 || !strings.Contains(body, "InvalidStateTransition") {
		t.Fatalf("second response = %d %s", code, body)
	}
	if code, body := rt.post("invocation/nope/response", nil, []byte(`1`)); code != 400 || !strings.Contains(body, `"errorType":"InvalidRequestID"`) {
		t.Fatalf("unknown id = %d %s", code, body)
	}
}

func TestErrorAnswers(t *testing.T) {
	cases := []struct {
		name, header, body string
		wantType           string
		wantBody           string
	}{
		{"runtime document", "Runtime.Whatever", `{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}`, "ValueError", `{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}`},
		{"header only", "Runtime.NoSuchHandler", ``, "Runtime.NoSuchHandler", `{"errorMessage":"Unknown application error occurred","errorType":"Runtime.NoSuchHandler"}`},
		{"nothing", "", `not json`, "Runtime.Unknown", `{"errorMessage":"not json","errorType":"Runtime.Unknown"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, rt := start(t)
			inv := NewInvocation("r", nil, time.Now().Add(time.Minute))
			s.Deliver(inv)
			rt.next()
			h := map[string]string{}
			if c.header != "" {
				h["Lambda-Runtime-Function-Error-Type"] = c.header
			}
			if code, _ := rt.post("invocation/r/error", h, []byte(c.body)); code != 202 {
				t.Fatalf("error post = %d", code)
			}
			r := wait(t, inv)
			if !r.FunctionError || r.ErrorType != c.wantType || string(r.Payload) != c.wantBody {
				t.Fatalf("answer = %+v %s", r, r.Payload)
			}
		})
	}
}

func TestOversizedResponse(t *testing.T) {
	s, rt := start(t)
	inv := NewInvocation("big", nil, time.Now().Add(time.Minute))
	s.Deliver(inv)
	rt.next()
	code, body := rt.post("invocation/big/response", nil, bytes.Repeat([]byte("x"), MaxResponseBytes+1))
	if code != 413 || !strings.Contains(body, "RequestEntityTooLarge") {
		t.Fatalf("oversized post = %d %s", code, body)
	}
	r := wait(t, inv)
	var doc map[string]string
	json.Unmarshal(r.Payload, &doc)
	if !r.FunctionError || doc["errorType"] != "Function.ResponseSizeTooLarge" {
		t.Fatalf("answer = %+v", doc)
	}
}

func TestInitError(t *testing.T) {
	s, rt := start(t)
	code, _ := rt.post("init/error", map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
		[]byte(`{"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError"}`))
	if code != 202 {
		t.Fatalf("init error post = %d", code)
	}
	<-s.InitFailed()
	if e := s.InitError(); e.ErrorType != "Runtime.ImportModuleError" || !strings.Contains(string(e.Payload), "Unable to import") {
		t.Fatalf("init error = %+v", e)
	}
	if code, _ := rt.post("init/error", nil, []byte(`{}`)); code != 403 {
		t.Fatalf("second init error = %d, want 403", code)
	}
}

func TestCloseReleasesParkedNext(t *testing.T) {
	s, rt := start(t)
	done := make(chan int)
	go func() {
		resp, err := http.Get(rt.base + "/2018-06-01/runtime/invocation/next")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-s.Ready()
	s.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("parked /next not released by Close")
	}
}

// TestNextFromAClosedConnection: a runtime that gave up on a parked /next (its client timed out, say) and asks
// again gets the event on its new request; the one it closed does not swallow it.
func TestNextFromAClosedConnection(t *testing.T) {
	s, rt := start(t)
	gaveUp, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(gaveUp, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
	<-s.Ready()
	gaveUp.Close()

	got := make(chan string, 1)
	go func() { // the runtime asks again, on a new connection; the closed one's request was parked first
		id, _, _ := rt.next()
		got <- id
	}()
	inv := NewInvocation("req-1", []byte(`{}`), time.Now().Add(time.Minute))
	s.Deliver(inv)
	select {
	case id := <-got:
		if id != "req-1" {
			t.Fatalf("the new /next got %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event went to the closed connection")
	}
}

// TestConnectionBound: function code cannot make its server hold connections without end; beyond the bound a
// connection is answered 503 and closed, and the runtime's own still works.
func TestConnectionBound(t *testing.T) {
	s, rt := start(t)
	var idle []net.Conn
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	for range maxConns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Each accepted connection is counted once the server takes it: retry until the bound shows.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(rt.base + "/2018-06-01/runtime/nothing")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 503 beyond %d connections (last: %v)", maxConns, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	idle[0].Close()
	idle = idle[1:]
	inv := NewInvocation("req-1", []byte(`{}`), time.Now().Add(time.Minute))
	s.Deliver(inv)
	for time.Now().Before(deadline) {
		resp, err := http.Get(rt.base + "/2018-06-01/runtime/invocation/next")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("a connection freed below the bound was not served")
}

func TestAbandonRejectsLateAnswer(t *testing.T) {
	s, rt := start(t)
	inv := NewInvocation("late", nil, time.Now().Add(time.Minute))
	s.Deliver(inv)
	rt.next()
	s.Abandon()
	if code, _ := rt.post("invocation/late/response", nil, []byte(`1`)); code != 403 {
		t.Fatalf("late answer = %d, want 403", code)
	}
}

// TestAdmitRefusesBeforeReading: a refused connection gets neither the pending event nor a say in its answer, and
// the admitted runtime still gets both.
func TestAdmitRefusesBeforeReading(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var refused atomic.Int32
	s, rt := startWith(t, func(net.Conn) error {
		if refuse.Load() {
			refused.Add(1)
			return errors.New("not this environment's")
		}
		return nil
	})
	inv := NewInvocation("req-1", []byte(`{"secret":1}`), time.Now().Add(time.Minute))
	s.Deliver(inv)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(rt.base + "/2018-06-01/runtime/invocation/next"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("a refused connection got %d %s", resp.StatusCode, b)
	}
	resp, err := client.Post(rt.base+"/2018-06-01/runtime/invocation/req-1/response", "application/json", strings.NewReader(`"forged"`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a refused connection could answer: %d", resp.StatusCode)
	}
	if refused.Load() != 2 {
		t.Errorf("admit refused %d connections, want 2", refused.Load())
	}

	refuse.Store(false)
	if id, _, body := rt.next(); id != "req-1" || string(body) != `{"secret":1}` {
		t.Fatalf("the admitted runtime got %q %s", id, body)
	}
	if code, _ := rt.post("invocation/req-1/response", nil, []byte(`"real"`)); code != http.StatusAccepted {
		t.Fatalf("response: %d", code)
	}
	if r := wait(t, inv); string(r.Payload) != `"real"` {
		t.Errorf("the caller got %s, want the environment's own answer", r.Payload)
	}
}

// streamPost is a streamed /response in progress, sent the way AWS's runtimes send it: chunked, with the error
// trailers declared up front (and, here, their values too: net/http sends them after the body).
type streamPost struct {
	t    *testing.T
	pw   *io.PipeWriter
	done chan postResult
}

type postResult struct {
	code int // -1: the request failed
	body string
}

func (rt runtime) startStream(id, mode, contentType string, trailer map[string]string) *streamPost {
	rt.t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, rt.base+"/2018-06-01/runtime/invocation/"+id+"/response", pr)
	req.ContentLength = -1
	if mode != "" {
		req.Header.Set(ResponseModeHeader, mode)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Trailer = http.Header{ErrorTypeTrailer: nil, ErrorBodyTrailer: nil}
	for k, v := range trailer {
		req.Trailer.Set(k, v)
	}
	p := &streamPost{t: rt.t, pw: pw, done: make(chan postResult, 1)}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			p.done <- postResult{code: -1, body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p.done <- postResult{code: resp.StatusCode, body: string(b)}
	}()
	return p
}

func (p *streamPost) send(chunk string) {
	p.t.Helper()
	if _, err := p.pw.Write([]byte(chunk)); err != nil {
		p.t.Fatalf("send %q: %v", chunk, err)
	}
}

// finish ends the body (the trailers follow) and returns the Runtime API's answer.
func (p *streamPost) finish() postResult {
	p.t.Helper()
	p.pw.Close()
	return p.result()
}

// abort breaks the body off, as a runtime that dies mid-response does.
func (p *streamPost) abort() postResult {
	p.t.Helper()
	p.pw.CloseWithError(errors.New("the runtime died"))
	return p.result()
}

func (p *streamPost) result() postResult {
	p.t.Helper()
	select {
	case r := <-p.done:
		return r
	case <-time.After(10 * time.Second):
		p.t.Fatal("no answer to the streamed response")
		return postResult{}
	}
}

// recorder is a Stream that hands each piece to the test as it arrives.
type recorder struct {
	begun  chan string
	chunks chan string
}

func newRecorder() *recorder {
	return &recorder{begun: make(chan string, 1), chunks: make(chan string, 16)}
}

func (r *recorder) Begin(contentType string) { r.begun <- contentType }

func (r *recorder) Write(p []byte) (int, error) {
	r.chunks <- string(p)
	return len(p), nil
}

// next is the next piece the Stream received: the server hands each one on before the runtime sends another.
func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case c := <-r.chunks:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the Stream did not receive the piece the runtime sent")
		return ""
	}
}

func TestStreamedResponse(t *testing.T) {
	errDoc := `{"errorType":"Error","errorMessage":"boom","trace":["Error: boom","    at handler"]}`
	cases := []struct {
		name        string
		mode        string
		contentType string
		noStream    bool  // the invocation has no Stream (a plain Invoke)
		maxStreamed int64 // 0: the default
		chunks      []string
		trailer     map[string]string
		abort       bool

		wantCode        int // 0: the request fails (the runtime went away)
		wantStreamed    []string
		wantContentType string
		wantPayload     string
		wantErrorType   string
		wantTruncated   bool
	}{{
		name: "complete", mode: "streaming", contentType: "text/plain", chunks: []string{"hello ", "streaming ", "world"},
		wantCode: 202, wantStreamed: []string{"hello ", "streaming ", "world"}, wantContentType: "text/plain",
	}, {
		name: "default content type", mode: "streaming", chunks: []string{"x"},
		wantCode: 202, wantStreamed: []string{"x"}, wantContentType: "application/octet-stream",
	}, {
		name: "error in the trailers", mode: "streaming", chunks: []string{"partial"},
		trailer:  map[string]string{ErrorTypeTrailer: "Error", ErrorBodyTrailer: base64.StdEncoding.EncodeToString([]byte(errDoc))},
		wantCode: 202, wantStreamed: []string{"partial"}, wantContentType: "application/octet-stream", wantPayload: errDoc, wantErrorType: "Error",
	}, {
		name: "error type only", mode: "streaming",
		trailer:  map[string]string{ErrorTypeTrailer: "Custom.Failure", ErrorBodyTrailer: "not base64!"},
		wantCode: 202, wantContentType: "application/octet-stream", wantErrorType: "Custom.Failure",
		wantPayload: `{"errorMessage":"Unknown application error occurred","errorType":"Custom.Failure"}`,
	}, {
		name: "collected for a plain invoke", mode: "streaming", contentType: "text/plain", noStream: true, chunks: []string{"hello ", "world"},
		wantCode: 202, wantContentType: "text/plain", wantPayload: "hello world",
	}, {
		name: "plain invoke fails in the trailers", mode: "streaming", noStream: true, chunks: []string{"dropped"},
		trailer:  map[string]string{ErrorTypeTrailer: "Error", ErrorBodyTrailer: base64.StdEncoding.EncodeToString([]byte(errDoc))},
		wantCode: 202, wantContentType: "application/octet-stream", wantPayload: errDoc, wantErrorType: "Error",
	}, {
		name: "beyond the limit", mode: "streaming", maxStreamed: 8, chunks: []string{"12345", "6789"},
		wantCode: 413, wantStreamed: []string{"12345", "678"}, wantContentType: "application/octet-stream", wantErrorType: "Function.ResponseSizeTooLarge",
		wantPayload: `{"errorMessage":"Response payload size exceeded maximum allowed payload size (8 bytes).","errorType":"Function.ResponseSizeTooLarge"}`,
	}, {
		name: "broken off", mode: "streaming", chunks: []string{"abc"}, abort: true,
		wantStreamed: []string{"abc"}, wantContentType: "application/octet-stream", wantErrorType: "Runtime.TruncatedResponse", wantTruncated: true,
	}, {
		// aws-lambda-go posts every response chunked, without the mode header, and streams a function URL's
		// response so: in pieces all the same.
		name: "chunked without the mode header", contentType: "application/vnd.awslambda.http-integration-response", chunks: []string{"{}", "body"},
		wantCode: 202, wantStreamed: []string{"{}", "body"}, wantContentType: "application/vnd.awslambda.http-integration-response",
	}, {
		name: "chunked without the mode header fails in the trailers", noStream: true, chunks: []string{"dropped"},
		trailer:  map[string]string{ErrorTypeTrailer: "Error", ErrorBodyTrailer: base64.StdEncoding.EncodeToString([]byte(errDoc))},
		wantCode: 202, wantContentType: "application/octet-stream", wantPayload: errDoc, wantErrorType: "Error",
	}, {
		name: "unknown mode", mode: "buffered",
		wantCode: 400, wantErrorType: "Runtime.InvalidResponseModeHeader",
		wantPayload: `{"errorMessage":"Invalid function response mode","errorType":"Runtime.InvalidResponseModeHeader"}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, rt := start(t)
			if c.maxStreamed > 0 {
				s.maxStreamed = c.maxStreamed
			}
			inv := NewInvocation("r", nil, time.Now().Add(time.Minute))
			rec := newRecorder()
			if !c.noStream {
				inv.Stream = rec
			}
			s.Deliver(inv)
			rt.next()
			p := rt.startStream("r", c.mode, c.contentType, c.trailer)
			var streamed []string
			for i, chunk := range c.chunks {
				p.send(chunk)
				if c.noStream {
					continue
				}
				if i == 0 {
					if got := <-rec.begun; got != c.wantContentType {
						t.Errorf("Begin(%q), want %q", got, c.wantContentType)
					}
				}
				// The piece is handed on before the runtime sends the next one.
				streamed = append(streamed, rec.next(t))
			}
			var res postResult
			if c.abort {
				res = p.abort()
			} else {
				res = p.finish()
			}
			if c.wantCode == 0 && res.code != -1 || c.wantCode != 0 && res.code != c.wantCode {
				t.Errorf("the runtime's POST got %d %s, want %d", res.code, res.body, c.wantCode)
			}
			r := wait(t, inv)
			if strings.Join(streamed, "|") != strings.Join(c.wantStreamed, "|") {
				t.Errorf("the Stream got %q, want %q", streamed, c.wantStreamed)
			}
			if r.FunctionError != (c.wantErrorType != "") || r.ErrorType != c.wantErrorType || r.Truncated != c.wantTruncated {
				t.Errorf("answer: error %v %q truncated %v, want %q truncated %v", r.FunctionError, r.ErrorType, r.Truncated, c.wantErrorType, c.wantTruncated)
			}
			if c.wantPayload != "" && string(r.Payload) != c.wantPayload || c.wantPayload == "" && len(r.Payload) > 0 && !c.wantTruncated {
				t.Errorf("payload %s, want %s", r.Payload, c.wantPayload)
			}
			if r.ContentType != c.wantContentType {
				t.Errorf("content type %q, want %q", r.ContentType, c.wantContentType)
			}
			written := int64(len(strings.Join(c.wantStreamed, "")))
			if r.Streamed != (!c.noStream && c.wantCode != 400) || r.Written != written {
				t.Errorf("streamed %v, %d bytes written; want %d", r.Streamed, r.Written, written)
			}
		})
	}
}

// A second answer after a streamed one is refused, as after any answer.
func TestStreamedResponseAnswersOnce(t *testing.T) {
	s, rt := start(t)
	inv := NewInvocation("r", nil, time.Now().Add(time.Minute))
	inv.Stream = newRecorder()
	s.Deliver(inv)
	rt.next()
	p := rt.startStream("r", "streaming", "", nil)
	p.send("first")
	inv.Stream.(*recorder).next(t)
	if code, body := rt.post("invocation/r/error", nil, []byte(`{"errorType":"Late"}`)); code != 403 || !strings.Contains(body, "InvalidStateTransition") {
		t.Errorf("an error posted while the response streams: %d %s, want 403", code, body)
	}
	if res := p.finish(); res.code != 202 {
		t.Fatalf("stream end: %d %s", res.code, res.body)
	}
	if r := wait(t, inv); r.FunctionError || r.Written != 5 {
		t.Errorf("answer %+v", r)
	}
}
