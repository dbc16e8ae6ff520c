package invoke

import (
	"sync"

	"github.com/sluice-dev/sluice/internal/fault"
)

// concurrency admits invocations against the account limit and per-function reservations: a function with a
// reservation may run that many at once and no more; the others share what is left of the account limit.
type concurrency struct {
	limit int

	mu         sync.Mutex
	unreserved int            // in flight in functions without a reservation
	perFn      map[string]int // in flight per function
}

func newConcurrency(limit int) *concurrency {
	return &concurrency{limit: limit, perFn: map[string]int{}}
}

func throttled(reason string) error {
	return &fault.Error{Code: fault.TooManyRequests, Message: "Rate Exceeded.", Reason: reason}
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
	case reserved != nil && c.perFn[fn.name] >= *reserved:
		return nil, throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
	case reserved == nil && c.unreserved >= pool:
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
