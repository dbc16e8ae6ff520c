package runtimes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitFor bounds every wait in these tests; a healthy run answers in milliseconds.
const waitFor = 15 * time.Second

var testShimDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-runtimes-shims-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Other users may traverse it, so that TestShimsRunUnprivileged can use the shims.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testShimDir = filepath.Join(dir, "runtime")
	if err := WriteShims(testShimDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ---------------------------------------------------------------------------------------------------------
// A fake Runtime API: queues events, serves them on /next with AWS's headers, records what the runtime posts.

type fakeEvent struct {
	ID            string
	Body          string
	Deadline      time.Time
	ARN           string
	Trace         string
	ClientContext string
	Cognito       string
}

type outcome struct {
	Kind    string // "response", "error" or "init-error"
	ID      string // "" for init errors
	Header  http.Header
	Body    []byte
	Trailer http.Header // of a streamed response
	Chunked bool        // the body came chunked
	At      time.Time
}

func (o outcome) String() string {
	return fmt.Sprintf("%s %s %q", o.Kind, o.ID, o.Body)
}

type fakeAPI struct {
	srv     *httptest.Server
	events  chan fakeEvent
	closing chan struct{}
	nexts   atomic.Int32

	mu       sync.Mutex
	outcomes map[string]chan outcome // by request ID
	initErrs chan outcome
	pieces   chan string // each piece of a streamed response, as it is read
	extra    []outcome   // posts for unknown or already answered IDs
}

func newFakeAPI(t *testing.T) *fakeAPI {
	api := &fakeAPI{
		events:   make(chan fakeEvent, 16),
		closing:  make(chan struct{}),
		outcomes: map[string]chan outcome{},
		initErrs: make(chan outcome, 4),
		pieces:   make(chan string, 64),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		api.record(w, r, "response", r.PathValue("id"))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		api.record(w, r, "error", r.PathValue("id"))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		api.record(w, r, "init-error", "")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Runtime API: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusNotFound)
	})
	api.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(api.closing)
		api.srv.CloseClientConnections()
		api.srv.Close()
		api.mu.Lock()
		defer api.mu.Unlock()
		for _, o := range api.extra {
			t.Errorf("unexpected post to the Runtime API: %v", o)
		}
	})
	return api
}

// addr is the value of AWS_LAMBDA_RUNTIME_API.
func (api *fakeAPI) addr() string { return strings.TrimPrefix(api.srv.URL, "http://") }

func (api *fakeAPI) next(w http.ResponseWriter, r *http.Request) {
	api.nexts.Add(1)
	select {
	case ev := <-api.events:
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", ev.ID)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(ev.Deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", ev.ARN)
		if ev.Trace != "" {
			h.Set("Lambda-Runtime-Trace-Id", ev.Trace)
		}
		if ev.ClientContext != "" {
			h.Set("Lambda-Runtime-Client-Context", ev.ClientContext)
		}
		if ev.Cognito != "" {
			h.Set("Lambda-Runtime-Cognito-Identity", ev.Cognito)
		}
		io.WriteString(w, ev.Body)
	case <-r.Context().Done():
	case <-api.closing:
	}
}

