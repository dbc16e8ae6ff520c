package asyncq

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// fakeTimers makes the timers Run uses; each time one is armed it reports it.
type fakeTimers struct {
	mu    sync.Mutex
	made  []*fakeTimer
	armed chan arming
}

// arming is one Reset of a fake timer: for how long, and how many timers are armed then.
type arming struct {
	d    time.Duration
	live int
}

type fakeTimer struct {
	f  *fakeTimers
	c  chan time.Time
	on bool
}

func (f *fakeTimers) new() timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, c: make(chan time.Time)}
	f.made = append(f.made, t)
	return t
}

// live counts the armed timers; f.mu is held.
func (f *fakeTimers) live() int {
	n := 0
	for _, t := range f.made {
		if t.on {
			n++
		}
	}
	return n
}

// fire fires the armed timer, as its deadline passing would.
func (f *fakeTimers) fire(now time.Time) {
	f.mu.Lock()
	var armed *fakeTimer
	for _, t := range f.made {
		if t.on {
			armed = t
		}
	}
	armed.on = false
	f.mu.Unlock()
	armed.c <- now
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Reset(d time.Duration) {
	t.f.mu.Lock()
	t.on = true
	n := t.f.live()
	t.f.mu.Unlock()
	t.f.armed <- arming{d: d, live: n}
}

func (t *fakeTimer) Stop() {
	t.f.mu.Lock()
	t.on = false
	t.f.mu.Unlock()
}

// Ensure Run keeps one timer however often it wakes: it used to make one per wake and stop none of them until it
// returned.
func TestRunKeepsOneTimer(t *testing.T) {
	const wakes = 50
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ran := make(chan Event, 1)
	q := queueOn(openStore(t), func(_ context.Context, e Event) Outcome {
		ran <- e
		return Outcome{Response: []byte(`"ok"`), ExecutedVersion: "1"}
	}, clock, DefaultPolicy())
	timers := &fakeTimers{armed: make(chan arming, wakes+2)}
	q.newTimer = timers.new
	ctx, cancel := context.WithCancel(context.Background())
	// An event due in an hour: every pass arms the timer for it.
	if err := q.enqueueEvent(ctx, Event{ID: "later", Function: "f", EnqueuedAt: clock.Now(), NextAttempt: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	<-q.wake // the enqueue's kick: from here on each pass but the first follows one kick of the test's
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	for i := range wakes {
		if a := <-timers.armed; a.live != 1 {
			t.Fatalf("pass %d: %d timers armed, want 1", i+1, a.live)
		}
		if i < wakes-1 {
			q.kick()
		}
	}
	// Run now waits on the timer alone; firing it runs the event.
	clock.Add(time.Hour)
	timers.fire(clock.Now())
	if e := <-ran; e.ID != "later" {
		t.Fatalf("ran %s", e.ID)
	}
	cancel()
	<-done

	timers.mu.Lock()
	defer timers.mu.Unlock()
	if n := timers.live(); n != 0 {
		t.Errorf("%d timers still armed after Run returned", n)
	}
	if len(timers.made) != 1 {
		t.Errorf("Run made %d timers over %d passes, want 1 re-armed", len(timers.made), wakes)
	}
}

// laggingStore hands out, as its first watch, one that has already fallen behind (ErrLagged), the way a backend
// ends the watch of a reader that could not keep up.
type laggingStore struct {
	store.Store
	lagged atomic.Bool
}

func (s *laggingStore) Watch(ctx context.Context, prefix string, from int64) (<-chan store.WatchResponse, error) {
	if s.lagged.CompareAndSwap(false, true) {
		ch := make(chan store.WatchResponse, 1)
		ch <- store.WatchResponse{Err: store.ErrLagged}
		close(ch)
		return ch, nil
	}
	return s.Store.Watch(ctx, prefix, from)
}

// TestAnotherQueuesCommitWakesRun runs one queue and enqueues through a second one on the same store (as another
// server of a cluster would): its event reaches the running queue through the store's watch alone — the second
// queue's kick goes to its own Run, which is not running. The running queue waits for an event due in an hour, so
// every pass it makes arms its timer, and the test sees each.
func TestAnotherQueuesCommitWakesRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		due  time.Duration // when the other queue's event is due, from now
		lag  bool          // Run's first watch has fallen behind: it must list again and watch anew
	}{
		{name: "an event due now runs at once", due: 0},
		{name: "an event due sooner than the one waited for re-arms the timer", due: time.Minute},
		{name: "after the watch fell behind, an event due now still runs", due: 0, lag: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			var db store.Store = openStore(t)
			if tc.lag {
				db = &laggingStore{Store: db}
			}
			ran := make(chan Event, 2)
			running := queueOn(db, func(_ context.Context, e Event) Outcome {
				ran <- e
				return Outcome{Response: []byte(`"ok"`), ExecutedVersion: "1"}
			}, clock, DefaultPolicy())
			other := queueOn(db, func(context.Context, Event) Outcome {
				t.Error("the other queue, which is not running, ran an event")
				return Outcome{}
			}, clock, DefaultPolicy())
			timers := &fakeTimers{armed: make(chan arming, 16)}
			running.newTimer = timers.new
			ctx, cancel := context.WithCancel(context.Background())
			if err := running.enqueueEvent(ctx, Event{ID: "later", Function: "f", EnqueuedAt: clock.Now(), NextAttempt: clock.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			<-running.wake // its own kick: Run's first pass reads the queue anyway
			done := make(chan struct{})
			go func() { running.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			armed := func() arming {
				t.Helper()
				select {
				case a := <-timers.armed:
					return a
				case <-time.After(30 * time.Second): // only to fail instead of hanging
					t.Fatal("Run armed no timer")
					return arming{}
				}
			}
			if a := armed(); a.d != time.Hour {
				t.Fatalf("first pass armed the timer for %s, want 1h", a.d)
			}
			if tc.lag {
				armed() // the pass of the listing that follows the lagged watch
			}

			e := Event{ID: "other", Function: "g", EnqueuedAt: clock.Now(), NextAttempt: clock.Now().Add(tc.due)}
			if err := other.enqueueEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			if tc.due > 0 {
				if a := armed(); a.d != tc.due {
					t.Fatalf("after the other queue's commit the timer is armed for %s, want %s", a.d, tc.due)
				}
				clock.Add(tc.due)
				timers.fire(clock.Now())
			}
			select {
			case got := <-ran:
				if got.ID != "other" {
					t.Fatalf("ran %s, want the other queue's event", got.ID)
				}
			case <-time.After(30 * time.Second): // only to fail instead of hanging
				t.Fatal("the running queue never ran the event the other queue committed")
			}
		})
	}
}

// Ensure an event a pass had picked but not yet started when its context ended (every worker busy; in a cluster,
// the node lost the async leadership) runs in the next pass of the same queue: it used to stay marked in flight,
// so the node skipped it for good when it led again.
func TestEventPickedWhenThePassEndedRunsLater(t *testing.T) {
	db := openStore(t)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	started, gate := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	term := 1
	ran := map[int]map[string]int{1: {}, 2: {}}
	first := true
	run := func(ctx context.Context, e Event) Outcome {
		mu.Lock()
		ran[term][string(e.Payload)]++
		block := first
		first = false
		mu.Unlock()
		if block {
			close(started)
			<-gate
		}
		return Outcome{Response: []byte(`"ok"`), ExecutedVersion: "1"}
	}
	q := New(Options{Store: db, Run: run, Now: clock.Now, Workers: 1, RetryDelay: time.Minute,
		ARN: func(fn, q string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + fn }})
	for _, p := range []string{`"a"`, `"b"`} {
		if _, err := q.Enqueue(context.Background(), "fn", "", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, end := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.ProcessDue(ctx); close(done) }()
	<-started // one event runs on the only worker; the other waits for it
	end()
	close(gate)
	<-done

	mu.Lock()
	term = 2
	mu.Unlock()
	q.ProcessDue(context.Background())
	mu.Lock()
	defer mu.Unlock()
	// Whatever the first term got to, it finished nothing (its context ended), so the second runs both.
	if ran[2][`"a"`] != 1 || ran[2][`"b"`] != 1 {
		t.Errorf("runs in the second term %v (first %v): want each event once", ran[2], ran[1])
	}
}
