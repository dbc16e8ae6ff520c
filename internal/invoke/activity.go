package invoke

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// A function turns Inactive after InactiveAfter without invocations on any node. Each node knows its own
// invocations (lastInvoked, written on the invoke path without any store access) and publishes them coarsely:
// the reaper writes activity/<function> when the function was invoked since the recorded time by more than
// activityGranularity. The inactivity sweep — one node's job in a cluster — takes the later of the recorded and
// the local time, so an invocation anywhere keeps a function Active, at the cost of at most one small write per
// function per granularity per node.
const activityPrefix = "activity/"

// activityGranularity is how stale a published invocation time may be: small against InactiveAfter (days).
func activityGranularity(inactiveAfter time.Duration) time.Duration {
	return min(max(inactiveAfter/100, time.Second), time.Hour)
}

// activity remembers what this node last published, so that it writes only when that moved on enough.
type activity struct {
	mu        sync.Mutex
	published map[string]time.Time
}

// publishActivity records, in one transaction, the functions invoked here since their published time moved on by
// more than the granularity.
func (s *Service) publishActivity(ctx context.Context) {
	if s.opts.Store == nil {
		return
	}
	grain := activityGranularity(s.opts.InactiveAfter)
	due := map[string]time.Time{}
	s.activity.mu.Lock()
	if s.activity.published == nil {
		s.activity.published = map[string]time.Time{}
	}
	s.lastInvoked.Range(func(k, v any) bool {
		name, at := k.(string), v.(time.Time)
		if at.Sub(s.activity.published[name]) > grain {
			due[name] = at
		}
		return true
	})
	s.activity.mu.Unlock()
	if len(due) == 0 {
		return
	}
	err := s.opts.Store.Update(ctx, func(tx store.Tx) error {
		for name, at := range due {
			var recorded time.Time
			if err := store.GetJSON(tx, activityPrefix+name, &recorded); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if at.After(recorded) {
				if err := store.PutJSON(tx, activityPrefix+name, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("publish invocation activity", "err", err)
		}
		return
	}
	s.activity.mu.Lock()
	for name, at := range due {
		s.activity.published[name] = at
	}
	s.activity.mu.Unlock()
}

// lastActivity is when function was last invoked on any node, as far as this node knows: the later of the
// published time and its own.
func (s *Service) lastActivity(ctx context.Context, name string) (time.Time, bool, error) {
	var recorded time.Time
	if s.opts.Store != nil {
		err := s.opts.Store.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, activityPrefix+name, &recorded) })
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return time.Time{}, false, err
		}
	}
	local, seen := s.lastInvoked.LoadOrStore(name, s.now())
	last := local.(time.Time)
	if recorded.After(last) {
		last = recorded
	}
	return last, seen || !recorded.IsZero(), nil
}

// RunInactivitySweep turns functions not invoked for InactiveAfter Inactive, until ctx ends. In a cluster one node
// runs it (the "inactivity" leadership); ctx then carries its fence.
func (s *Service) RunInactivitySweep(ctx context.Context) {
	tick := time.NewTicker(min(s.opts.InactiveAfter/4, 5*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.deactivateIdle(ctx)
	}
}

// RunQueue dispatches asynchronous invocations until ctx ends. In a cluster one node runs it (the "async"
// leadership) and runs the events on its own environments; an event it had not finished when it lost the
// leadership stays queued and runs again on the next leader (at least once, as on Lambda).
func (s *Service) RunQueue(ctx context.Context) { s.queue.Run(ctx) }
