// Package asyncq is the durable queue behind asynchronous (Event) invocations. An event is acknowledged only once
// it is committed to the store; workers run due events, retry failures on Lambda's schedule (up to
// MaximumRetryAttempts more times, within MaximumEventAgeInSeconds), and hand exhausted events to the on-failure
// destination or to the built-in dead-letter store. Throttled attempts are retried with back-off without using up
// retries, as Lambda does. Nothing is dropped: every event ends as a success, a destination invocation, or a dead
// letter.
//
// # Store layout
//
//	evdue/<due>-<id>   Event, keyed by when its next attempt is due (Unix nanoseconds, 20 digits)
//	dlq/<fn>/<at>-<id> DeadLetter
//
// Because the queue is ordered by due time, a dispatch pass seeks to the first key and stops at the first one that
// is not yet due: it costs O(log n + due events), however many events wait for later. An attempt's outcome moves
// its event to its new due key (or removes it) in one transaction, after checking that the event is still at the
// key it was read from. Servers before this layout keyed events by enqueue time (evq/<enqueued>-<id>); the first
// pass of a queue moves any such events to evdue/ in one transaction, so they still run after an upgrade.
//
// # Wake-ups
//
// Run makes a pass when the earliest event it read is due (one timer), when this process enqueued or finished an
// event (an in-process kick, so Invoke's 202 is followed by a pass at once), and when the store's watch of evdue/
// shows an event put by a commit the last pass did not read — whoever made it: another Queue on the same store
// (another server of a cluster) wakes this one, with no polling. A watch that fell behind the store's history
// (ErrCompacted, ErrLagged) is re-listed the etcd way: a pass that reads the queue afresh, and a new watch from the
// revision it was taken at.
package asyncq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/store"
)

const (
	duePrefix    = "evdue/"
	legacyPrefix = "evq/" // keyed by enqueue time; only read to migrate
	deadPrefix   = "dlq/"
)

// Event is one queued asynchronous invocation.
type Event struct {
	ID          string    `json:"id"`
	Function    string    `json:"function"`
	Qualifier   string    `json:"qualifier,omitempty"`
	Payload     []byte    `json:"payload"`
	EnqueuedAt  time.Time `json:"enqueuedAt"`
	Attempts    int       `json:"attempts"`            // function attempts made (throttles do not count)
	Throttles   int       `json:"throttles,omitempty"` // attempts that did not reach the function
	NextAttempt time.Time `json:"nextAttempt"`
	LastError   string    `json:"lastError,omitempty"`
	// Destination marks an event that delivers a destination record; it is not itself routed to destinations.
	Destination bool `json:"destination,omitempty"`
}

// Outcome is the result of running an event once.
type Outcome struct {
	Response        []byte
	FunctionError   string // "Unhandled" when Response is an error document
	ExecutedVersion string
	// Retry is set when the attempt did not reach the function (throttled, function not ready): try again later
	// without counting an attempt.
	Retry error
}

// Policy is a function's event invoke configuration.
type Policy struct {
	MaximumRetryAttempts int           // 0–2, default 2
	MaximumEventAge      time.Duration // default 6 h
	OnSuccess, OnFailure string        // destination function ARNs ("" = none)
	DeadLetterTarget     string        // the function's DeadLetterConfig target ("" = none)
}

// DefaultPolicy is Lambda's behaviour without an event invoke configuration.
func DefaultPolicy() Policy { return Policy{MaximumRetryAttempts: 2, MaximumEventAge: 6 * time.Hour} }

// Options configures a Queue.
type Options struct {
	Store store.Store
	// Run executes an event once.
	Run func(ctx context.Context, e Event) Outcome
	// Policy returns the policy of a function and qualifier.
	Policy func(function, qualifier string) Policy
	// Destination resolves a destination ARN to a function name and qualifier it can enqueue to (ok false: unusable).
	Destination func(arn string) (function, qualifier string, ok bool)
	// ARN renders a function's (qualified) ARN for destination records.
	ARN func(function, qualifier string) string
	// RetryDelay is the wait before the first retry (Lambda: 1 minute); the second waits twice as long.
	RetryDelay time.Duration
	// Workers bounds concurrent asynchronous invocations (default 16).
	Workers int
	Now     func() time.Time
	Logger  *slog.Logger
}

