package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// floor is the loopback floor: a Go net/http server that echoes the request body. Run in a process of its own,
// like every platform measured, it is what no Lambda platform can beat on this machine: one HTTP exchange between
// two processes and nothing else. Run inside the harness (client and server in one process, so every hand-off is
// a goroutine switch), it is a lower bound that no separate server can reach.
type floor struct {
	srv       *http.Server // in-process
	cmd       *exec.Cmd    // own process
	base, url string
}

// echoServerFlag makes the harness binary serve the floor (see serveEcho) instead of measuring;
// fastEchoServerFlag, the same echo with fasthttp, the HTTP server of Sluice's Runtime API.
const (
	echoServerFlag     = "-serve-echo"
	fastEchoServerFlag = "-serve-echo-fasthttp"
)

func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, r.Body)
	})
}

func newFloor(addr string) *floor {
	base := "http://" + addr
	return &floor{base: base, url: base + "/2015-03-31/functions/function/invocations"}
}

func startFloorInProcess() (*floor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := newFloor(ln.Addr().String())
	f.srv = &http.Server{Handler: echoHandler(), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

// startFloorProcess runs the echo server as a child: this binary again, with echoServerFlag or fastEchoServerFlag.
func startFloorProcess(flag string) (*floor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, flag)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr(syscall.SIGKILL, true)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		killGroup(cmd)
		cmd.Wait()
		return nil, fmt.Errorf("echo server: %w", err)
	}
	f := newFloor(strings.TrimSpace(addr))
	f.cmd = cmd
	return f, nil
}

// serveEcho is the echo server's process: it prints its address and serves (with fasthttp if fast) until killed.
func serveEcho(fast bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	if fast {
		srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.SetContentType("application/json")
			ctx.Response.SetBodyRaw(ctx.Request.Body())
		}, NoDefaultServerHeader: true}
		srv.Serve(ln)
		return
	}
	srv := &http.Server{Handler: echoHandler(), ReadHeaderTimeout: 10 * time.Second}
	srv.Serve(ln)
}

func (f *floor) pid() int {
	if f.cmd == nil {
		return 0
	}
	return f.cmd.Process.Pid
}

func (f *floor) close() {
	if f.srv != nil {
		f.srv.Close()
	}
	if f.cmd != nil {
		killGroup(f.cmd)
		f.cmd.Wait()
	}
}

// postInvoker POSTs the payload to url with plain net/http and checks the answer is the payload echoed back.
func postInvoker(client *http.Client, url string, payload []byte) invoker {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		_, body, err := send(client, req)
		if err != nil {
			return err
		}
		if !bytes.Equal(bytes.TrimSpace(body), payload) {
			return fmt.Errorf("unexpected answer: %.80s", body)
		}
		return nil
	}
}

// send performs req and returns the answer's headers and body, or an error for anything but HTTP 200.
func send(client *http.Client, req *http.Request) (http.Header, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP %d: %.80s", resp.StatusCode, body)
	}
	return resp.Header, body, nil
}

// httpClient keeps one idle connection per worker, so no target pays for reconnecting because the client's pool
// is smaller than its concurrency (Go's default keeps 2, the AWS SDK's 10).
func httpClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = concurrency
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// floorMeasurements are the floors' results.
type floorMeasurements struct {
	c1, cN       result // the echo server in its own process, plain net/http: the floor the targets are set against
	fastCN       result // the same with a fasthttp echo server: what one exchange costs a server with the cheapest HTTP
	inC1, inCN   result // the echo server inside the harness
	sdkC1, sdkCN result // the echo server in its own process invoked through aws-sdk-go-v2: what that client costs
	fnC1, fnCN   result // the Runtime API floor (see fnFloor)
}

func measureFloor(ctx context.Context, cfg config) (fm floorMeasurements, err error) {
	client := httpClient(cfg.concurrency)
	defer client.CloseIdleConnections()
	own, err := startFloorProcess(echoServerFlag)
	if err != nil {
		return fm, err
	}
	defer own.close()
	if fm.c1, fm.cN, err = warmAndMeasure(ctx, cfg, postInvoker(client, own.url, payload), own.pid(), 0); err != nil {
		return fm, fmt.Errorf("floor: %w", err)
	}
	fast, err := startFloorProcess(fastEchoServerFlag)
	if err != nil {
		return fm, err
	}
	defer fast.close()
	fastClient := httpClient(cfg.concurrency)
	defer fastClient.CloseIdleConnections()
	if _, fm.fastCN, err = warmAndMeasure(ctx, cfg, postInvoker(fastClient, fast.url, payload), fast.pid(), 0); err != nil {
		return fm, fmt.Errorf("fasthttp floor: %w", err)
	}
	// The echo server answers any path, so the SDK's Invoke gets its payload back as a function would send it.
	sdk := sdkClient(own.base, cfg.concurrency)
	inv := sdkInvoker(sdk, "bench", "live", payload, &versionCount{n: map[string]int{}})
	if fm.sdkC1, fm.sdkCN, err = warmAndMeasure(ctx, cfg, inv, own.pid(), 0); err != nil {
		return fm, fmt.Errorf("floor via the SDK: %w", err)
	}
	in, err := startFloorInProcess()
	if err != nil {
		return fm, err
	}
	defer in.close()
	if fm.inC1, fm.inCN, err = warmAndMeasure(ctx, cfg, postInvoker(client, in.url, payload), 0, 0); err != nil {
		return fm, fmt.Errorf("in-process floor: %w", err)
	}
	return fm, nil
}
