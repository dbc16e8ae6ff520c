package asyncq

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// fakeClock is advanced by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// script answers each attempt of a function from a list of outcomes and records what ran.
type script struct {
	mu    sync.Mutex
	plan  map[string][]Outcome
	calls []Event
}

func (s *script) run(_ context.Context, e Event) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, e)
	p := s.plan[e.Function]
	if len(p) == 0 {
		return Outcome{Response: []byte(`"ok"`), ExecutedVersion: "1"}
	}
	o := p[0]
	if len(p) > 1 {
		s.plan[e.Function] = p[1:]
	}
	return o
}

func (s *script) count(fn string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Function == fn {
			n++
		}
	}
	return n
}

var failure = Outcome{Response: []byte(`{"errorMessage":"boom","errorType":"Error"}`), FunctionError: "Unhandled", ExecutedVersion: "1"}

func newQueue(t *testing.T, sc *script, policy Policy) (*Queue, *fakeClock, func() *Queue) {
	t.Helper()
	db := openStore(t)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mk := func() *Queue { return queueOn(db, sc.run, clock, policy) }
	return mk(), clock, mk
}

// openStore opens a bbolt store in a temporary directory, closed when the test ends.
func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queueOn returns a queue on db whose destinations are the functions their ARNs name.
func queueOn(db store.Store, run func(context.Context, Event) Outcome, clock *fakeClock, policy Policy) *Queue {
	return New(Options{Store: db, Run: run, Now: clock.Now, RetryDelay: time.Minute,
		Policy: func(string, string) Policy { return policy },
		ARN:    func(fn, q string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + fn },
		Destination: func(arn string) (string, string, bool) {
			return arn[len("arn:aws:lambda:us-east-1:000000000000:function:"):], "", true
		}})
}

func TestSuccessRunsOnce(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{}}
	q, _, _ := newQueue(t, sc, DefaultPolicy())
	if _, err := q.Enqueue(context.Background(), "f", "", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	q.ProcessDue(context.Background())
	if sc.count("f") != 1 {
		t.Fatalf("ran %d times", sc.count("f"))
	}
	if n, _ := q.Pending(context.Background()); n != 0 {
		t.Fatalf("%d events left", n)
	}
}

func TestRetriesOnLambdasScheduleThenDeadLetter(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{"f": {failure}}}
	q, clock, _ := newQueue(t, sc, DefaultPolicy())
	ctx := context.Background()
	q.Enqueue(ctx, "f", "", []byte(`{}`))
	q.ProcessDue(ctx)
	steps := []struct {
		advance   time.Duration
		wantCalls int
	}{
		{59 * time.Second, 1}, // first retry waits a minute
		{time.Second, 2},
		{119 * time.Second, 2}, // the second waits two
		{time.Second, 3},
		{time.Hour, 3}, // exhausted: no fourth attempt
	}
	for _, s := range steps {
		clock.Add(s.advance)
		q.ProcessDue(ctx)
		if got := sc.count("f"); got != s.wantCalls {
			t.Fatalf("after +%v: %d attempts, want %d", s.advance, got, s.wantCalls)
		}
	}
	dead, err := q.DeadLetters(ctx, "f")
	if err != nil || len(dead) != 1 || dead[0].Condition != "RetriesExhausted" || dead[0].Event.Attempts != 3 {
		t.Fatalf("dead letters = %+v, %v", dead, err)
	}
	if n, _ := q.Pending(ctx); n != 0 {
		t.Fatalf("%d events left after dead-lettering", n)
	}
}

func TestMaximumRetryAttemptsZero(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{"f": {failure}}}
	p := DefaultPolicy()
	p.MaximumRetryAttempts = 0
	q, clock, _ := newQueue(t, sc, p)
	ctx := context.Background()
	q.Enqueue(ctx, "f", "", nil)
	q.ProcessDue(ctx)
	clock.Add(time.Hour)
	q.ProcessDue(ctx)
	if sc.count("f") != 1 {
		t.Fatalf("ran %d times with MaximumRetryAttempts=0", sc.count("f"))
	}
}

