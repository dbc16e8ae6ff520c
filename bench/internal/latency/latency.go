// Package latency summarises the latencies a benchmark harness sampled.
package latency

import (
	"fmt"
	"slices"
	"time"
)

// Summary sorts d in place and returns its median, 99th percentile and mean; d must not be empty.
func Summary(d []time.Duration) (p50, p99, mean time.Duration) {
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return d[len(d)/2], d[min(len(d)-1, len(d)*99/100)], sum / time.Duration(len(d))
}

// Ms prints a duration in milliseconds with microsecond precision.
func Ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
