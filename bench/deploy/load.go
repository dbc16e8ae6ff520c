package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
)

// record is one invocation through the alias as the client saw it.
type record struct {
	start   time.Time
	lat     time.Duration
	version string // X-Amz-Executed-Version ("" when the call itself failed)
	fnErr   bool   // the function answered with an error (X-Amz-Function-Error)
	errKind string // the call failed (transport error, 4xx/5xx, throttle): "" otherwise
}

// loadGen offers a steady rate of invocations through the alias: workers take the next slot of a fixed schedule
// (rate per second), wait for it and invoke. A worker more than 100 ms behind the schedule skips slots, so a
// machine that cannot keep up is reported as a lower achieved rate, never as a burst afterwards.
type loadGen struct {
	rate    float64
	mu      sync.Mutex
	recs    []record
	skipped atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time
}

var payload = []byte(`{"message":"sluice deploy benchmark","n":12345,"ok":true}`)

// startLoad ramps the rate up linearly over ramp (so that environments start a few at a time rather than one per
// worker at once), then holds it.
func startLoad(ctx context.Context, c *lambda.Client, name, qualifier string, rate float64, workers int, ramp time.Duration) *loadGen {
	ctx, cancel := context.WithCancel(ctx)
	g := &loadGen{rate: rate, cancel: cancel, started: time.Now(), recs: make([]record, 0, 1<<19)}
	var next atomic.Int64
	rampSec := ramp.Seconds()
	inRamp := rate * rampSec / 2 // slots in the ramp: ∫ rate·t/ramp dt
	slot := func(k int64) time.Duration {
		if float64(k) < inRamp {
			return time.Duration(math.Sqrt(2*float64(k)*rampSec/rate) * float64(time.Second))
		}
		return time.Duration((rampSec + (float64(k)-inRamp)/rate) * float64(time.Second))
	}
	for range workers {
		g.wg.Go(func() {
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				due := g.started.Add(slot(k))
				now := time.Now()
				if wait := due.Sub(now); wait > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				} else if -wait > 100*time.Millisecond {
					g.skipped.Add(1)
					continue
				}
				r := invokeOnce(ctx, c, name, qualifier)
				if ctx.Err() != nil && r.errKind != "" {
					return // cut short by the end of the run: neither a success nor an error
				}
				g.mu.Lock()
				g.recs = append(g.recs, r)
				g.mu.Unlock()
			}
		})
	}
	return g
}

func (g *loadGen) stop() {
	g.cancel()
	g.wg.Wait()
}

func invokeOnce(ctx context.Context, c *lambda.Client, name, qualifier string) record {
	r := record{start: time.Now()}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Qualifier: aws.String(qualifier), Payload: payload})
	r.lat = time.Since(r.start)
	if err != nil {
		r.errKind = errorKind(err)
		return r
	}
	r.version = aws.ToString(out.ExecutedVersion)
	r.fnErr = out.FunctionError != nil
	if !r.fnErr && string(out.Payload) != string(payload) {
		r.errKind = fmt.Sprintf("unexpected answer %.60q", out.Payload)
	}
	return r
}

// errorKind is a countable label for a failed call: HTTP status and error code, or the transport error.
func errorKind(err error) string {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	switch {
	case errors.As(err, &re) && errors.As(err, &ae):
		return fmt.Sprintf("HTTP %d %s", re.HTTPStatusCode(), ae.ErrorCode())
	case errors.As(err, &re):
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i < 80 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// window returns the invocations that started in [from, to).
func (g *loadGen) window(from, to time.Time) []record {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []record
	for _, r := range g.recs { // appended in completion order, so not quite sorted by start: scan them all
		if !r.start.Before(from) && r.start.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// writeCSV writes every invocation: start (Unix µs), latency (µs), executed version, function error, failed call.
func (g *loadGen) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "start_unix_us,latency_us,version,function_error,failed_call")
	g.mu.Lock()
	for _, r := range g.recs {
		fmt.Fprintf(w, "%d,%d,%s,%t,%q\n", r.start.UnixMicro(), r.lat.Microseconds(), r.version, r.fnErr, r.errKind)
	}
	g.mu.Unlock()
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tally summarises invocations by version.
type tally struct {
	n, ok      int
	served     map[string]int       // by executed version
	fnErrs     map[string]int       // function errors by executed version
	clientErrs map[string]int       // failed calls by kind
	lat        []time.Duration      // latencies of every call, sorted
	first      map[string]time.Time // first start per version
	last       map[string]time.Time // last start per version
	from, to   time.Time
}

func count(recs []record, from, to time.Time) tally {
	t := tally{served: map[string]int{}, fnErrs: map[string]int{}, clientErrs: map[string]int{},
		first: map[string]time.Time{}, last: map[string]time.Time{}, from: from, to: to}
	for _, r := range recs {
		t.n++
		t.lat = append(t.lat, r.lat)
		switch {
		case r.errKind != "":
			t.clientErrs[r.errKind]++
			continue
		case r.fnErr:
			t.fnErrs[r.version]++
		default:
			t.ok++
		}
		t.served[r.version]++
		if f, ok := t.first[r.version]; !ok || r.start.Before(f) {
			t.first[r.version] = r.start
		}
		if r.start.After(t.last[r.version]) {
			t.last[r.version] = r.start
		}
	}
	slices.Sort(t.lat)
	return t
}

// percentile of the latencies (nearest rank); zero when there are none.
func (t tally) percentile(q float64) time.Duration {
	if len(t.lat) == 0 {
		return 0
	}
	i := int(q*float64(len(t.lat))+0.5) - 1
	return t.lat[min(max(i, 0), len(t.lat)-1)]
}

// rate is invocations started per second over the window.
func (t tally) rate() float64 {
	if d := t.to.Sub(t.from).Seconds(); d > 0 {
		return float64(t.n) / d
	}
	return 0
}

func (t tally) clientErrCount() int {
	n := 0
	for _, c := range t.clientErrs {
		n += c
	}
	return n
}

func (t tally) clientErrSummary() string {
	if len(t.clientErrs) == 0 {
		return "none"
	}
	var parts []string
	for k, c := range t.clientErrs {
		parts = append(parts, fmt.Sprintf("%d× %s", c, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