// Queue runs asynchronous invocations.
type Queue struct {
	o        Options
	wake     chan struct{}
	sem      chan struct{}
	newTimer func() timer // Run's one wake-up timer; tests replace it

	// dispatchMu makes passes one at a time: only a pass starts events, which is what lets a pass trust its
	// snapshot for every event that was not running when the pass began.
	dispatchMu sync.Mutex
	migrated   bool // legacy keys moved (guarded by dispatchMu)
	// seen is the store revision the last pass read the queue at: a watched commit at or below it was in that
	// pass's snapshot, so it needs no pass of its own.
	seen atomic.Int64

	mu       sync.Mutex
	inFlight map[string]bool
	wg       sync.WaitGroup
}

// timer is the part of a time.Timer that Run uses.
type timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type wallTimer struct{ t *time.Timer }

func newWallTimer() timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return wallTimer{t}
}

func (w wallTimer) C() <-chan time.Time   { return w.t.C }
func (w wallTimer) Reset(d time.Duration) { w.t.Reset(d) }
func (w wallTimer) Stop()                 { w.t.Stop() }

// New returns a queue; call Run to process it.
func New(o Options) *Queue {
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Minute
	}
	if o.Workers == 0 {
		o.Workers = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Queue{o: o, wake: make(chan struct{}, 1), sem: make(chan struct{}, o.Workers), newTimer: newWallTimer,
		inFlight: map[string]bool{}}
}

// key is where an event waits: under its next attempt's due time.
func key(e Event) string {
	ns := int64(0)
	if e.NextAttempt.After(time.Unix(0, 0)) {
		ns = e.NextAttempt.UnixNano()
	}
	return duePrefix + fmt.Sprintf("%020d", ns) + "-" + e.ID
}

// parseKey returns the due time and event ID encoded in a key of duePrefix.
func parseKey(k string) (time.Time, string, error) {
	rest := strings.TrimPrefix(k, duePrefix)
	digits, id, ok := strings.Cut(rest, "-")
	ns, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || len(digits) != 20 {
		return time.Time{}, "", fmt.Errorf("malformed async queue key %q", k)
	}
	return time.Unix(0, ns), id, nil
}

// queued is an event and the key it was read at.
type queued struct {
	key string
	e   Event
}

// errSettled aborts a write for an event that is no longer at the key its attempt read it from.
var errSettled = errors.New("event already settled")

// Enqueue stores an event durably and returns its ID (the request ID reported to the caller).
func (q *Queue) Enqueue(ctx context.Context, function, qualifier string, payload []byte) (string, error) {
	e := Event{ID: uuid.NewString(), Function: function, Qualifier: qualifier, Payload: payload, EnqueuedAt: q.o.Now()}
	e.NextAttempt = e.EnqueuedAt
	if err := q.o.Store.Update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, key(e), e) }); err != nil {
		return "", err
	}
	q.kick()
	return e.ID, nil
}

func (q *Queue) enqueueEvent(ctx context.Context, e Event) error {
	if err := q.o.Store.Update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, key(e), e) }); err != nil {
		return err
	}
	q.kick()
	return nil
}

func (q *Queue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run processes the queue until ctx ends, then waits for running events to finish. It re-arms one timer for the
// next due event between passes, and follows the store's watch of the queue (see the package doc).
func (q *Queue) Run(ctx context.Context) {
	defer q.wg.Wait()
	var watching sync.WaitGroup // apart from q.wg, which ProcessDue waits for
	defer watching.Wait()
	t := q.newTimer()
	defer t.Stop()
	for following := false; ; following = true {
		next := q.dispatchDue(ctx)
		if !following {
			// The first pass is the listing: watch what commits after it.
			from := q.seen.Load() + 1
			watching.Go(func() { q.follow(ctx, from) })
		}
		var fired <-chan time.Time
		if !next.IsZero() {
			t.Reset(max(next.Sub(q.o.Now()), time.Millisecond))
			fired = t.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-fired:
		}
		t.Stop()
	}
}

// retryWatch is how long follow waits before watching again after the store refused (other than by compaction).
const retryWatch = time.Second

// follow kicks a pass for every event put under evdue/ by a commit the last pass did not read, from revision from
// on, until ctx ends. When the watch fell behind the store's history it lists again: it takes the store's
// revision and kicks a pass — which reads at that revision or later, so it sees every commit the new watch (from
// the next revision on) does not replay.
func (q *Queue) follow(ctx context.Context, from int64) {
	for {
		err := q.watch(ctx, from)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrClosed):
			q.o.Logger.Error("async queue store closed; no longer watching it", "err", err)
			return
		case errors.Is(err, store.ErrCompacted):
			q.o.Logger.Info("async queue watch fell behind the store's history; reading the queue again", "err", err)
		default:
			q.o.Logger.Error("watch async queue", "err", err)
			q.pause(ctx, retryWatch)
		}
		rev, err := store.CurrentRevision(ctx, q.o.Store)
		for err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) {
			q.o.Logger.Error("read the async queue's revision", "err", err)
			q.pause(ctx, retryWatch)
			rev, err = store.CurrentRevision(ctx, q.o.Store)
		}
		if err != nil {
			continue // ctx ended or the store closed: the watch says which
		}
		q.kick()
		from = rev + 1
	}
}