func (api *fakeAPI) record(w http.ResponseWriter, r *http.Request, kind, id string) {
	var body []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			body = append(body, buf[:n]...)
			if r.Header.Get("Lambda-Runtime-Function-Response-Mode") == "streaming" {
				api.pieces <- string(buf[:n])
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	o := outcome{Kind: kind, ID: id, Header: r.Header.Clone(), Body: body, Trailer: r.Trailer.Clone(),
		Chunked: len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked", At: time.Now()}
	api.mu.Lock()
	ch := api.outcomes[id]
	if kind == "init-error" {
		ch = api.initErrs
	}
	delivered := false
	if ch != nil {
		select {
		case ch <- o:
			delivered = true
			if kind != "init-error" {
				delete(api.outcomes, id) // a second post for this ID is unexpected
			}
		default:
		}
	}
	if !delivered {
		api.extra = append(api.extra, o)
	}
	api.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

var eventSeq atomic.Int64

// send queues an event (filling in an ID, a 30-second deadline and an ARN if unset) and returns a channel on
// which its outcome arrives.
func (api *fakeAPI) send(ev fakeEvent) (fakeEvent, <-chan outcome) {
	if ev.ID == "" {
		ev.ID = fmt.Sprintf("8476a536-e9f4-11e8-9739-%012d", eventSeq.Add(1))
	}
	if ev.Deadline.IsZero() {
		ev.Deadline = time.Now().Add(30 * time.Second)
	}
	if ev.ARN == "" {
		ev.ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn-test"
	}
	if ev.Body == "" {
		ev.Body = "{}"
	}
	ch := make(chan outcome, 1)
	api.mu.Lock()
	api.outcomes[ev.ID] = ch
	api.mu.Unlock()
	api.events <- ev
	return ev, ch
}

// ---------------------------------------------------------------------------------------------------------
// Running a shim as a plain subprocess.

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	t        *testing.T
	api      *fakeAPI
	taskRoot string
	cmd      *exec.Cmd
	stdout   *syncBuffer
	stderr   *syncBuffer
	exited   chan struct{}
	waitErr  error
}

// testEnv is what Sluice would give every function in these tests, besides Runtime.Env.
func testEnv(api *fakeAPI, handler string) map[string]string {
	return map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api.addr(),
		"_HANDLER":                        handler,
		"AWS_LAMBDA_FUNCTION_NAME":        "fn-test",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/fn-test",
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2024/01/01/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "AKIDSLUICETEST",
		"AWS_SECRET_ACCESS_KEY":           "secret",
		"AWS_SESSION_TOKEN":               "token",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:9324",
		"HOME":                            os.TempDir(),
	}
}

// start writes files into a fresh task root and starts runtime rt on it with the given handler and extra
// environment variables.
func start(t *testing.T, rt Runtime, in Interpreters, files map[string]string, handler string, env map[string]string) *harness {
	t.Helper()
	return startIn(t, t.TempDir(), nil, rt, in, files, handler, env)
}

// startIn is start with a given (existing, empty) task root, run as cred if not nil.
func startIn(t *testing.T, taskRoot string, cred *syscall.Credential, rt Runtime, in Interpreters, files map[string]string, handler string, env map[string]string) *harness {
	t.Helper()
	api := newFakeAPI(t)
	for name, content := range files {
		p := filepath.Join(taskRoot, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	argv, err := rt.CommandFor(in, testShimDir, taskRoot)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range rt.Env(testShimDir, taskRoot) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for k, v := range testEnv(api, handler) {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	h := &harness{t: t, api: api, taskRoot: taskRoot, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	h.cmd = exec.Command(argv[0], argv[1:]...)
	h.cmd.Dir = taskRoot
	for k, v := range vars {
		h.cmd.Env = append(h.cmd.Env, k+"="+v)
	}
	h.cmd.Stdout, h.cmd.Stderr = h.stdout, h.stderr
	if cred != nil {
		h.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		h.waitErr = h.cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-h.exited:
		default:
			h.cmd.Process.Kill()
			<-h.exited
		}
		if t.Failed() {
			t.Logf("stdout:\n%s", h.stdout.String())
			t.Logf("stderr:\n%s", h.stderr.String())
		}
	})
	return h
}

// invoke sends one event and waits for its outcome.
func (h *harness) invoke(ev fakeEvent) (fakeEvent, outcome) {
	h.t.Helper()
	ev, ch := h.api.send(ev)
	select {
	case o := <-ch:
		return ev, o
	case <-h.exited:
		// The process may have posted just before exiting.
		select {
		case o := <-ch:
			return ev, o
		case <-time.After(100 * time.Millisecond):
		}
		h.t.Fatalf("runtime exited (%v) before answering invocation %s", h.waitErr, ev.ID)
	case <-time.After(waitFor):
		h.t.Fatalf("no answer to invocation %s within %v", ev.ID, waitFor)
	}
	return ev, outcome{}
}

// respond invokes with body and expects a successful response, returning its body.
func (h *harness) respond(body string) string {
	h.t.Helper()
	_, o := h.invoke(fakeEvent{Body: body})
	if o.Kind != "response" {
		h.t.Fatalf("want a response, got %v", o)
	}
	return string(o.Body)
}

// respondJSON invokes and decodes the response into a map.
func (h *harness) respondJSON(body string) map[string]any {
	h.t.Helper()
	out := h.respond(body)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		h.t.Fatalf("response %q: %v", out, err)
	}
	return m
}

type errorBody struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Trace        []string `json:"trace"`      // Node
	StackTrace   []string `json:"stackTrace"` // Python
	RequestID    *string  `json:"requestId"`  // Python
}

// fails invokes and expects an invocation error, checking the header and content type.
func (h *harness) fails(body string) (fakeEvent, errorBody) {
	h.t.Helper()
	ev, o := h.invoke(fakeEvent{Body: body})
	if o.Kind != "error" {
		h.t.Fatalf("want an invocation error, got %v", o)
	}
	return ev, h.decodeError(o)
}

func (h *harness) decodeError(o outcome) errorBody {
	h.t.Helper()
	var e errorBody
	if err := json.Unmarshal(o.Body, &e); err != nil {
		h.t.Fatalf("error body %q: %v", o.Body, err)
	}
	if got := o.Header.Get("Lambda-Runtime-Function-Error-Type"); got != e.ErrorType {
		h.t.Errorf("Lambda-Runtime-Function-Error-Type = %q, body errorType = %q", got, e.ErrorType)
	}
	if ct := o.Header.Get("Content-Type"); ct != "application/vnd.aws.lambda.error+json" {
		h.t.Errorf("error Content-Type = %q", ct)
	}
	return e
}

// initError waits for the init error, then for the process to exit, and returns the error and exit code.
func (h *harness) initError() (errorBody, int) {
	h.t.Helper()
	var o outcome
	select {
	case o = <-h.api.initErrs:
	case <-time.After(waitFor):
		h.t.Fatalf("no init error within %v", waitFor)
	}
	e := h.decodeError(o)
	code := h.exitCode()
	if n := h.api.nexts.Load(); n != 0 {
		h.t.Errorf("runtime asked for %d invocations after an init error", n)
	}
	return e, code
}

// exitCode waits for the process to exit.
func (h *harness) exitCode() int {
	h.t.Helper()
	select {
	case <-h.exited:
	case <-time.After(waitFor):
		h.t.Fatalf("runtime still running after %v", waitFor)
	}
	var ee *exec.ExitError
	if errors.As(h.waitErr, &ee) {
		return ee.ExitCode()
	}
	if h.waitErr != nil {
		h.t.Fatalf("wait: %v", h.waitErr)
	}
	return 0
}

// eventually waits until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------------------------
// Interpreters for the tests: SLUICE_TEST_NODE / SLUICE_TEST_PYTHON if set (to try other versions), else what
// FindInterpreters picks.

var (
	testInterpOnce sync.Once
	testInterp     Interpreters
)

func interpreters(t *testing.T) Interpreters {
	testInterpOnce.Do(func() {
		found, _ := findInterpreters("", "")
		if p := os.Getenv("SLUICE_TEST_NODE"); p != "" {
			found.Node = p
		}
		if p := os.Getenv("SLUICE_TEST_PYTHON"); p != "" {
			found.Python = p
		}
		testInterp = found
	})
	return testInterp
}

func needNode(t *testing.T) Interpreters {
	in := interpreters(t)
	if in.Node == "" {
		t.Skip("no usable node interpreter on this machine")
	}
	return in
}

func needPython(t *testing.T) Interpreters {
	in := interpreters(t)
	if in.Python == "" {
		t.Skip("no usable python3 interpreter on this machine")
	}
	return in
}

func mustLookup(t *testing.T, name string) Runtime {
	t.Helper()
	rt, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) failed", name)
	}
	return rt
}
