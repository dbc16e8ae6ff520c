// Package asyncq is the durable queue behind asynchronous (Event) invocations. An event is acknowledged only once
// it is committed to the store; workers run due events, retry failures on Lambda's schedule (up to
// MaximumRetryAttempts more times, within MaximumEventAgeInSeconds), and hand exhausted events to the on-failure
// destination or to the built-in dead-letter store. Throttled attempts are retried with back-off without using up
// retries, as Lambda does. Nothing is dropped: every event ends as a success, a destination invocation, or a dead
// letter.
package asyncq

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sluice-dev/sluice/internal/store"
)

const (
	queuePrefix = "evq/"
	deadPrefix  = "dlq/"
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
	o    Options
	wake chan struct{}
	sem  chan struct{}

	mu       sync.Mutex
	inFlight map[string]bool
	wg       sync.WaitGroup
}

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
	return &Queue{o: o, wake: make(chan struct{}, 1), sem: make(chan struct{}, o.Workers), inFlight: map[string]bool{}}
}

func key(e Event) string {
	return queuePrefix + fmt.Sprintf("%020d", e.EnqueuedAt.UnixNano()) + "-" + e.ID
}

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

// Run processes the queue until ctx ends, then waits for running events to finish.
func (q *Queue) Run(ctx context.Context) {
	defer q.wg.Wait()
	for {
		next := q.dispatchDue(ctx)
		var timer <-chan time.Time
		if !next.IsZero() {
			t := time.NewTimer(max(next.Sub(q.o.Now()), time.Millisecond))
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer:
		}
	}
}

// dispatchDue starts every due event not already running (bounded by Workers) and returns when the next
// not-yet-due event is due (zero if none).
func (q *Queue) dispatchDue(ctx context.Context) time.Time {
	var due []Event
	var next time.Time
	now := q.o.Now()
	err := q.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(queuePrefix, "", func(_ string, b []byte) (bool, error) {
			var e Event
			if err := json.Unmarshal(b, &e); err != nil {
				return false, err
			}
			if e.NextAttempt.After(now) {
				if next.IsZero() || e.NextAttempt.Before(next) {
					next = e.NextAttempt
				}
				return true, nil
			}
			due = append(due, e)
			return true, nil
		})
	})
	if err != nil {
		if ctx.Err() == nil {
			q.o.Logger.Error("scan async queue", "err", err)
		}
		return now.Add(time.Second)
	}
	for _, e := range due {
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
			return time.Time{}
		}
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			defer func() { <-q.sem }()
			q.process(ctx, e)
			q.mu.Lock()
			delete(q.inFlight, e.ID)
			q.mu.Unlock()
			q.kick()
		}()
	}
	return next
}

// ProcessDue runs every due event to completion, synchronously (tests drive the queue with a fake clock).
func (q *Queue) ProcessDue(ctx context.Context) {
	q.dispatchDue(ctx)
	q.wg.Wait()
}

// process runs one attempt of an event and records what follows.
func (q *Queue) process(ctx context.Context, e Event) {
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
		q.save(ctx, e)
	case out.Retry != nil:
		q.finish(ctx, e, policy, out, "EventAgeExceeded")
	case out.FunctionError == "":
		q.finish(ctx, e, policy, out, "Success")
	default:
		e.Attempts++
		e.LastError = string(out.Response)
		switch {
		case e.Destination:
			q.finish(ctx, e, policy, out, "RetriesExhausted")
		case e.Attempts > policy.MaximumRetryAttempts:
			q.finish(ctx, e, policy, out, "RetriesExhausted")
		case age+q.o.RetryDelay*time.Duration(e.Attempts) > policy.MaximumEventAge:
			q.finish(ctx, e, policy, out, "EventAgeExceeded")
		default:
			e.NextAttempt = now.Add(q.o.RetryDelay * time.Duration(e.Attempts)) // 1×, then 2× the delay
			q.save(ctx, e)
		}
	}
}

// backoff for attempts that never reached the function: doubling from a second, at most RetryDelay×5.
func backoff(throttles int, retryDelay time.Duration) time.Duration {
	return min(time.Second<<min(throttles-1, 10), retryDelay*5)
}

// save rewrites an event under its key.
func (q *Queue) save(ctx context.Context, e Event) {
	if err := q.o.Store.Update(ctx, func(tx store.Tx) error { return store.PutJSON(tx, key(e), e) }); err != nil {
		q.o.Logger.Error("save async event", "id", e.ID, "err", err)
	}
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
func (q *Queue) finish(ctx context.Context, e Event, p Policy, out Outcome, condition string) {
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
		if err := tx.Delete(key(e)); err != nil {
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

// Pending counts queued events (for status and tests).
func (q *Queue) Pending(ctx context.Context) (int, error) {
	n := 0
	err := q.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(queuePrefix, "", func(string, []byte) (bool, error) { n++; return true, nil })
	})
	return n, err
}
