package asyncq

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeTimers makes the timers Run uses; each time one is armed it reports how many are armed.
type fakeTimers struct {
	mu    sync.Mutex
	made  []*fakeTimer
	armed chan int
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

func (t *fakeTimer) Reset(time.Duration) {
	t.f.mu.Lock()
	t.on = true
	n := t.f.live()
	t.f.mu.Unlock()
	t.f.armed <- n
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
	timers := &fakeTimers{armed: make(chan int, wakes+2)}
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
		if n := <-timers.armed; n != 1 {
			t.Fatalf("pass %d: %d timers armed, want 1", i+1, n)
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
