package invoke

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/controlplane"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/sandbox"
	"github.com/sluice-dev/sluice/internal/store"
)

// This file holds the fakes the in-process tests run the orchestration with: a catalog Source, a clock, and
// fakeSandboxes, whose "function processes" are goroutines speaking the Runtime API over loopback HTTP the way
// aws-lambda-go does (GET next, POST response or error, POST init/error).
//
// A fake runtime's behaviour is scripted by its function's configuration and by each event:
//
//	FAKE_INIT=slow   takes 100 ms to initialise     event "crash"  exits with status 1
//	FAKE_INIT=hang   never asks for an event
//	FAKE_INIT=error  reports an init error          event "hang"   never answers (until killed)
//	FAKE_INIT=exit   exits with status 2 at init    event "fail"   answers with a function error
//	                                                event "oom"    is killed by the OOM killer
//	                                                event "block"  waits for fakeSandboxes.gate
//	any other event: answers {"event": <event>, "pid": <the process's pid>}.
//
// Events starting with "stream" stream their response (Content-Type text/plain, as AWS's runtimes post it:
// chunked, with the error trailers declared): "one", then
//
//	"stream"        waits for fakeSandboxes.gate (as "block" does), then sends "two" and ends
//	"stream-crash"  waits for the gate, then exits with status 1 mid-response
//	"stream-hang"   waits for the gate, then never sends more (until killed)
//	"stream-fail"   ends at once with the error trailers of a Boom error
//
// Admission: each fake process connects from a loopback address of its own that encodes its uid (127.x.y.z, see
// addrFor), and fakeSandboxes.PeerUID decodes it, so the Service's admission check runs unchanged: a connection
// from anywhere else (127.0.0.1) belongs to no environment and is refused.

// fakeSource is an in-memory control plane.
//
// Every package is extracted ("/nonexistent/code/<sha>") unless named in absent: such a package is on another node
// (a cluster) until EnsureCode brings it, counted in ensured; ensureErr makes EnsureCode fail.
type fakeSource struct {
	mu        sync.Mutex
	snaps     map[string]controlplane.Snapshot
	rev       int64
	watchers  []chan controlplane.FunctionChanges
	absent    map[string]bool
	ensured   map[string]int
	ensureErr error
}

func (f *fakeSource) Snapshot(_ context.Context, name string) (controlplane.Snapshot, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.snaps[name]
	return s, ok, nil
}

func (f *fakeSource) FunctionNames(context.Context) ([]string, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.snaps {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, f.rev, nil
}

// WatchFunctions streams the changes put makes from now on (the catalog watches from the revision it listed at,
// and nothing changes in between in these tests).
func (f *fakeSource) WatchFunctions(ctx context.Context, _ int64) (<-chan controlplane.FunctionChanges, error) {
	ch := make(chan controlplane.FunctionChanges, 64)
	f.mu.Lock()
	f.watchers = append(f.watchers, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.watchers = slices.DeleteFunc(f.watchers, func(w chan controlplane.FunctionChanges) bool { return w == ch })
		close(ch)
	}()
	return ch, nil
}

func (f *fakeSource) CodeDir(sha string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.absent[sha] {
		return "", false
	}
	return "/nonexistent/code/" + sha, true
}

func (f *fakeSource) EnsureCode(_ context.Context, sha string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ensured == nil {
		f.ensured = map[string]int{}
	}
	f.ensured[sha]++
	if f.ensureErr != nil {
		return "", f.ensureErr
	}
	delete(f.absent, sha)
	return "/nonexistent/code/" + sha, nil
}

// ensures is how many times EnsureCode was asked for sha.
func (f *fakeSource) ensures(sha string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ensured[sha]
}

// put stores a function's snapshot and returns the revision of the change.
func (f *fakeSource) put(s controlplane.Snapshot) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snaps == nil {
		f.snaps = map[string]controlplane.Snapshot{}
	}
	f.snaps[s.Function.Name] = s
	f.rev++
	for _, w := range f.watchers {
		w <- controlplane.FunctionChanges{Revision: f.rev, Names: []string{s.Function.Name}}
	}
	return f.rev
}

