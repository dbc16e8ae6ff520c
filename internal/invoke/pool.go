package invoke

import (
	"errors"
	"sync"
	"time"
)

// pool holds the environments of one target. Idle environments are reused last-in-first-out, so the warmest one
// serves next and the coldest ones age out.
type pool struct {
	target *target
	now    func() time.Time // the service's clock

	mu       sync.Mutex
	idle     []*environment
	busy     int
	retired  bool // superseded by a newer configuration: drain, keep nothing idle
	lastUsed time.Time

	// Provisioned concurrency (see provisioned.go).
	provisionedWant     int
	provisionedHave     int // initialised provisioned environments, idle or busy
	provisionedStarting int
	provisionedFailure  string
}

// take returns an idle environment or nil.
func (p *pool) take() *environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy++
	p.lastUsed = p.now()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	// Provisioned environments serve first; among the rest, the most recently used (warmest) one.
	i := n - 1
	for j := n - 1; j >= 0; j-- {
		if p.idle[j].provisioned {
			i = j
			break
		}
	}
	e := p.idle[i]
	p.idle = append(p.idle[:i], p.idle[i+1:]...)
	return e
}

// giveBack returns a healthy environment for reuse; it reports false when the environment must be destroyed
// instead (the pool was retired).
func (p *pool) giveBack(e *environment) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy--
	if p.retired {
		return false
	}
	e.lastUsed = p.now()
	p.idle = append(p.idle, e)
	return true
}

// forget accounts for a busy environment that was destroyed (e nil: it never started). It reports whether a
// provisioned environment was lost and must be replaced.
func (p *pool) forget(e *environment) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy--
	if e != nil && e.provisioned {
		p.provisionedHave--
		return true
	}
	return false
}

// reap removes idle environments: all of them when the pool is retired, else on-demand ones idle since before
// idleCutoff and any started before bornCutoff.
func (p *pool) reap(idleCutoff, bornCutoff time.Time) []*environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out, keep []*environment
	for _, e := range p.idle {
		if p.retired || !e.provisioned && e.lastUsed.Before(idleCutoff) || e.spawned.Before(bornCutoff) {
			if e.provisioned {
				p.provisionedHave--
			}
			out = append(out, e)
		} else {
			keep = append(keep, e)
		}
	}
	p.idle = keep
	return out
}

func (p *pool) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy == 0 && len(p.idle) == 0
}

// uidAllocator hands each environment its own uid, so per-user limits (RLIMIT_NPROC) and kill-by-uid apply to
// exactly one environment.
type uidAllocator struct {
	mu   sync.Mutex
	next uint32
	end  uint32
	free []uint32
}

func newUIDAllocator(base, count uint32) *uidAllocator {
	return &uidAllocator{next: base, end: base + count}
}

var errNoUID = errors.New("invoke: no free sandbox uid (too many environments)")

func (a *uidAllocator) get() (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.free); n > 0 {
		u := a.free[0]
		a.free = a.free[1:]
		return u, nil
	}
	if a.next >= a.end {
		return 0, errNoUID
	}
	a.next++
	return a.next - 1, nil
}

func (a *uidAllocator) put(u uint32) {
	a.mu.Lock()
	a.free = append(a.free, u)
	a.mu.Unlock()
}
