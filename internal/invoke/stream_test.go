package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/metrics"
)

// streamWriter records what InvokeStream writes to its caller, as it happens.
type streamWriter struct {
	failFrom int // Writes from this one on (1-based) fail, as a caller who went away (0: none fails)

	got chan string // each piece, as it is written

	mu      sync.Mutex
	writes  []string
	flushes int
	starts  []StreamStart
	early   bool // a Write came before StartResponse
}

func newStreamWriter() *streamWriter { return &streamWriter{got: make(chan string, 16)} }

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.early = w.early || len(w.starts) == 0
	w.writes = append(w.writes, string(p))
	if w.failFrom > 0 && len(w.writes) >= w.failFrom {
		return 0, errors.New("the caller went away")
	}
	w.got <- string(p)
	return len(p), nil
}

func (w *streamWriter) Flush() {
	w.mu.Lock()
	w.flushes++
	w.mu.Unlock()
}

func (w *streamWriter) StartResponse(s StreamStart) {
	w.mu.Lock()
	w.starts = append(w.starts, s)
	w.mu.Unlock()
}

// counted sums the function's AWS/Lambda Count metrics by name.
type counted struct {
	mu  sync.Mutex
	sum map[string]float64
}

func (c *counted) Record(id metrics.MetricID, s metrics.Sample) {
	if len(id.Dimensions) != 1 || id.Dimensions[0].Name != "FunctionName" || s.Unit != "Count" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sum == nil {
		c.sum = map[string]float64{}
	}
	c.sum[id.Name] += s.Value
}

func (c *counted) get(name string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sum[name]
}

// invokeStream runs InvokeStream of ref with a JSON string event and the log tail.
func (h *harness) invokeStream(ref, event string, w *streamWriter) (Result, error) {
	name, qualifier, _ := strings.Cut(ref, ":")
	payload, _ := json.Marshal(event)
	return h.svc.InvokeStream(context.Background(), Request{Ref: lambda.Ref{Name: name, Qualifier: qualifier},
		Type: RequestResponse, Payload: payload, LogTail: true}, w)
}

// Ensure InvokeStream hands a streamed response to its writer piece by piece — the first piece while the function
// is still running — and a response posted whole once at the end; and that function errors, crashes and timeouts
// after some bytes are reported in the Result, with Invoke's logs, metrics and environment handling.
func TestInvokeStream(t *testing.T) {
	cases := []struct {
		name     string
		event    string
		failFrom int

		wantWrites      []string // what reached the writer
		wantStreamed    int64
		wantContentType string
		wantErrorType   string // "": no function error
		wantInPayload   string
		wantReplaced    bool // the environment is destroyed
	}{
		{name: "streamed", event: "stream", wantWrites: []string{"one", "two"}, wantStreamed: 6, wantContentType: "text/plain"},
		{name: "posted whole", event: "hello", wantWrites: []string{`{"event":"hello","pid":1000}`}, wantStreamed: 28,
			wantContentType: "application/octet-stream"},
		{name: "error before any byte", event: "fail", wantErrorType: "Boom", wantInPayload: `"errorMessage":"boom"`,
			wantContentType: "application/octet-stream"},
		{name: "error mid-stream", event: "stream-fail", wantWrites: []string{"one"}, wantStreamed: 3, wantContentType: "text/plain",
			wantErrorType: "Boom", wantInPayload: `"errorMessage":"boom mid-stream"`},
		{name: "crash mid-stream", event: "stream-crash", wantWrites: []string{"one"}, wantStreamed: 3, wantContentType: "text/plain",
			wantErrorType: "Runtime.ExitError", wantInPayload: "Runtime exited with error: exit status 1", wantReplaced: true},
		{name: "timeout mid-stream", event: "stream-hang", wantWrites: []string{"one"}, wantStreamed: 3, wantContentType: "text/plain",
			wantErrorType: "Sandbox.Timedout", wantInPayload: "Task timed out after 1.00 seconds", wantReplaced: true},
		{name: "caller went away", event: "stream", failFrom: 2, wantWrites: []string{"one", "two"}, wantStreamed: 3, wantContentType: "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := &counted{}
			h := newHarness(t, func(o *Options) { o.Metrics = rec }, activeSnapshot("fn", testConfig(1, nil)))
			w := newStreamWriter()
			w.failFrom = c.failFrom
			type outcome struct {
				res Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := h.invokeStream("fn", c.event, w)
				done <- outcome{res, err}
			}()
			if c.event != "stream-fail" && strings.HasPrefix(c.event, "stream") {
				// The function has sent its first piece and waits: the piece is with the caller already.
				pid := <-h.sbx.blocked
				if got := <-w.got; got != "one" {
					t.Fatalf("first piece %q, want one", got)
				}
				if h.sbx.proc(pid).killed() {
					t.Fatal("the function ended before its first piece was seen")
				}
				close(h.sbx.gate)
			}
			o := <-done
			if o.err != nil {
				t.Fatal(o.err)
			}
			res := o.res
			w.mu.Lock()
			writes, flushes, starts, early := w.writes, w.flushes, w.starts, w.early
			w.mu.Unlock()
			if strings.Join(writes, "|") != strings.Join(c.wantWrites, "|") || res.Streamed != c.wantStreamed {
				t.Errorf("writes %q (%d bytes), want %q (%d bytes)", writes, res.Streamed, c.wantWrites, c.wantStreamed)
			}
			wantFlushes := len(c.wantWrites)
			if c.failFrom > 0 {
				wantFlushes = c.failFrom - 1
			}
			if flushes != wantFlushes {
				t.Errorf("%d flushes, want %d", flushes, wantFlushes)
			}
			if len(c.wantWrites) > 0 && (len(starts) != 1 || early || starts[0] != StreamStart{ExecutedVersion: "$LATEST", ContentType: c.wantContentType}) {
				t.Errorf("StartResponse %+v (a write before it: %v), want one before the first write", starts, early)
			}
			if len(c.wantWrites) == 0 && len(starts) > 0 {
				t.Errorf("StartResponse %+v for a response without bytes", starts)
			}
			if res.StatusCode != http.StatusOK || res.ExecutedVersion != "$LATEST" || res.ContentType != c.wantContentType {
				t.Errorf("result %d %q %q", res.StatusCode, res.ExecutedVersion, res.ContentType)
			}
			if c.wantErrorType == "" {
				if res.FunctionError != "" || len(res.Payload) > 0 {
					t.Errorf("function error %q %q: %s", res.FunctionError, res.ErrorType, res.Payload)
				}
			} else if res.FunctionError != "Unhandled" || res.ErrorType != c.wantErrorType || !strings.Contains(string(res.Payload), c.wantInPayload) {
				t.Errorf("function error %q %q: %s; want Unhandled %s with %s", res.FunctionError, res.ErrorType, res.Payload, c.wantErrorType, c.wantInPayload)
			}
			if tail := string(res.LogTail); !strings.Contains(tail, "START RequestId") || !strings.Contains(tail, "REPORT RequestId") {
				t.Errorf("log tail:\n%s", tail)
			}
			if inv, errs := rec.get("Invocations"), rec.get("Errors"); inv != 1 || (errs == 1) != (c.wantErrorType != "") {
				t.Errorf("metrics: %v invocations, %v errors", inv, errs)
			}
			h.svc.destroying.Wait()
			if got := h.sbx.proc(1000).killed(); got != c.wantReplaced {
				t.Errorf("environment destroyed = %v, want %v", got, c.wantReplaced)
			}
		})
	}
}

