package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// floor is the loopback floor: a Go net/http server in the harness process that echoes the request body. No
// Lambda platform can answer an HTTP invocation on this machine faster than this.
type floor struct {
	srv       *http.Server
	base, url string
}

func startFloor() (*floor, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, r.Body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	return &floor{srv: srv, base: base, url: base + "/2015-03-31/functions/function/invocations"}, nil
}

func (f *floor) close() { f.srv.Close() }

// postInvoker POSTs the payload to url with plain net/http and checks the answer is the payload echoed back.
func postInvoker(client *http.Client, url string, payload []byte) invoker {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %.80s", resp.StatusCode, body)
		}
		if !bytes.Equal(bytes.TrimSpace(body), payload) {
			return fmt.Errorf("unexpected answer: %.80s", body)
		}
		return nil
	}
}

// httpClient keeps one idle connection per worker, so no target pays for reconnecting because the client's pool
// is smaller than its concurrency (Go's default keeps 2, the AWS SDK's 10).
func httpClient(concurrency int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = concurrency
	return &http.Client{Transport: t, Timeout: time.Minute}
}

// floorMeasurements are the loopback floor's results, with plain net/http and with aws-sdk-go-v2 as the client.
type floorMeasurements struct {
	c1, cN       result
	sdkC1, sdkCN result // the same echo server invoked through aws-sdk-go-v2: what the client alone costs
	fnC1, fnCN   result // the Runtime API floor (see fnFloor)
}

func measureFloor(ctx context.Context, cfg config) (fm floorMeasurements, err error) {
	f, err := startFloor()
	if err != nil {
		return fm, err
	}
	defer f.close()
	client := httpClient(cfg.concurrency)
	defer client.CloseIdleConnections()
	if fm.c1, fm.cN, err = warmAndMeasure(ctx, cfg, postInvoker(client, f.url, payload), 0, 0); err != nil {
		return fm, fmt.Errorf("floor: %w", err)
	}
	// The echo server answers any path, so the SDK's Invoke gets its payload back as a function would send it.
	sdk := sdkClient(f.base, cfg.concurrency)
	inv := sdkInvoker(sdk, "bench", "live", payload, &versionCount{n: map[string]int{}})
	if fm.sdkC1, fm.sdkCN, err = warmAndMeasure(ctx, cfg, inv, 0, 0); err != nil {
		return fm, fmt.Errorf("floor via the SDK: %w", err)
	}
	return fm, nil
}
