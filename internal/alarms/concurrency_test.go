package alarms

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// patience bounds every wait of these tests: long enough never to fire on a slow machine, there only so that a
// regression fails instead of hanging.
const patience = 30 * time.Second

// gatedStore holds the next store write, once armed, until the test releases it: before the transaction runs
// (after: false) or after it committed, before Update returns (after: true).
type gatedStore struct {
	store.Store
	mu       sync.Mutex
	armed    bool
	after    bool
	entered  chan struct{}
	released chan struct{}
}

// arm makes the next Update wait; the returned channel is closed once it does.
func (g *gatedStore) arm(after bool) (entered <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.after = true, after
	g.entered, g.released = make(chan struct{}), make(chan struct{})
	return g.entered
}

func (g *gatedStore) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released != nil {
		select {
		case <-g.released:
		default:
			close(g.released)
		}
	}
}

func (g *gatedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	_, err := g.UpdateRev(ctx, fn)
	return err
}

func (g *gatedStore) UpdateRev(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	g.mu.Lock()
	held, after := g.armed, g.after
	entered, released := g.entered, g.released
	g.armed = false
	g.mu.Unlock()
	if held && !after {
		close(entered)
		<-released
	}
	rev, err := g.Store.UpdateRev(ctx, fn)
	if held && after {
		close(entered)
		<-released
	}
	return rev, err
}

// gatedEnv is an env whose service writes through a gatedStore.
func gatedEnv(t *testing.T) (*env, *gatedStore) {
	t.Helper()
	e := newEnv(t)
	g := &gatedStore{Store: e.db}
	t.Cleanup(g.release) // runs before the store closes
	svc, err := New(Options{Store: g, Metrics: e.metrics, Region: "us-east-1", AccountID: "000000000000", Now: e.clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.changes = &recorder{} // newEnv's service, on the same store, notifies the previous one
	svc.Subscribe(e.changes.add)
	return e, g
}

// within runs fn and fails the test if it does not return within patience.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatalf("%s is blocked", what)
	}
}

func wait(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestStoreWriteHoldsNoLock: while a PutMetricAlarm's store write is held (an fsync that takes its time), reads
// and the evaluation of other alarms proceed; the Put's result is visible as soon as it returns.
func TestStoreWriteHoldsNoLock(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	a := seedAlarm()
	a.Period = time.Second
	e.put(a)
	b := seedAlarm()
	b.Name = "other"
	e.put(b)

	entered := g.arm(false)
	b.Threshold = 42
	putDone := make(chan error, 1)
	go func() { putDone <- e.svc.Put(ctx, b) }()
	wait(t, "the Put to reach the store", entered)

	within(t, "Describe during a held store write", func() {
		if l, _, err := e.svc.Describe(ctx, DescribeFilter{}); err != nil || len(l) != 2 {
			t.Errorf("Describe = %d alarms, %v", len(l), err)
		}
	})
	e.record(errorsLive, 5, at(0.5))
	e.clock.Set(at(1))
	within(t, "an evaluation pass during a held store write", func() { e.svc.EvaluateAll(ctx) })
	if got := e.get(a.Name).StateValue; got != StateAlarm {
		t.Errorf("%s is %s during the held write, want ALARM", a.Name, got)
	}
	if got := e.get(b.Name).Threshold; got != 1 {
		t.Errorf("the held Put is visible before it committed: threshold %g", got)
	}

	g.release()
	select {
	case err := <-putDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("the Put did not return")
	}
	if got := e.get(b.Name).Threshold; got != 42 {
		t.Errorf("after Put returned, DescribeAlarms shows threshold %g, want 42", got)
	}
	if got, want := e.take(), []string{"orders-live-errors:INSUFFICIENT_DATA>ALARM"}; !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
}

// TestOlderCommitDoesNotOverwrite: a write that committed first but returns last (held between its commit and
// its return) does not replace the newer state in memory: the watch applies commits in revision order.
func TestOlderCommitDoesNotOverwrite(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	d := seedAlarm()
	e.put(d)

	entered := g.arm(true)
	d.Threshold = 2
	first := make(chan error, 1)
	go func() { first <- e.svc.Put(ctx, d) }()
	wait(t, "the first Put to commit", entered)
	d.Threshold = 3
	within(t, "a second Put while the first is held after its commit", func() {
		if err := e.svc.Put(ctx, d); err != nil {
			t.Error(err)
		}
	})
	if err := e.svc.SetState(ctx, d.Name, StateAlarm, "forced", ""); err != nil {
		t.Fatal(err)
	}
	g.release()
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("the first Put did not return")
	}
	a := e.get(d.Name)
	if a.Threshold != 3 || a.StateValue != StateAlarm {
		t.Errorf("memory has threshold %g, state %s; want the newest commit's 3, ALARM", a.Threshold, a.StateValue)
	}
	e.reopen()
	if a := e.get(d.Name); a.Threshold != 3 || a.StateValue != StateAlarm {
		t.Errorf("the store has threshold %g, state %s; want 3, ALARM", a.Threshold, a.StateValue)
	}
}

// TestSlowSubscriber: a subscriber that does not return delays neither the evaluator's next pass nor the other
// subscribers, and still receives every change, in order, once it does.
func TestSlowSubscriber(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := seedAlarm()
	d.Period = time.Second
	e.put(d)

	stuck := make(chan struct{})
	entered := make(chan struct{})
	slow := make(chan Change, 8)
	var once sync.Once
	cancelSlow := e.svc.Subscribe(func(c Change) {
		once.Do(func() { close(entered); <-stuck })
		slow <- c
	})
	defer cancelSlow()
	fast := make(chan Change, 8)
	cancelFast := e.svc.Subscribe(func(c Change) { fast <- c })
	defer cancelFast()
	defer close(stuck) // on failure, unblocks the stuck subscriber before the store closes

	next := func(want string) {
		t.Helper()
		select {
		case c := <-fast:
			if c.To != want {
				t.Fatalf("the other subscriber got %+v, want a change to %s", c, want)
			}
		case <-time.After(patience):
			t.Fatalf("the other subscriber did not get the change to %s", want)
		}
	}

	e.record(errorsLive, 5, at(0.5))
	e.clock.Set(at(1))
	within(t, "the evaluation pass that notifies a stuck subscriber", func() { e.svc.EvaluateAll(ctx) })
	wait(t, "the slow subscriber to be called", entered)
	next(StateAlarm)

	e.record(errorsLive, 0, at(1.5))
	e.clock.Set(at(2))
	within(t, "the next evaluation pass while a subscriber is stuck", func() { e.svc.EvaluateAll(ctx) })
	if got := e.get(d.Name).StateValue; got != StateOK {
		t.Fatalf("after the next pass: %s", got)
	}
	next(StateOK)
	within(t, "SetState while a subscriber is stuck", func() {
		if err := e.svc.SetState(ctx, d.Name, StateAlarm, "forced", ""); err != nil {
			t.Error(err)
		}
	})
	next(StateAlarm)

	stuck <- struct{}{} // not closed: the deferred close does that
	var got []string
	for len(got) < 3 {
		select {
		case c := <-slow:
			got = append(got, c.From+">"+c.To)
		case <-time.After(patience):
			t.Fatalf("the slow subscriber got only %v", got)
		}
	}
	if want := []string{"INSUFFICIENT_DATA>ALARM", "ALARM>OK", "OK>ALARM"}; !slices.Equal(got, want) {
		t.Errorf("the slow subscriber got %v, want %v", got, want)
	}
}
