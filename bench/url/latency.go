package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// body is what a healthy version of ./fn answers (fn.Body).
const body = "hello from sluice\n"

// Target names, in the report's order.
const (
	targetURL    = "function URL (GET, NONE, alias live)"
	targetInvoke = "Invoke API (POST …/invocations?Qualifier=live, SigV4)"
	targetFloor  = "loopback floor (net/http in the harness, same bytes)"
)

// latencyRun is the first part's results: one wrkResult per target, concurrency and round.
type latencyRun struct {
	urlHost    string
	answer     string // the URL's answer as the floor replays it: status line and headers
	invokeSize int    // bytes of the Invoke payload (the URL's event, as the function gets it)
	warmup     []wrkResult
	rounds     [][]wrkResult
}

// measureLatency creates function web (version 1 behind alias live, a NONE URL on live), checks each target
// answers as expected, warms Sluice up and runs the rounds.
func measureLatency(ctx context.Context, cfg config, c *clients, pkg []byte, dir string, serverPid int) (latencyRun, error) {
	var lr latencyRun
	log.Print("latency: creating function web, alias live and its NONE URL")
	fnURL, err := webFunction(ctx, c, "web", pkg, nil, map[string]string{"BUILD": "1"})
	if err != nil {
		return lr, fmt.Errorf("latency set-up: %w", err)
	}
	u, err := url.Parse(fnURL)
	if err != nil {
		return lr, err
	}
	lr.urlHost = u.Host

	// (a) The URL: wrk dials the API listener and names the URL's host.
	hc := urlClient(c.addr, 1)
	defer hc.CloseIdleConnections()
	header, err := checkURL(ctx, hc, fnURL)
	if err != nil {
		return lr, err
	}
	urlT := wrkTarget{name: targetURL, url: "http://" + c.addr + "/", host: u.Host}

	// (c) The floor answers what the URL answered: status, the same headers (Date and Content-Length are net/http's
	// own) and body.
	floorSrv, floorAddr, err := startFloor(header)
	if err != nil {
		return lr, err
	}
	defer floorSrv.Close()
	lr.answer = describeAnswer(header)
	floorT := wrkTarget{name: targetFloor, url: "http://" + floorAddr + "/", host: u.Host}

	// (b) Invoke: the function gets the event its URL would hand it; one request is signed just before each run
	// and replayed as it is by every wrk connection.
	event := urlEvent(u, c.addr)
	lr.invokeSize = len(event)
	invokeURL := c.endpoint + "/2015-03-31/functions/web/invocations?Qualifier=live"
	if err := checkInvoke(ctx, invokeURL, event); err != nil {
		return lr, err
	}
	invokeT := wrkTarget{name: targetInvoke, url: invokeURL, lua: func() (string, error) { return signedLua(ctx, invokeURL, event) }}

	log.Printf("latency: warming Sluice up (wrk, %d connections, %s per target)", cfg.concurrency, cfg.warmup)
	for _, t := range []wrkTarget{urlT, invokeT} {
		r, err := runWrk(ctx, t, cfg.concurrency, cfg.threads, cfg.warmup, dir, serverPid)
		if err != nil {
			return lr, fmt.Errorf("warm-up: %w", err)
		}
		if r.status+r.socket > 0 {
			return lr, fmt.Errorf("warm-up of %s: %d error statuses, %d socket errors of %d", t.name, r.status, r.socket, r.requests)
		}
		lr.warmup = append(lr.warmup, r)
	}
	targets := []wrkTarget{floorT, urlT, invokeT}
	for round := range cfg.rounds {
		order := slices.Clone(targets)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		var results []wrkResult
		for _, conc := range []int{1, cfg.concurrency} {
			for _, t := range order {
				r, err := runWrk(ctx, t, conc, cfg.threads, cfg.duration, dir, serverPid)
				if err != nil {
					return lr, err
				}
				log.Printf("round %d, c=%d, %s: p50 %s, p99 %s, %.0f req/s, %d error statuses, %d socket errors; machine %.0f%% busy, others %.0f%%",
					round+1, conc, t.name, ms(r.p50), ms(r.p99), r.rps(), r.status, r.socket, r.cpu.share(r.cpu.busy), r.cpu.share(r.cpu.others))
				results = append(results, r)
			}
		}
		lr.rounds = append(lr.rounds, results)
	}
	return lr, nil
}