func TestDestinations(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{"bad": {failure}}}
	p := DefaultPolicy()
	p.MaximumRetryAttempts = 0
	p.OnSuccess = "arn:aws:lambda:us-east-1:000000000000:function:on-ok"
	p.OnFailure = "arn:aws:lambda:us-east-1:000000000000:function:on-fail"
	q, _, _ := newQueue(t, sc, p)
	ctx := context.Background()
	q.Enqueue(ctx, "good", "", []byte(`{"n":1}`))
	q.Enqueue(ctx, "bad", "", []byte(`{"n":2}`))
	q.ProcessDue(ctx)
	q.ProcessDue(ctx) // the destination events
	if sc.count("on-ok") != 1 || sc.count("on-fail") != 1 {
		t.Fatalf("destinations ran on-ok=%d on-fail=%d", sc.count("on-ok"), sc.count("on-fail"))
	}
	for _, c := range sc.calls {
		if c.Function != "on-fail" {
			continue
		}
		var rec struct {
			RequestContext struct {
				Condition   string `json:"condition"`
				FunctionArn string `json:"functionArn"`
			} `json:"requestContext"`
			RequestPayload  json.RawMessage `json:"requestPayload"`
			ResponseContext struct {
				FunctionError string `json:"functionError"`
			} `json:"responseContext"`
		}
		if err := json.Unmarshal(c.Payload, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.RequestContext.Condition != "RetriesExhausted" || string(rec.RequestPayload) != `{"n":2}` ||
			rec.ResponseContext.FunctionError != "Unhandled" || rec.RequestContext.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:bad" {
			t.Fatalf("failure record = %s", c.Payload)
		}
	}
	if dead, _ := q.DeadLetters(ctx, "bad"); len(dead) != 0 {
		t.Fatal("an event delivered to its on-failure destination must not also be a dead letter")
	}
}

func TestThrottlesDoNotUseRetries(t *testing.T) {
	throttled := Outcome{Retry: errors.New("throttled")}
	sc := &script{plan: map[string][]Outcome{"f": {throttled, throttled, throttled, {Response: []byte(`1`)}}}}
	q, clock, _ := newQueue(t, sc, DefaultPolicy())
	ctx := context.Background()
	q.Enqueue(ctx, "f", "", nil)
	for range 20 {
		q.ProcessDue(ctx)
		clock.Add(10 * time.Second)
	}
	if sc.count("f") != 4 {
		t.Fatalf("ran %d times, want 3 throttles then a success", sc.count("f"))
	}
	if dead, _ := q.DeadLetters(ctx, "f"); len(dead) != 0 {
		t.Fatal("throttles must not exhaust retries")
	}
}

func TestEventAgeExceeded(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{"f": {{Retry: errors.New("throttled")}}}}
	p := DefaultPolicy()
	p.MaximumEventAge = 2 * time.Minute
	q, clock, _ := newQueue(t, sc, p)
	ctx := context.Background()
	q.Enqueue(ctx, "f", "", nil)
	for range 30 {
		q.ProcessDue(ctx)
		clock.Add(10 * time.Second)
	}
	dead, _ := q.DeadLetters(ctx, "f")
	if len(dead) != 1 || dead[0].Condition != "EventAgeExceeded" {
		t.Fatalf("dead letters = %+v", dead)
	}
}

func TestQueuedEventsSurviveRestart(t *testing.T) {
	sc := &script{plan: map[string][]Outcome{}}
	q, _, reopen := newQueue(t, sc, DefaultPolicy())
	ctx := context.Background()
	for range 3 {
		q.Enqueue(ctx, "f", "", nil)
	}
	// A new queue on the same store (as after a restart) runs what the first one acknowledged.
	q2 := reopen()
	q2.ProcessDue(ctx)
	if sc.count("f") != 3 {
		t.Fatalf("after restart ran %d of 3 acknowledged events", sc.count("f"))
	}
}
