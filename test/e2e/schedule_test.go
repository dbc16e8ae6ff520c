package e2e

import (
	"sync"
	"testing"
)

// The suite's top-level tests run in parallel through parallel and parallelLong rather than t.Parallel, so that the
// longest ones start first. Go's own -parallel limit starts paused tests in no particular order (in practice close
// to the reverse of their declaration), and on a 2-CPU machine a five-minute test that happens to start last leaves
// the suite running on one test for its last minutes. Here Go's limit is lifted (TestMain) and the suite's own
// queue admits `limit` tests at a time: every long test, in declaration order, before any short one. A test that
// runs parallel subtests keeps its one place while they run.

// suite is the queue of the suite's parallel tests.
var suite = &testQueue{}

// parallel is t.Parallel for a top-level test of this package.
func parallel(t *testing.T) { suite.enter(t, false) }

// parallelLong is parallel for a test that takes minutes: it starts before every test declared with parallel.
func parallelLong(t *testing.T) { suite.enter(t, true) }

// testQueue admits registered tests `limit` at a time, long ones first, each tier in registration (declaration)
// order. Tests register in the serial phase, before Go releases them all at once, so the queue knows every test
// that will arrive: it admits strictly in order, waiting for the next one to arrive rather than letting a later one
// pass it.
type testQueue struct {
	mu      sync.Mutex
	limit   int // set by TestMain before any test runs
	running int
	long    []*queued
	short   []*queued
}

type queued struct {
	arrived bool
	admit   chan struct{}
}

func (q *testQueue) enter(t *testing.T, long bool) {
	t.Helper()
	e := &queued{admit: make(chan struct{})}
	q.mu.Lock()
	if long {
		q.long = append(q.long, e)
	} else {
		q.short = append(q.short, e)
	}
	q.mu.Unlock()
	t.Parallel()
	// Registered first, so run last: after the test's own clean-ups (its servers stopped) and its subtests.
	t.Cleanup(q.leave)
	q.mu.Lock()
	e.arrived = true
	q.admitNext()
	q.mu.Unlock()
	<-e.admit
}

func (q *testQueue) leave() {
	q.mu.Lock()
	q.running--
	q.admitNext()
	q.mu.Unlock()
}

// admitNext admits waiting tests in order while there is room. Called with q.mu held.
func (q *testQueue) admitNext() {
	for q.running < q.limit {
		next := &q.long
		if len(*next) == 0 {
			next = &q.short
		}
		if len(*next) == 0 || !(*next)[0].arrived {
			return
		}
		e := (*next)[0]
		*next = (*next)[1:]
		q.running++
		close(e.admit)
	}
}

// TestTestQueueOrder: the queue admits long tests before short ones, each tier in order, never past one that has not
// arrived, and never more than its limit.
func TestTestQueueOrder(t *testing.T) {
	q := &testQueue{limit: 2}
	entry := func(long bool) *queued {
		e := &queued{admit: make(chan struct{})}
		if long {
			q.long = append(q.long, e)
		} else {
			q.short = append(q.short, e)
		}
		return e
	}
	short1, long1, short2, long2 := entry(false), entry(true), entry(false), entry(true)
	admitted := func(e *queued) bool {
		select {
		case <-e.admit:
			return true
		default:
			return false
		}
	}
	arrive := func(e *queued) { q.mu.Lock(); e.arrived = true; q.admitNext(); q.mu.Unlock() }

	arrive(short1)
	arrive(long2)
	if admitted(short1) || admitted(long2) {
		t.Fatal("admitted before the first long test arrived")
	}
	arrive(long1)
	if !admitted(long1) || !admitted(long2) || admitted(short1) {
		t.Fatal("want the two long tests admitted, and nothing more (limit 2)")
	}
	q.leave()
	if !admitted(short1) || admitted(short2) {
		t.Fatal("want the first short test admitted when a place frees")
	}
	q.leave()
	arrive(short2)
	if !admitted(short2) || q.running != 2 {
		t.Fatalf("want the second short test admitted; running %d", q.running)
	}
}
