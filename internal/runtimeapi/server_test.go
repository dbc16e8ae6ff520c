package runtimeapi

import (
	"bytes"
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
