package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// invoker performs one invocation and reports whether it failed. It must be safe for concurrent use.
type invoker func(ctx context.Context) error

// phase bounds one load run: it stops after n invocations or after d, whichever comes first.
type phase struct {
	concurrency int
	n           int
	d           time.Duration
}

// result is what a load run measured. Latencies are those of successful invocations only; errors are counted
// by kind so a target that fails fast (RIE at concurrency > 1) cannot pass its failures off as throughput.
type result struct {
	ok      int
	errs    int
	kinds   map[string]int
	lat     []time.Duration // sorted
	elapsed time.Duration
	cpu     cpuUse
}

// runLoad drives inv with p.concurrency closed-loop workers (each sends its next invocation as soon as the
// previous one returns), the way a client with a fixed number of in-flight requests does.
func runLoad(ctx context.Context, p phase, inv invoker) result {
	ctx, cancel := context.WithTimeout(ctx, p.d)
	defer cancel()
	var (
		issued atomic.Int64
		mu     sync.Mutex
		res    = result{kinds: map[string]int{}}
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range p.concurrency {
		wg.Go(func() {
			lat, errs := worker(ctx, &issued, int64(p.n), inv)
			mu.Lock()
			defer mu.Unlock()
			res.lat = append(res.lat, lat...)
			for _, e := range errs {
				res.kinds[errorKind(e)]++
			}
			res.errs += len(errs)
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.ok = len(res.lat)
	slices.Sort(res.lat)
	return res
}

// worker runs invocations until the shared budget is spent or the phase's time is up. An invocation cut short
// by the phase deadline is neither a success nor an error.
func worker(ctx context.Context, issued *atomic.Int64, n int64, inv invoker) (lat []time.Duration, errs []error) {
	for ctx.Err() == nil && issued.Add(1) <= n {
		start := time.Now()
		err := inv(ctx)
		switch {
		case err == nil:
			lat = append(lat, time.Since(start))
		case ctx.Err() != nil:
			return lat, errs
		default:
			errs = append(errs, err)
		}
	}
	return lat, errs
}

var (
	urlRE  = regexp.MustCompile(`^[A-Za-z]+ "[^"]*": `) // net/http's `Post "URL": ` prefix
	addrRE = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)
)

// errorKind shortens an error to a countable label: the URL, addresses, ports and request ids vary per error.
func errorKind(err error) string {
	s := urlRE.ReplaceAllString(err.Error(), "")
	s = addrRE.ReplaceAllString(s, "ADDR")
	if i := strings.Index(s, "RequestID:"); i > 0 {
		s = s[:i]
	}
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.TrimSpace(s)
}

// throughput is successful invocations per second.
func (r result) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

func (r result) p(q float64) time.Duration { return percentile(r.lat, q) }

// percentile of sorted durations (nearest rank); zero when there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// errorSummary lists the error kinds, most frequent first.
func (r result) errorSummary() string {
	type kc struct {
		k string
		c int
	}
	var all []kc
	for k, c := range r.kinds {
		all = append(all, kc{k, c})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].c > all[j].c })
	var parts []string
	for _, x := range all {
		parts = append(parts, fmt.Sprintf("%d× %s", x.c, x.k))
	}
	return strings.Join(parts, "; ")
}
