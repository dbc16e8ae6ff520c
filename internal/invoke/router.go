package invoke

import (
	"hash/fnv"
	"math"
	"sync"
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
	sticky  *sticky // per-key assignments for sticky canaries (never nil)
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

// sticky keeps a sticky canary's assignments: each distinct key (a user's cookie or header) is given a version the
// first time it is seen, by the same rule as the split's — the n-th new key goes to the extra version exactly when
// the extra version has fewer than round(w·n) keys — so over N distinct keys the extra version holds round(w·N)
// of them, and a key keeps its version for as long as the assignments live: while the alias routes to the same two
// versions and the weight does not shrink (a linear shift's growing weight keeps them; a new deployment, a
// promotion or a rollback starts afresh). Past maxStickyKeys remembered keys, new keys are placed by a hash of the
// key against the weight (still stable, no longer exact).
type sticky struct {
	mu       sync.Mutex
	extra    map[string]bool
	n, onExt int
}

const maxStickyKeys = 100_000

// pickFor returns the version a key's invocations go to.
func (s *split) pickFor(key string) string {
	if s.extra == "" || s.weight <= 0 {
		return s.primary
	}
	if s.weight >= 1 {
		return s.extra
	}
	st := s.sticky
	st.mu.Lock()
	defer st.mu.Unlock()
	onExtra, seen := st.extra[key]
	if !seen {
		if len(st.extra) >= maxStickyKeys {
			h := fnv.New64a()
			_, _ = h.Write([]byte(key))
			onExtra = float64(h.Sum64())/math.MaxUint64 < s.weight
		} else {
			st.n++
			onExtra = float64(st.onExt) < math.Floor(s.weight*float64(st.n)+0.5)
			if onExtra {
				st.onExt++
			}
			st.extra[key] = onExtra
		}
	}
	if onExtra {
		return s.extra
	}
	return s.primary
}

// inherit keeps a previous split's sticky assignments when the alias still routes between the same two versions
// and the weight did not shrink, so no key changes version mid-shift.
func (s *split) inherit(prev *split) {
	if prev != nil && prev.primary == s.primary && prev.extra == s.extra && s.weight >= prev.weight {
		s.sticky = prev.sticky
		return
	}
	s.sticky = &sticky{extra: map[string]bool{}}
}