// checkURL GETs the URL once and checks it answers what a healthy version answers; it returns the answer's
// headers.
func checkURL(ctx context.Context, hc *http.Client, fnURL string) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fnURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", fnURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != body || resp.Header.Get("X-Sluice-Executed-Version") != "1" {
		return nil, fmt.Errorf("GET %s: %d %v %q, want 200 from version 1 with %q", fnURL, resp.StatusCode, resp.Header, b, body)
	}
	return resp.Header, nil
}

// startFloor serves, on a loopback port of its own, a fixed 200 answer with header's fields and the function's body.
func startFloor(header http.Header) (*http.Server, string, error) {
	fixed := http.Header{}
	for k, v := range header {
		if k != "Date" && k != "Content-Length" {
			fixed[k] = v
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		h.Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	})}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), nil
}

// describeAnswer lists an answer's header names (not the request ID's value, which changes with every answer).
func describeAnswer(h http.Header) string {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	return "200 with " + strings.Join(names, ", ") + fmt.Sprintf(" and a %d-byte body", len(body))
}

// urlEvent is the payload-2.0 event Sluice hands the function for wrk's GET / on the URL (wrk sends only a Host
// header), as the Invoke API's payload: the function gets the same input through both paths.
func urlEvent(u *url.URL, addr string) []byte {
	id, _, _ := strings.Cut(u.Hostname(), ".")
	_, port, _ := net.SplitHostPort(u.Host)
	now := time.Now().UTC()
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
		"headers": map[string]string{"host": u.Host, "x-forwarded-proto": "http", "x-forwarded-port": port, "x-forwarded-for": "127.0.0.1"},
		"requestContext": map[string]any{
			"accountId": "000000000000", "apiId": id, "domainName": u.Hostname(), "domainPrefix": id,
			"http":      map[string]string{"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": ""},
			"requestId": "0d3e7a4c-1f2b-4c5d-8e9f-0a1b2c3d4e5f", "routeKey": "$default", "stage": "$default",
			"time": now.Format("02/Jan/2006:15:04:05 -0700"), "timeEpoch": now.UnixMilli(),
		},
		"isBase64Encoded": false,
	}
	b, _ := json.Marshal(ev)
	return b
}

// signInvoke signs one Invoke request now, with aws-sdk-go-v2's signer (payload hash included), as bench/invoke's
// signed invoker does.
func signInvoke(ctx context.Context, invokeURL string, event []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(event)
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// signedLua is the wrk script lines that replay one freshly signed Invoke request: its method, body and every
// header it was signed with (Host included; wrk adds Content-Length, which the signature covers, with the same
// value).
func signedLua(ctx context.Context, invokeURL string, event []byte) (string, error) {
	req, err := signInvoke(ctx, invokeURL, event)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = \"POST\"\nwrk.body = %s\nwrk.headers[\"Host\"] = %s\n", luaString(string(event)), luaString(req.Host))
	for k, v := range req.Header {
		fmt.Fprintf(&b, "wrk.headers[ %s ] = %s\n", luaString(k), luaString(strings.Join(v, ",")))
	}
	return b.String(), nil
}

// checkInvoke sends one signed Invoke twice — the second a replay of the first, as wrk will send it — and checks
// both answers are the function's payload-2.0 response from version 1.
func checkInvoke(ctx context.Context, invokeURL string, event []byte) error {
	req, err := signInvoke(ctx, invokeURL, event)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	for i := range 2 {
		again := req.Clone(ctx)
		again.Body = io.NopCloser(bytes.NewReader(event))
		resp, err := hc.Do(again)
		if err != nil {
			return fmt.Errorf("Invoke (send %d): %w", i+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var answer struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &answer) != nil || answer.StatusCode != 200 || answer.Body != body ||
			resp.Header.Get("X-Amz-Executed-Version") != "1" {
			return fmt.Errorf("Invoke (send %d): %d %v %s, want 200 from version 1 with the function's response", i+1, resp.StatusCode, resp.Header, b)
		}
	}
	return nil
}

// ms prints a duration in milliseconds with microsecond precision.
func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
