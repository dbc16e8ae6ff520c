package store

import (
	"context"
	"math"
	"sync"
)

// Progress is how far a process's watch-fed caches have applied the store's revisions. It gives API calls
// read-your-writes over caches without a lock spanning a commit: a call that committed (or read) revision R
// returns only once every registered cache has applied R, so the next call on this process — an invocation
// routed by the alias the previous call moved, say — sees it.
//
// Each cache registers once and reports the revision its watch has delivered (progress notifications included),
// so a cache that nothing concerns still keeps up with the store's revision.
type Progress struct {
	mu       sync.Mutex
	caches   []*Applied
	low      int64         // the lowest revision every cache has applied
	advanced chan struct{} // closed and replaced whenever low rises
}

// NewProgress returns a Progress with no caches: Wait returns at once until one registers.
func NewProgress() *Progress {
	return &Progress{low: math.MaxInt64, advanced: make(chan struct{})}
}

// Applied is one cache's position.
type Applied struct {
	p    *Progress
	name string
	rev  int64
}

// Register adds a cache, at revision 0 until it reports: register before serving the calls that wait for it.
func (p *Progress) Register(name string) *Applied {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := &Applied{p: p, name: name}
	p.caches = append(p.caches, a)
	p.low = 0
	return a
}

// Advance records that the cache reflects every commit up to rev. Lower revisions than already reported are
// ignored (a re-list may report an older one).
func (a *Applied) Advance(rev int64) {
	p := a.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if rev <= a.rev {
		return
	}
	a.rev = rev
	low := int64(math.MaxInt64)
	for _, c := range p.caches {
		low = min(low, c.rev)
	}
	if low > p.low {
		p.low = low
		close(p.advanced)
		p.advanced = make(chan struct{})
	}
}

// Revision is the lowest revision every cache has applied.
func (p *Progress) Revision() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.low
}

// Wait returns once every cache has applied rev, or with ctx's error.
func (p *Progress) Wait(ctx context.Context, rev int64) error {
	for {
		p.mu.Lock()
		low, advanced := p.low, p.advanced
		p.mu.Unlock()
		if low >= rev {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Lagging names the caches that have not applied rev (for a diagnostic when a wait gives up).
func (p *Progress) Lagging(rev int64) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.caches {
		if c.rev < rev {
			out = append(out, c.name)
		}
	}
	return out
}