// dropBehindWatch removes a function without telling the watchers, then ends their watches as a store does for a
// reader that fell behind; it returns the revision of the removal.
func (f *fakeSource) dropBehindWatch(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.snaps, name)
	f.rev++
	for _, w := range f.watchers {
		w <- controlplane.FunctionChanges{Err: store.ErrLagged}
	}
	return f.rev
}

// testConfig is a runnable configuration; env scripts the fake runtime.
func testConfig(timeout int, env map[string]string) lambda.Config {
	return lambda.Config{Runtime: "provided.al2023", Handler: "bootstrap", Timeout: timeout, MemorySize: 128,
		EphemeralStorage: 512, CodeSha256: "code", LogGroup: "/aws/lambda/test", Environment: env}
}

// activeSnapshot is a function whose $LATEST is cfg, with the given published versions (all cfg).
func activeSnapshot(name string, cfg lambda.Config, versions ...int) controlplane.Snapshot {
	active := lambda.Status{State: lambda.StateActive}
	s := controlplane.Snapshot{Function: lambda.Function{Name: name, Config: cfg, Status: active}, Effective: cfg}
	for _, n := range versions {
		s.Versions = append(s.Versions, lambda.Version{Function: name, Number: n, Config: cfg, Status: active})
	}
	return s
}

// fakeClock is the time keep-alive, maximum lifetime and inactivity are measured by; tests step it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeSandboxes starts fake runtimes instead of sandboxed processes.
type fakeSandboxes struct {
	gate    chan struct{} // closed to let "block" events answer
	blocked chan int      // a "block" event arrived (the pid)

	mu    sync.Mutex
	procs []*fakeProc
	wg    sync.WaitGroup
}

func newFakeSandboxes() *fakeSandboxes {
	return &fakeSandboxes{gate: make(chan struct{}), blocked: make(chan int, 100)}
}

func (f *fakeSandboxes) Detect() sandbox.Mechanisms { return sandbox.Mechanisms{} }

func (f *fakeSandboxes) Start(_ context.Context, spec sandbox.Spec) (process, error) {
	env := map[string]string{}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.mu.Lock()
	p := &fakeProc{pid: 1000 + len(f.procs), uid: spec.UID, api: env["AWS_LAMBDA_RUNTIME_API"], env: env, codeDir: spec.CodeDir,
		done: make(chan struct{}), ctx: ctx, cancel: cancel}
	f.procs = append(f.procs, p)
	f.mu.Unlock()
	f.wg.Go(func() { f.run(p) })
	return p, nil
}

// addrFor is the loopback address the fake process of uid connects from.
func addrFor(uid uint32) net.IP { return net.IPv4(127, byte(uid>>16), byte(uid>>8), byte(uid)) }

func (f *fakeSandboxes) PeerUID(c net.Conn) (uint32, error) {
	ip := c.RemoteAddr().(*net.TCPAddr).IP.To4()
	if ip == nil || ip[0] != 127 {
		return 0, fmt.Errorf("not loopback: %v", c.RemoteAddr())
	}
	return uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3]), nil
}

// launched is how many processes were started.
func (f *fakeSandboxes) launched() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.procs)
}

func (f *fakeSandboxes) proc(pid int) *fakeProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[pid-1000]
}

