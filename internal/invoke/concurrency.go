package invoke

import (
	"slices"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// concurrency admits invocations against the account limit and per-function reservations: a function with a
// reservation may run that many at once and no more; the others share what is left of the account limit.
//
// In a cluster every node admits only its share of each of these limits (Share, SetShare), so that the nodes
// together never run more than the limits however invocations are spread over them.
type concurrency struct {
	limit int

	mu         sync.Mutex
	unreserved int            // in flight in functions without a reservation
	perFn      map[string]int // in flight per function

	// share is this node's part of the limits now; bounds are the shares in force — share, and while a change
	// settles (see SetShare) the ones before it: admission allows the smallest of their parts.
	share     Share
	bounds    []Share
	clustered bool                        // SetShare was called: the node is part of a cluster
	changes   int                         // counts SetShare calls, so a stale settle does nothing
	afterFunc func(time.Duration, func()) // schedules settling (a test replaces it)
}

func newConcurrency(limit int) *concurrency {
	whole := Share{Count: 1}
	return &concurrency{limit: limit, perFn: map[string]int{}, share: whole, bounds: []Share{whole},
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

func throttled(reason string) error {
	return &fault.Error{Code: fault.TooManyRequests, Message: "Rate Exceeded.", Reason: reason}
}

// Share is one node's part of the cluster-wide limits: the node at Index among Count live members sorted by
// name. It admits Part(limit) of the account's unreserved concurrency and Part(reservation) of each function's
// reserved concurrency, and keeps Part(N) of each provisioned-concurrency configuration of N environments warm.
// The zero Share (Count 0, a node that is not a member) admits nothing; embedded mode is {Count: 1}, the whole.
type Share struct {
	Node         string // the node's name ("" in embedded mode), which its provisioned reports carry
	Index, Count int
}

// ShareOf is self's Share among members (the live nodes' names, self included; any order): Count 0 when self is
// not among them.
func ShareOf(self string, members []string) Share {
	sorted := slices.Sorted(slices.Values(members))
	sorted = slices.Compact(sorted)
	i, ok := slices.BinarySearch(sorted, self)
	if !ok {
		return Share{Node: self}
	}
	return Share{Node: self, Index: i, Count: len(sorted)}
}

// Part is the node's part of total: total/Count, plus one for the first total%Count nodes, so the parts of all
// Count nodes sum to total exactly.
func (sh Share) Part(total int) int {
	if sh.Count <= 0 || total <= 0 || sh.Index < 0 || sh.Index >= sh.Count {
		return 0
	}
	p := total / sh.Count
	if sh.Index < total%sh.Count {
		p++
	}
	return p
}

// ShareSettle is how long a node waits before a larger share takes effect (a smaller one does at once): the time
// the other nodes have to observe the same membership change and shrink their shares.
const ShareSettle = 2 * time.Second

// SetShare tells the service its part of the cluster-wide limits, on joining and whenever the membership changes
// (ShareOf gives it); without a call the service has the whole (embedded mode). It adds nothing to the invoke
// path: admission reads the share under the lock it already takes.
//
// A share that shrinks applies at once; one that grows applies ShareSettle later, the smaller of the old and new
// share applying until then. The first call starts from nothing: a node joining a cluster admits nothing until
// ShareSettle has passed, while the others shrink theirs. Left open: invocations admitted under a larger share
// run on, so for as long as they last (at most their function's timeout) a node may hold more than its new share
// in flight; and a node that observes a membership change later than ShareSettle after the others (a slow watch,
// a partition up to the session TTL) admits under its old share meanwhile. The cluster's total can exceed a
// limit in those windows only.
//
// Provisioned concurrency follows the new share at once: each function's provisioned environments are
// reconciled to this node's part, and its provisioned reports are written again.
func (s *Service) SetShare(sh Share) {
	s.conc.setShare(sh)
	s.reports.forgetWritten()
	for _, name := range s.catalog.names() {
		s.reconcileProvisioned(name)
	}
}

func (c *concurrency) setShare(sh Share) {
	c.mu.Lock()
	switch {
	case !c.clustered:
		c.clustered = true
		c.bounds = []Share{{Node: sh.Node}, sh} // from nothing
	case len(c.bounds) >= maxBounds:
		c.bounds = []Share{{Node: sh.Node}, sh} // changes faster than ShareSettle: nothing more until one settles
	default:
		c.bounds = append(c.bounds, sh)
	}
	c.share = sh
	c.changes++
	seq := c.changes
	c.mu.Unlock()
	c.afterFunc(ShareSettle, func() {
		c.mu.Lock()
		if c.changes == seq {
			c.bounds = []Share{c.share}
		}
		c.mu.Unlock()
	})
}

// maxBounds bounds the shares kept in force while changes settle.
const maxBounds = 4

// part is this node's admission limit for total: the smallest of its parts under the shares in force (one but
// while a change settles). Called with c.mu held.
func (c *concurrency) part(total int) int {
	p := c.bounds[0].Part(total)
	for _, b := range c.bounds[1:] {
		p = min(p, b.Part(total))
	}
	return p
}

// currentShare is the share provisioned concurrency follows.
func (c *concurrency) currentShare() Share {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.share
}

// admit reserves a slot for an invocation of fn or returns a 429; release gives it back.
func (c *concurrency) admit(fn *functionView, cat *catalog) (release func(), err error) {
	reserved := fn.reserved
	var pool int
	if reserved == nil {
		pool = c.limit - cat.reservedTotal()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case reserved != nil && c.perFn[fn.name] >= c.part(*reserved):
		return nil, throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
	case reserved == nil && c.unreserved >= c.part(pool):
		return nil, throttled("ConcurrentInvocationLimitExceeded")
	}
	c.perFn[fn.name]++
	if reserved == nil {
		c.unreserved++
	}
	name := fn.name
	return func() {
		c.mu.Lock()
		if c.perFn[name]--; c.perFn[name] == 0 {
			delete(c.perFn, name)
		}
		if reserved == nil {
			c.unreserved--
		}
		c.mu.Unlock()
	}, nil
}

// inFlight is how many invocations of a function are running.
func (c *concurrency) inFlight(function string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.perFn[function]
}
