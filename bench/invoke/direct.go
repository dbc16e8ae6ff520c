package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// fakeRuntimeAPI is just enough of the Lambda Runtime API to time a runtime's own start-up: it notes when the
// first GET /next arrives and then holds the request open (no event ever comes).
type fakeRuntimeAPI struct {
	srv      *http.Server
	addr     string
	arrivals chan time.Time
}

func startFakeRuntimeAPI() (*fakeRuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeRuntimeAPI{addr: ln.Addr().String(), arrivals: make(chan time.Time, 1)}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *fakeRuntimeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
		http.NotFound(w, r)
		return
	}
	select {
	case f.arrivals <- time.Now():
	default:
	}
	<-r.Context().Done()
}

func (f *fakeRuntimeAPI) close() { f.srv.Close() }

// directSample runs the bootstrap on the host, unsandboxed, and returns the time from just before fork to its
// first GET /next: the function's own start-up, which no platform can avoid.
func (f *fakeRuntimeAPI) directSample(ctx context.Context, bootstrap string) (time.Duration, error) {
	select { // a stale arrival from a previous sample must not count
	case <-f.arrivals:
	default:
	}
	cmd := exec.Command(bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + f.addr, "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=us-east-1", "LAMBDA_TASK_ROOT=" + filepath.Dir(bootstrap), "_HANDLER=bootstrap"}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = childAttr(syscall.SIGKILL, true)
	done := make(chan struct{})
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { cmd.Wait(); close(done) }()
	defer func() { killGroup(cmd); <-done }()
	select {
	case at := <-f.arrivals:
		return at.Sub(start), nil
	case <-done:
		return 0, fmt.Errorf("bootstrap exited before asking for an event: %v", cmd.ProcessState)
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("bootstrap did not ask for an event within 10s")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// measureDirect times the bootstrap's own start-up on the host, n samples after one discarded.
func measureDirect(ctx context.Context, bootstrap string, n int) ([]time.Duration, error) {
	api, err := startFakeRuntimeAPI()
	if err != nil {
		return nil, err
	}
	defer api.close()
	var out []time.Duration
	for i := range n + 1 {
		d, err := api.directSample(ctx, bootstrap)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}
