package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// fnFloor is the Runtime API floor: the harness itself plays a minimal Lambda Runtime API and hands events
// straight to bootstrap processes running unsandboxed on the host. What it measures — event to aws-lambda-go's
// answer over HTTP, including the process hand-offs — is what every platform that runs the function as its own
// process pays on top of the client's request, before any work of its own.
type fnFloor struct {
	srv    *http.Server
	addr   string
	events chan fnEvent
	seq    atomic.Int64
	procs  []*exec.Cmd
	exited sync.WaitGroup

	mu      sync.Mutex
	waiting map[string]chan []byte // request id → where its answer goes
}

type fnEvent struct {
	id      string
	payload []byte
}

// startFnFloor starts the API and n bootstraps (one invocation at a time each, as in Lambda), each pinned to one
// CPU like Sluice's environments.
func startFnFloor(bootstrap string, n int) (*fnFloor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fnFloor{addr: ln.Addr().String(), events: make(chan fnEvent), waiting: map[string]chan []byte{}}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	for i := range n {
		cmd := exec.Command(bootstrap)
		cmd.Dir = filepath.Dir(bootstrap)
		cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + f.addr, "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=us-east-1"}
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		cmd.SysProcAttr = childAttr(syscall.SIGKILL, true)
		if err := startPinned(cmd, i%runtime.NumCPU()); err != nil { // spread over the CPUs, one each, as Sluice does
			f.close()
			return nil, err
		}
		f.procs = append(f.procs, cmd)
		f.exited.Go(func() { cmd.Wait() })
	}
	return f, nil
}

func (f *fnFloor) close() {
	for _, cmd := range f.procs {
		killGroup(cmd)
	}
	f.exited.Wait()
	f.srv.Close()
}

func (f *fnFloor) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/runtime/invocation/next"):
		select {
		case ev := <-f.events:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", ev.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench")
			h.Set("Content-Type", "application/json")
			w.Write(ev.payload)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && strings.Contains(path, "/runtime/invocation/"):
		body, _ := io.ReadAll(r.Body)
		id := strings.TrimPrefix(path[:strings.LastIndexByte(path, '/')], "/2018-06-01/runtime/invocation/")
		if strings.HasSuffix(path, "/error") {
			body = append([]byte("function error: "), body...)
		}
		f.mu.Lock()
		ch := f.waiting[id]
		delete(f.waiting, id)
		f.mu.Unlock()
		if ch != nil {
			ch <- body
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusAccepted) // init errors and the like: the echo function sends none
	}
}

// invoker hands one event to whichever bootstrap is waiting and waits for its answer.
func (f *fnFloor) invoker(payload []byte) invoker {
	return func(ctx context.Context) error {
		id := strconv.FormatInt(f.seq.Add(1), 10)
		answer := make(chan []byte, 1)
		f.mu.Lock()
		f.waiting[id] = answer
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.waiting, id)
			f.mu.Unlock()
		}()
		select {
		case f.events <- fnEvent{id: id, payload: payload}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case body := <-answer:
			if !bytes.Equal(body, payload) {
				return fmt.Errorf("unexpected answer: %.80s", body)
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// measureFnFloor measures the Runtime API floor with one bootstrap per in-flight invocation.
func measureFnFloor(ctx context.Context, cfg config, bootstrap string) (c1, cN result, err error) {
	f, err := startFnFloor(bootstrap, cfg.concurrency)
	if err != nil {
		return c1, cN, err
	}
	defer f.close()
	if c1, cN, err = warmAndMeasure(ctx, cfg, f.invoker(payload), 0, os.Getpid()); err != nil {
		return c1, cN, fmt.Errorf("runtime API floor: %w", err)
	}
	return c1, cN, nil
}

// warmAndMeasure warms a target up (concurrently, then sequentially) and measures it at concurrency 1 and at
// the configured concurrency.
func warmAndMeasure(ctx context.Context, cfg config, inv invoker, serverPid, fnParent int) (c1, cN result, err error) {
	if err := warmUp(ctx, inv, cfg.concurrency, 50*cfg.concurrency); err != nil {
		return c1, cN, fmt.Errorf("warm-up: %w", err)
	}
	if err := warmUp(ctx, inv, 1, cfg.warmup); err != nil {
		return c1, cN, fmt.Errorf("warm-up: %w", err)
	}
	waitQuiet()
	c1 = measure(ctx, phase{1, cfg.n, cfg.duration}, inv, serverPid, fnParent)
	cN = measure(ctx, phase{cfg.concurrency, 1 << 30, cfg.duration}, inv, serverPid, fnParent)
	return c1, cN, ctx.Err()
}