// Ensure InvokeStream answers DryRun as Invoke does, writing nothing, and refuses an Event invocation.
func TestInvokeStreamDryRunAndEvent(t *testing.T) {
	h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
	w := newStreamWriter()
	res, err := h.svc.InvokeStream(context.Background(), Request{Ref: lambda.Ref{Name: "fn"}, Type: DryRun, Payload: []byte("{}")}, w)
	if err != nil || res.StatusCode != http.StatusNoContent || len(w.writes) > 0 || h.sbx.launched() != 0 {
		t.Errorf("dry run: %d %v, %d writes, %d launched", res.StatusCode, err, len(w.writes), h.sbx.launched())
	}
	if _, err := h.svc.InvokeStream(context.Background(), Request{Ref: lambda.Ref{Name: "fn"}, Type: Event, Payload: []byte("{}")}, w); err == nil {
		t.Error("an Event invocation was streamed")
	}
}

// Ensure a streamed invocation holds its concurrency slot until its response is complete.
func TestInvokeStreamIsAdmitted(t *testing.T) {
	one := 1
	snap := activeSnapshot("fn", testConfig(10, nil))
	snap.Function.ReservedConcurrency = &one
	h := newHarness(t, nil, snap)
	done := make(chan error, 1)
	go func() {
		_, err := h.invokeStream("fn", "stream", newStreamWriter())
		done <- err
	}()
	<-h.sbx.blocked
	_, err := h.invokeStream("fn", "hello", newStreamWriter())
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.TooManyRequests {
		t.Fatalf("a second invocation while the stream runs: %v, want a 429", err)
	}
	close(h.sbx.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := h.invokeStream("fn", "hello", newStreamWriter()); err != nil {
		t.Fatalf("after the stream ended: %v", err)
	}
}

// Ensure a plain Invoke of a function that streams gets the whole response, or its error, as on Lambda.
func TestInvokeCollectsStreamedResponse(t *testing.T) {
	for _, tc := range []struct {
		event, want, functionError, contentType string
	}{
		{"stream", "onetwo", "", "text/plain"},
		{"stream-fail", `{"errorType":"Boom","errorMessage":"boom mid-stream"}`, "Unhandled", "text/plain"},
	} {
		t.Run(tc.event, func(t *testing.T) {
			h := newHarness(t, nil, activeSnapshot("fn", testConfig(3, nil)))
			close(h.sbx.gate) // "stream" goes on at once
			res, err := h.invoke("fn", tc.event)
			if err != nil || string(res.Payload) != tc.want || res.FunctionError != tc.functionError || res.ContentType != tc.contentType {
				t.Errorf("invoke: %v %q %s (%s), want %q %s (%s)", err, res.FunctionError, res.Payload, res.ContentType, tc.functionError, tc.want, tc.contentType)
			}
		})
	}
}
