package invoke

import (
	"math"
	"sync/atomic"
)

// split is an alias's traffic rule: every invocation goes to primary except a deterministic share to extra.
//
// The n-th invocation (n = 1, 2, …) goes to extra exactly when round(w·n) > round(w·(n−1)). After N invocations
// extra has therefore served round(w·N) of them — no coin flips, so a 3% canary sees 3% of traffic from the very
// first hundred requests, and the split a deployment asked for is the exposure it gets. The counter belongs to one
// weight setting: a new alias configuration starts a new split.
type split struct {
	primary string
	extra   string
	weight  float64
	n       atomic.Uint64
}

// pick returns the version for the next invocation.
func (s *split) pick() string {
	if s.extra == "" || s.weight <= 0 {
		return s.primary
	}
	if s.weight >= 1 {
		return s.extra
	}
	n := s.n.Add(1)
	if math.Floor(s.weight*float64(n)+0.5) > math.Floor(s.weight*float64(n-1)+0.5) {
		return s.extra
	}
	return s.primary
}