// run is the fake runtime: aws-lambda-go's loop, scripted.
func (f *fakeSandboxes) run(p *fakeProc) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addrFor(p.uid)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	base := "http://" + p.api + "/2018-06-01/runtime/"
	post := func(path, errorType string, body []byte) error {
		req, _ := http.NewRequestWithContext(p.ctx, http.MethodPost, base+path, bytes.NewReader(body))
		if errorType != "" {
			req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	switch p.env["FAKE_INIT"] {
	case "slow":
		select {
		case <-time.After(100 * time.Millisecond):
		case <-p.ctx.Done():
			return
		}
	case "error":
		post("init/error", "Runtime.ConfigError", []byte(`{"errorType":"Runtime.ConfigError","errorMessage":"bad config"}`))
		<-p.ctx.Done() // killed by the service
		return
	case "exit":
		p.end(sandbox.Exit{Code: 2})
		return
	case "hang":
		<-p.ctx.Done()
		return
	}
	for {
		req, _ := http.NewRequestWithContext(p.ctx, http.MethodGet, base+"invocation/next", nil)
		resp, err := client.Do(req)
		if err != nil {
			return // killed
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			<-p.ctx.Done()
			return
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var name string
		json.Unmarshal(event, &name)
		switch name {
		case "crash":
			p.end(sandbox.Exit{Code: 1})
			return
		case "oom":
			p.end(sandbox.Exit{Code: -1, Signal: "killed", OOMKilled: true})
			return
		case "hang":
			<-p.ctx.Done()
			return
		case "fail":
			post("invocation/"+id+"/error", "Boom", []byte(`{"errorType":"Boom","errorMessage":"boom"}`))
			continue
		case "block":
			f.blocked <- p.pid
			select {
			case <-f.gate:
			case <-p.ctx.Done():
				return
			}
		case "stream", "stream-fail", "stream-crash", "stream-hang":
			if !f.stream(p, client, base+"invocation/"+id+"/response", name) {
				return
			}
			continue
		}
		answer, _ := json.Marshal(map[string]any{"event": json.RawMessage(event), "pid": p.pid})
		if post("invocation/"+id+"/response", "", answer) != nil {
			return
		}
	}
}

// stream posts a streamed response as the scripted event says; false: the process ended.
func (f *fakeSandboxes) stream(p *fakeProc, client *http.Client, url, event string) bool {
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(p.ctx, http.MethodPost, url, pr)
	req.ContentLength = -1
	req.Header.Set("Lambda-Runtime-Function-Response-Mode", "streaming")
	req.Header.Set("Content-Type", "text/plain")
	req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	if event == "stream-fail" {
		req.Trailer.Set("Lambda-Runtime-Function-Error-Type", "Boom")
		req.Trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(`{"errorType":"Boom","errorMessage":"boom mid-stream"}`)))
	}
	done := make(chan error, 1)
	go func() {
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	alive := true
	if _, err := pw.Write([]byte("one")); err != nil {
		alive = false
	}
	if alive && event != "stream-fail" {
		f.blocked <- p.pid
		select {
		case <-f.gate:
		case <-p.ctx.Done():
			alive = false
		}
	}
	switch {
	case !alive:
	case event == "stream":
		_, err := pw.Write([]byte("two"))
		alive = err == nil
	case event == "stream-crash":
		p.end(sandbox.Exit{Code: 1})
		alive = false
	case event == "stream-hang":
		<-p.ctx.Done()
		alive = false
	}
	if alive {
		pw.Close()
	} else {
		pw.CloseWithError(errors.New("the runtime died"))
	}
	return <-done == nil && alive
}

// fakeProc is a fake runtime's process handle.
type fakeProc struct {
	pid int
	uid uint32
	api string // AWS_LAMBDA_RUNTIME_API
	env map[string]string

	codeDir string // the sandbox's CodeDir

	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	exit   sandbox.Exit
	done   chan struct{}
}

func (p *fakeProc) end(x sandbox.Exit) {
	p.once.Do(func() {
		p.exit = x
		p.cancel()
		close(p.done)
	})
}

func (p *fakeProc) Done() <-chan struct{} { return p.done }
func (p *fakeProc) Wait() sandbox.Exit    { <-p.done; return p.exit }
func (p *fakeProc) Kill()                 { p.end(sandbox.Exit{Code: -1, Signal: "killed"}) }
func (p *fakeProc) Pid() int              { return p.pid }

func (p *fakeProc) PeakMemoryBytes() uint64   { return 42 << 20 }
func (p *fakeProc) FlushOutput(time.Duration) {}
func (p *fakeProc) killed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// fakeLifecycle records deactivations and provisioned-concurrency reports.
type fakeLifecycle struct {
	mu          sync.Mutex
	deactivated []string
	reports     map[string]map[string]controlplane.ProvisionedReport
}

func (l *fakeLifecycle) ReportProvisioned(_ context.Context, name string, r map[string]controlplane.ProvisionedReport) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reports == nil {
		l.reports = map[string]map[string]controlplane.ProvisionedReport{}
	}
	l.reports[name] = r
	return nil
}