// pause waits d on Run's timer, or until ctx ends.
func (q *Queue) pause(ctx context.Context, d time.Duration) {
	t := q.newTimer()
	defer t.Stop()
	t.Reset(d)
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}

// errWatchEnded reports a watch whose channel closed without saying why.
var errWatchEnded = errors.New("async queue watch ended")

// watch kicks a pass for each commit from revision from on that puts an event the last pass did not read, until
// the watch ends; it returns why.
func (q *Queue) watch(ctx context.Context, from int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := q.o.Store.Watch(wctx, duePrefix, from)
	if err != nil {
		return err
	}
	for resp := range ch {
		if resp.Err != nil {
			return resp.Err
		}
		for _, ev := range resp.Events {
			// A put is an event to run, now or later; a delete (an event settled, or moved to a later key) never
			// makes one due sooner.
			if ev.Type == store.EventPut && ev.Revision > q.seen.Load() {
				q.kick()
				break
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errWatchEnded
}

// dispatchDue starts every due event not already running (bounded by Workers) and returns when the next
// not-yet-due event is due (zero if none). It reads the due events and the first later key, nothing more.
func (q *Queue) dispatchDue(ctx context.Context) time.Time {
	q.dispatchMu.Lock()
	defer q.dispatchMu.Unlock()
	now := q.o.Now()
	if !q.migrated {
		if err := q.migrate(ctx); err != nil {
			if ctx.Err() == nil {
				q.o.Logger.Error("migrate async queue", "err", err)
			}
			return now.Add(time.Second)
		}
		q.migrated = true
	}
	// An event running when the pass begins is skipped even if it finishes during the scan: the snapshot may
	// predate its outcome, and its worker kicks another pass once the outcome is stored.
	q.mu.Lock()
	busy := maps.Clone(q.inFlight)
	q.mu.Unlock()
	var due []queued
	var next time.Time
	var rev int64
	err := q.o.Store.View(ctx, func(tx store.Tx) error {
		due, next, rev = nil, time.Time{}, tx.Revision()
		return tx.Scan(duePrefix, "", func(k string, b []byte) (bool, error) {
			at, id, err := parseKey(k)
			if err != nil {
				return false, err
			}
			if at.After(now) {
				next = at
				return false, nil
			}
			if busy[id] {
				return true, nil
			}
			var e Event
			if err := json.Unmarshal(b, &e); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			due = append(due, queued{key: k, e: e})
			return true, nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			q.o.Logger.Error("scan async queue", "err", err)
		}
		return now.Add(time.Second)
	}
	q.seen.Store(rev)
	for _, d := range due {
		e := d.e
		q.mu.Lock()
		running := q.inFlight[e.ID]
		if !running {
			q.inFlight[e.ID] = true
		}
		q.mu.Unlock()
		if running {
			continue
		}
		select {
		case q.sem <- struct{}{}:
		case <-ctx.Done():
			// Not started: unmark it, or the next pass of this queue (the next leadership term) would skip it.
			q.mu.Lock()
			delete(q.inFlight, e.ID)
			q.mu.Unlock()
			return time.Time{}
		}
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			defer func() { <-q.sem }()
			q.process(ctx, d.key, e)
			q.mu.Lock()
			delete(q.inFlight, e.ID)
			q.mu.Unlock()
			q.kick()
		}()
	}
	return next
}

// migrate moves the events an older server queued under legacyPrefix to their due keys, all in one transaction.
// A record that cannot be decoded stays where it is (and is logged) rather than blocking the others.
func (q *Queue) migrate(ctx context.Context) error {
	var moved int
	err := q.o.Store.Update(ctx, func(tx store.Tx) error {
		type move struct {
			from string
			e    Event
			raw  []byte
		}
		var moves []move
		err := tx.Scan(legacyPrefix, "", func(k string, b []byte) (bool, error) {
			var e Event
			if err := json.Unmarshal(b, &e); err != nil || e.ID == "" {
				q.o.Logger.Error("async event left unmigrated: cannot decode", "key", k, "err", err)
				return true, nil
			}
			moves = append(moves, move{from: k, e: e, raw: bytes.Clone(b)})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, m := range moves {
			if err := tx.Put(key(m.e), m.raw); err != nil {
				return err
			}
			if err := tx.Delete(m.from); err != nil {
				return err
			}
		}
		moved = len(moves)
		return nil
	})
	if err == nil && moved > 0 {
		q.o.Logger.Info("async queue: moved events to the due-time layout", "events", moved)
	}
	return err
}

// ProcessDue runs every due event to completion, synchronously (tests drive the queue with a fake clock).
func (q *Queue) ProcessDue(ctx context.Context) {
	q.dispatchDue(ctx)
	q.wg.Wait()
}

// process runs one attempt of the event read at key at, and records what follows.
func (q *Queue) process(ctx context.Context, at string, e Event) {
	policy := DefaultPolicy()
	if q.o.Policy != nil && !e.Destination {
		policy = q.o.Policy(e.Function, e.Qualifier)
	}
	out := q.o.Run(ctx, e)
	if ctx.Err() != nil {
		return // shutting down: the event stays queued and runs after restart
	}
	now := q.o.Now()
	age := now.Sub(e.EnqueuedAt)
	switch {
	case out.Retry != nil && age < policy.MaximumEventAge:
		e.LastError = out.Retry.Error()
		e.Throttles++
		e.NextAttempt = now.Add(backoff(e.Throttles, q.o.RetryDelay))
		q.save(ctx, at, e)
	case out.Retry != nil:
		q.finish(ctx, at, e, policy, out, "EventAgeExceeded")
	case out.FunctionError == "":
		q.finish(ctx, at, e, policy, out, "Success")
	default:
		e.Attempts++
		e.LastError = string(out.Response)
		switch {
		case e.Destination:
			q.finish(ctx, at, e, policy, out, "RetriesExhausted")
		case e.Attempts > policy.MaximumRetryAttempts:
			q.finish(ctx, at, e, policy, out, "RetriesExhausted")
		case age+q.o.RetryDelay*time.Duration(e.Attempts) > policy.MaximumEventAge:
			q.finish(ctx, at, e, policy, out, "EventAgeExceeded")
		default:
			e.NextAttempt = now.Add(q.o.RetryDelay * time.Duration(e.Attempts)) // 1×, then 2× the delay
			q.save(ctx, at, e)
		}
	}
}

// backoff for attempts that never reached the function: doubling from a second, at most RetryDelay×5.
func backoff(throttles int, retryDelay time.Duration) time.Duration {
	return min(time.Second<<min(throttles-1, 10), retryDelay*5)
}

// save moves an event from the key its attempt read it at to the key of its next attempt.
func (q *Queue) save(ctx context.Context, at string, e Event) {
	err := q.o.Store.Update(ctx, func(tx store.Tx) error {
		if err := take(tx, at); err != nil {
			return err
		}
		return store.PutJSON(tx, key(e), e)
	})
	if err != nil {
		q.o.Logger.Error("save async event", "id", e.ID, "err", err)
	}
}

// take deletes the record at key, or fails with errSettled when it is not there (another attempt recorded an
// outcome first), so an outcome is recorded at most once.
func take(tx store.Tx, key string) error {
	ok, err := store.Exists(tx, key)
	if err != nil {
		return err
	}
	if !ok {
		return errSettled
	}
	return tx.Delete(key)
}

// DeadLetter is an event that could not be delivered, with why.
type DeadLetter struct {
	Event     Event     `json:"event"`
	Condition string    `json:"condition"` // RetriesExhausted or EventAgeExceeded
	Error     string    `json:"error"`
	At        time.Time `json:"at"`
}

// finish ends an event: a destination record for a configured destination, a dead letter for failures without
// one, and in every case the event leaves the queue — in the same transaction, so it is never both or neither.
func (q *Queue) finish(ctx context.Context, at string, e Event, p Policy, out Outcome, condition string) {
	var dest string
	if !e.Destination {
		if condition == "Success" {
			dest = p.OnSuccess
		} else {
			dest = p.OnFailure
		}
	}
	var follow *Event
	var dead *DeadLetter
	if dest != "" {
		if fn, qual, ok := q.destination(dest); ok {
			follow = &Event{ID: uuid.NewString(), Function: fn, Qualifier: qual, EnqueuedAt: q.o.Now(), Destination: true,
				Payload: destinationRecord(e, q.arn(e), condition, out)}
			follow.NextAttempt = follow.EnqueuedAt
		}
	}
	if condition != "Success" && follow == nil {
		dead = &DeadLetter{Event: e, Condition: condition, Error: e.LastError, At: q.o.Now()}
	}
	err := q.o.Store.Update(ctx, func(tx store.Tx) error {
		if err := take(tx, at); err != nil {
			return err
		}
		if follow != nil {
			if err := store.PutJSON(tx, key(*follow), follow); err != nil {
				return err
			}
		}
		if dead != nil {
			return store.PutJSON(tx, deadPrefix+e.Function+"/"+fmt.Sprintf("%020d", dead.At.UnixNano())+"-"+e.ID, dead)
		}
		return nil
	})
	if err != nil {
		q.o.Logger.Error("finish async event", "id", e.ID, "err", err)
		return
	}
	if follow != nil {
		q.kick()
	}
}

func (q *Queue) destination(arn string) (string, string, bool) {
	if q.o.Destination == nil {
		return "", "", false
	}
	return q.o.Destination(arn)
}

// destinationRecord is the document Lambda sends to a destination.
func destinationRecord(e Event, functionARN, condition string, out Outcome) []byte {
	type requestContext struct {
		RequestID              string `json:"requestId"`
		FunctionArn            string `json:"functionArn"`
		Condition              string `json:"condition"`
		ApproximateInvokeCount int    `json:"approximateInvokeCount"`
	}
	type responseContext struct {
		StatusCode      int    `json:"statusCode"`
		ExecutedVersion string `json:"executedVersion"`
		FunctionError   string `json:"functionError,omitempty"`
	}
	attempts := e.Attempts
	if condition == "Success" {
		attempts++
	}
	rec := struct {
		Version         string          `json:"version"`
		Timestamp       string          `json:"timestamp"`
		RequestContext  requestContext  `json:"requestContext"`
		RequestPayload  json.RawMessage `json:"requestPayload"`
		ResponseContext responseContext `json:"responseContext"`
		ResponsePayload json.RawMessage `json:"responsePayload,omitempty"`
	}{
		Version: "1.0", Timestamp: e.NextAttempt.UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext:  requestContext{RequestID: e.ID, FunctionArn: functionARN, Condition: condition, ApproximateInvokeCount: max(attempts, 1)},
		RequestPayload:  rawOrString(e.Payload),
		ResponseContext: responseContext{StatusCode: 200, ExecutedVersion: out.ExecutedVersion, FunctionError: out.FunctionError},
	}
	if len(out.Response) > 0 {
		rec.ResponsePayload = rawOrString(out.Response)
	}
	b, _ := json.Marshal(rec)
	return b
}

func (q *Queue) arn(e Event) string {
	if q.o.ARN == nil {
		return e.Function
	}
	return q.o.ARN(e.Function, e.Qualifier)
}

func rawOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// DeadLetters lists a function's dead letters, oldest first.
func (q *Queue) DeadLetters(ctx context.Context, function string) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(deadPrefix+function+"/", "", func(_ string, b []byte) (bool, error) {
			var d DeadLetter
			err := json.Unmarshal(b, &d)
			out = append(out, d)
			return err == nil, err
		})
	})
	return out, err
}

// Pending counts queued events, including any an older server left that are not migrated yet (for status and
// tests).
func (q *Queue) Pending(ctx context.Context) (int, error) {
	n := 0
	err := q.o.Store.View(ctx, func(tx store.Tx) error {
		for _, p := range []string{duePrefix, legacyPrefix} {
			if err := tx.Scan(p, "", func(string, []byte) (bool, error) { n++; return true, nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
