package asyncq

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// countingStore counts the queue records (any key but a dead letter's) its transactions read, and can run a hook
// inside the next View, once that View's snapshot is taken.
type countingStore struct {
	store.Store
	reads atomic.Int64

	mu     sync.Mutex
	onView func()
}

func (s *countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error {
		s.mu.Lock()
		hook := s.onView
		s.onView = nil
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
		return fn(countingTx{tx, s})
	})
}

func (s *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) setOnView(fn func()) { s.mu.Lock(); s.onView = fn; s.mu.Unlock() }

func (s *countingStore) count(key string) {
	if !strings.HasPrefix(key, deadPrefix) {
		s.reads.Add(1)
	}
}

type countingTx struct {
	store.Tx
	s *countingStore
}

func (t countingTx) Get(key string) ([]byte, error) {
	t.s.count(key)
	return t.Tx.Get(key)
}

func (t countingTx) Scan(prefix, after string, fn func(string, []byte) (bool, error)) error {
	return t.Tx.Scan(prefix, after, func(k string, v []byte) (bool, error) {
		t.s.count(k)
		return fn(k, v)
	})
}

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// Ensure a pass reads what is due and the first event after it, not every queued event: with a backlog waiting
// for later, each enqueue used to cost a decode of the whole queue.
func TestDispatchReadsOnlyWhatIsDue(t *testing.T) {
	const later = 200
	cs := &countingStore{Store: openStore(t)}
	sc := &script{plan: map[string][]Outcome{"later": {failure}}}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := queueOn(cs, sc.run, clock, DefaultPolicy())
	ctx := context.Background()
	for range later {
		if _, err := q.Enqueue(ctx, "later", "", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	q.ProcessDue(ctx) // each fails once and waits a minute for its retry
	if _, err := q.Enqueue(ctx, "now", "", nil); err != nil {
		t.Fatal(err)
	}

	cs.reads.Store(0)
	q.ProcessDue(ctx)
	if got := sc.count("now"); got != 1 {
		t.Fatalf("the due event ran %d times", got)
	}
	if got := sc.count("later"); got != later {
		t.Fatalf("%d attempts of events not due yet, want %d", got, later)
	}
	// The due event, the first later key, and the due event's own record when its outcome is stored.
	if got := cs.reads.Load(); got > 4 {
		t.Fatalf("a pass over 1 due and %d later events read %d queued records, want at most 4", later, got)
	}
	if n, _ := q.Pending(ctx); n != later {
		t.Fatalf("%d events pending, want %d", n, later)
	}
}

// Ensure events an older server queued (keyed by enqueue time) still run after an upgrade, on their schedule,
// with their attempts so far.
func TestLegacyEventsRunAfterUpgrade(t *testing.T) {
	db := openStore(t)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	t0 := clock.Now()
	fresh := Event{ID: "0d9e4d7c-fresh", Function: "f", Payload: []byte(`{"n":1}`), EnqueuedAt: t0.Add(-time.Second),
		NextAttempt: t0.Add(-time.Second)}
	retry := Event{ID: "5b1f0a22-retry", Function: "g", Payload: []byte(`{"n":2}`), EnqueuedAt: t0.Add(-2 * time.Second),
		Attempts: 1, LastError: "boom", NextAttempt: t0.Add(time.Minute)}
	mustUpdate(t, db, func(tx store.Tx) error {
		for _, e := range []Event{fresh, retry} {
			if err := store.PutJSON(tx, fmt.Sprintf("evq/%020d-%s", e.EnqueuedAt.UnixNano(), e.ID), e); err != nil {
				return err
			}
		}
		return nil
	})

	sc := &script{plan: map[string][]Outcome{"g": {failure}}}
	q := queueOn(db, sc.run, clock, DefaultPolicy())
	ctx := context.Background()
	if n, err := q.Pending(ctx); err != nil || n != 2 {
		t.Fatalf("pending before the first pass = %d, %v; want 2", n, err)
	}
	q.ProcessDue(ctx)
	if sc.count("f") != 1 || sc.count("g") != 0 {
		t.Fatalf("first pass ran f %d and g %d times, want 1 and 0", sc.count("f"), sc.count("g"))
	}
	if got := string(sc.calls[0].Payload); got != `{"n":1}` {
		t.Fatalf("payload = %s", got)
	}
	legacy := 0
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.Scan("evq/", "", func(string, []byte) (bool, error) { legacy++; return true, nil })
	}); err != nil || legacy != 0 {
		t.Fatalf("%d records left in the old layout (%v)", legacy, err)
	}
	if n, _ := q.Pending(ctx); n != 1 {
		t.Fatalf("%d events pending, want the retry", n)
	}

	clock.Add(time.Minute) // the retry it was waiting for (its second attempt) fails
	q.ProcessDue(ctx)
	clock.Add(2 * time.Minute) // the third and last
	q.ProcessDue(ctx)
	if sc.count("g") != 2 {
		t.Fatalf("g ran %d times after the upgrade, want 2 (its first attempt was before)", sc.count("g"))
	}
	dead, err := q.DeadLetters(ctx, "g")
	if err != nil || len(dead) != 1 || dead[0].Condition != "RetriesExhausted" || dead[0].Event.Attempts != 3 ||
		string(dead[0].Event.Payload) != `{"n":2}` {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	if n, _ := q.Pending(ctx); n != 0 {
		t.Fatalf("%d events left", n)
	}
}

// Ensure an attempt that finishes while a pass is reading an older snapshot is neither started again nor has its
// outcome recorded twice.
func TestAttemptFinishingDuringAPassRunsOnce(t *testing.T) {
	db := openStore(t)
	// Grow the file and free the space again, so the commit made below while a read transaction is open reuses
	// pages instead of remapping the file (which waits for readers).
	mustUpdate(t, db, func(tx store.Tx) error { return tx.Put("pad", bytes.Repeat([]byte{1}, 4<<20)) })
	mustUpdate(t, db, func(tx store.Tx) error { return tx.Delete("pad") })
	cs := &countingStore{Store: db}

	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	run := func(context.Context, Event) Outcome {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			<-release
			return failure
		}
		return Outcome{Response: []byte(`"ok"`), ExecutedVersion: "1"}
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q := queueOn(cs, run, clock, DefaultPolicy())
	ctx := context.Background()
	if _, err := q.Enqueue(ctx, "f", "", nil); err != nil {
		t.Fatal(err)
	}
	q.dispatchDue(ctx) // the first attempt starts and waits for release
	select {
	case <-q.wake: // the enqueue's
	default:
	}
	// The next pass takes its snapshot while the attempt runs; the attempt then stores its outcome (a retry in a
	// minute) and stops running before the pass looks at what it read.
	cs.setOnView(func() {
		close(release)
		<-q.wake // kicked by the attempt once it is no longer running
	})
	q.dispatchDue(ctx)
	q.wg.Wait()
	if calls != 1 {
		t.Fatalf("the attempt ran %d times", calls)
	}
	if n, _ := q.Pending(ctx); n != 1 {
		t.Fatalf("%d events pending, want the one waiting for its retry", n)
	}
	clock.Add(time.Minute)
	q.ProcessDue(ctx)
	if n, _ := q.Pending(ctx); calls != 2 || n != 0 {
		t.Fatalf("after the retry: %d attempts, %d pending; want 2 and 0", calls, n)
	}
}
