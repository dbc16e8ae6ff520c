package invoke

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/asyncq"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/lambda"
	"github.com/sluice-dev/sluice/internal/runtimeapi"
)

// runEvent runs one attempt of a queued asynchronous invocation.
func (s *Service) runEvent(ctx context.Context, e asyncq.Event) asyncq.Outcome {
	ref := lambda.Ref{Name: e.Function, Qualifier: e.Qualifier}
	r, err := s.catalog.resolve(ref, "")
	if err != nil {
		// The function (or qualifier) is gone: nothing will ever run this event.
		return asyncq.Outcome{FunctionError: "Unhandled", Response: runtimeapi.ErrorDocument("ResourceNotFoundException", err.Error())}
	}
	if err := runnable(r); err != nil {
		return asyncq.Outcome{Retry: err}
	}
	release, err := s.conc.admit(r.fn, s.catalog)
	if err != nil {
		s.metrics.throttle(r, time.Now())
		return asyncq.Outcome{Retry: err}
	}
	defer release()
	// The log's tail is kept for OnAsyncFailure subscribers, who show why an attempt failed.
	res, err := s.run(ctx, r, Request{Ref: ref, Type: Event, Payload: e.Payload, LogTail: true}, nil)
	if err != nil {
		return asyncq.Outcome{Retry: err}
	}
	if res.StatusCode != http.StatusOK {
		return asyncq.Outcome{Retry: fault.New(fault.Service, "unexpected status %d", res.StatusCode)}
	}
	if res.FunctionError != "" {
		s.asyncFailures.notify(AsyncFailure{Function: e.Function, Payload: e.Payload, Response: res.Payload, LogTail: res.LogTail})
	}
	return asyncq.Outcome{Response: res.Payload, FunctionError: res.FunctionError, ExecutedVersion: res.ExecutedVersion}
}

// AsyncFailure is one attempt of an asynchronous invocation that ended in a function error.
type AsyncFailure struct {
	Function string
	// Payload is the event; Response the error document the function answered.
	Payload, Response []byte
	// LogTail is the end of the attempt's log, START to REPORT (at most 4 KB, as with LogType Tail).
	LogTail []byte
}

// OnAsyncFailure calls fn, on its own goroutine, after each attempt of an asynchronous invocation that ended in a
// function error — so that whoever queued the event (the deployment controller, for a hook) can say why at once,
// with the function's last log lines, rather than after its retries or its timeout. The returned func
// unsubscribes.
func (s *Service) OnAsyncFailure(fn func(AsyncFailure)) func() {
	return s.asyncFailures.subscribe(fn)
}

// OnAsyncFunctionError is OnAsyncFailure for a subscriber that needs only the event and the error document.
func (s *Service) OnAsyncFunctionError(fn func(function string, payload, response []byte)) func() {
	return s.OnAsyncFailure(func(f AsyncFailure) { fn(f.Function, f.Payload, f.Response) })
}

// asyncFailureSubscribers are the OnAsyncFailure subscriptions.
type asyncFailureSubscribers struct {
	mu   sync.Mutex
	next int
	subs map[int]func(AsyncFailure)
}

func (a *asyncFailureSubscribers) subscribe(fn func(AsyncFailure)) func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.subs == nil {
		a.subs = map[int]func(AsyncFailure){}
	}
	id := a.next
	a.next++
	a.subs[id] = fn
	return func() {
		a.mu.Lock()
		delete(a.subs, id)
		a.mu.Unlock()
	}
}

func (a *asyncFailureSubscribers) notify(f AsyncFailure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, fn := range a.subs {
		go fn(f)
	}
}

// eventPolicy is the asynchronous configuration that applies to an invocation of function:qualifier.
func (s *Service) eventPolicy(function, qualifier string) asyncq.Policy {
	p := asyncq.DefaultPolicy()
	fn := s.catalog.get(function)
	if fn == nil {
		return p
	}
	if qualifier == "" {
		qualifier = lambda.Latest
	}
	c, ok := fn.eventInvoke[qualifier]
	if !ok {
		return p
	}
	if c.MaximumRetryAttempts != nil {
		p.MaximumRetryAttempts = *c.MaximumRetryAttempts
	}
	if c.MaximumEventAgeInSeconds != nil {
		p.MaximumEventAge = time.Duration(*c.MaximumEventAgeInSeconds) * time.Second
	}
	p.OnSuccess, p.OnFailure = c.OnSuccess, c.OnFailure
	return p
}

// destination maps a destination function ARN to where its record is queued.
func (s *Service) destination(arn string) (string, string, bool) {
	ref, err := s.opts.Account.ParseFunctionName("destination", arn, 256)
	if err != nil || s.catalog.get(ref.Name) == nil {
		return "", "", false
	}
	return ref.Name, ref.Qualifier, true
}

// DeadLetters lists the asynchronous invocations of a function that could not be delivered.
func (s *Service) DeadLetters(ctx context.Context, function string) ([]asyncq.DeadLetter, error) {
	if s.catalog.get(function) == nil {
		return nil, fault.NotFound("Function not found: %s", s.opts.Account.FunctionARN(function))
	}
	return s.queue.DeadLetters(ctx, function)
}