// report is the last report written for a function's configuration.
func (l *fakeLifecycle) report(name, qualifier string) controlplane.ProvisionedReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reports[name][qualifier]
}

func (l *fakeLifecycle) Deactivate(_ context.Context, name string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deactivated = append(l.deactivated, name)
	return true, nil
}

func (l *fakeLifecycle) Reactivate(context.Context, string) error { return nil }

// coldStarts counts ColdStart notifications.
type coldStarts struct {
	mu sync.Mutex
	n  int
}

func (c *coldStarts) Invocation(string, string, string, time.Duration, bool) {}
func (c *coldStarts) Throttle(string, string)                                {}
func (c *coldStarts) ColdStart(string, string) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *coldStarts) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// harness is a Service running on fakes.
type harness struct {
	t     *testing.T
	svc   *Service
	src   *fakeSource
	sbx   *fakeSandboxes
	clock *fakeClock
	life  *fakeLifecycle
	cold  *coldStarts
}

// newHarness starts a Service over the given functions; edit sets options before New.
func newHarness(t *testing.T, edit func(*Options), snaps ...controlplane.Snapshot) *harness {
	t.Helper()
	h := &harness{t: t, src: &fakeSource{}, sbx: newFakeSandboxes(),
		clock: &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, life: &fakeLifecycle{}, cold: &coldStarts{}}
	for _, s := range snaps {
		h.src.put(s)
	}
	o := Options{Source: h.src, Account: lambda.Account{Region: "us-east-1", ID: "123456789012"}, DataDir: t.TempDir(),
		Lifecycle: h.life, Observer: h.cold, Logger: slog.New(slog.DiscardHandler), sandboxes: h.sbx, now: h.clock.Now}
	if edit != nil {
		edit(&o)
	}
	svc, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	ctx, stop := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		svc.loops.Wait()
		select {
		case <-h.sbx.gate:
		default:
			close(h.sbx.gate)
		}
		svc.shutdown()
		h.sbx.wg.Wait() // every fake runtime has ended
	})
	return h
}

// change replaces a function's snapshot and returns once the service applied it, as an API call does.
func (h *harness) change(s controlplane.Snapshot) {
	h.t.Helper()
	if err := h.svc.opts.Progress.Wait(context.Background(), h.src.put(s)); err != nil {
		h.t.Fatal(err)
	}
}

// invoke runs a synchronous invocation of ref with a JSON string event.
func (h *harness) invoke(ref, event string) (Result, error) {
	name, qualifier, _ := strings.Cut(ref, ":")
	payload, _ := json.Marshal(event)
	return h.svc.Invoke(context.Background(), Request{Ref: lambda.Ref{Name: name, Qualifier: qualifier},
		Type: RequestResponse, Payload: payload})
}

// pid invokes ref and returns the pid of the fake runtime that answered.
func (h *harness) pid(ref string) int {
	h.t.Helper()
	res, err := h.invoke(ref, "hello")
	if err != nil || res.FunctionError != "" {
		h.t.Fatalf("invoke %s: %v %s %s", ref, err, res.FunctionError, res.Payload)
	}
	var answer struct{ PID int }
	if err := json.Unmarshal(res.Payload, &answer); err != nil || answer.PID == 0 {
		h.t.Fatalf("answer %s: %v", res.Payload, err)
	}
	return answer.PID
}

// stats sums the pools of a function.
func (h *harness) stats(function string) (idle, busy, provisioned int) {
	for _, p := range h.svc.Pools() {
		if p.Function == function {
			idle, busy, provisioned = idle+p.Idle, busy+p.Busy, provisioned+p.Provisioned
		}
	}
	return
}

// eventually waits (up to 5 s of real time) for cond: for work the service does in the background.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // only to fail instead of hanging on a loaded machine
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
