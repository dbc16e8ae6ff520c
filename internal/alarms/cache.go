package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/sluice-dev/sluice/internal/store"
)

// The alarms in memory (Service.alarms) are a cache of the alarm/ records, fed by the store's watch: a record put or
// deleted by any process sharing the store shows up here, and a state change seen on the watch is what the
// subscribers hear of. Writes go through commit, which returns once the watch has applied them, so a caller that
// put an alarm describes it at once.

// cacheWaitLimit bounds how long a write waits for the watch to apply it: the write is committed either way.
const cacheWaitLimit = 10 * time.Second

// commit runs fn in a store transaction (fn may run more than once: it must read what it decides from in the
// transaction and have no effect outside it) and returns once the cache has applied the commit. No lock of the
// service is held while the store writes.
func (s *Service) commit(ctx context.Context, fn func(tx store.Tx) error) error {
	rev, err := s.st.UpdateRev(ctx, fn)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, cacheWaitLimit)
	defer cancel()
	if err := s.progress.Wait(wctx, rev); err != nil && ctx.Err() == nil {
		s.log.Warn("the alarms' cache did not apply a change in time; answering anyway", "revision", rev,
			"lagging", s.progress.Lagging(rev))
	}
	return nil
}

// load reads every alarm record and replaces the cache with them (at startup, and again when the watch fell
// behind); it returns the revision it read them at. A state that differs from the cached one is notified as a
// transition from the cached state: the intermediate ones the watch missed are lost.
func (s *Service) load(ctx context.Context) (int64, error) {
	var rev int64
	var records []record
	err := s.st.View(ctx, func(tx store.Tx) error {
		rev = tx.Revision()
		records = records[:0]
		return tx.Scan(alarmPrefix, "", func(k string, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			records = append(records, r)
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.alarms
	s.alarms = make(map[string]*entry, len(records))
	for i := range records {
		s.putLocked(old[records[i].Name], &records[i])
	}
	return rev, nil
}

// follow applies the watch of alarm/ from revision rev + 1 until ctx ends or the store closes, listing again when
// it falls behind, and reports each revision it applied to the Progress.
func (s *Service) follow(ctx context.Context, rev int64) {
	for retry := time.Duration(0); ctx.Err() == nil; {
		events, err := s.st.Watch(ctx, alarmPrefix, rev+1)
		if err == nil {
			for resp := range events {
				if err = resp.Err; err != nil {
					break
				}
				s.apply(resp.Events)
				rev = resp.Revision
				s.applied.Advance(rev)
				retry = 0
			}
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
		if !errors.Is(err, store.ErrCompacted) {
			s.log.Warn("alarms' cache: watch ended; listing again", "err", err)
			retry = min(max(2*retry, 10*time.Millisecond), time.Second)
			select {
			case <-time.After(retry):
			case <-ctx.Done():
				return
			}
		}
		listed, err := s.load(ctx)
		if err != nil {
			if errors.Is(err, store.ErrClosed) {
				return
			}
			s.log.Warn("alarms' cache: listing failed; trying again", "err", err)
			continue
		}
		rev = listed
		s.applied.Advance(rev)
	}
}

// apply brings the cache in line with the events of one commit.
func (s *Service) apply(events []store.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range events {
		name := ev.Key[len(alarmPrefix):]
		if ev.Type == store.EventDelete {
			delete(s.alarms, name)
			continue
		}
		var r record
		if err := json.Unmarshal(ev.Value, &r); err != nil {
			// Not a record this version understands: forget the alarm rather than evaluate a stale definition.
			s.log.Error("alarms' cache: undecodable record", "key", ev.Key, "err", err)
			delete(s.alarms, name)
			continue
		}
		s.putLocked(s.alarms[name], &r)
	}
}

// putLocked caches record r in place of cur (nil when the alarm was not cached) and, when the state changed,
// queues the transition for the subscribers (under mu, so in revision order).
func (s *Service) putLocked(cur *entry, r *record) {
	e := s.entryOf(r)
	if cur != nil && sameEvaluation(&cur.a.Definition, &e.a.Definition) {
		e.def = cur.def // the evaluator's cached datapoints stay valid
	} else {
		e.def = s.defSeq.Add(1)
	}
	s.alarms[r.Name] = e
	if cur == nil || cur.a.StateValue == e.a.StateValue {
		return // a new alarm starts in INSUFFICIENT_DATA without a transition; other writes keep the state
	}
	c := Change{AlarmName: r.Name, From: cur.a.StateValue, To: e.a.StateValue, Reason: e.a.StateReason, At: e.a.StateUpdated}
	s.log.Info("alarm state changed", "alarm", c.AlarmName, "from", c.From, "to", c.To, "reason", c.Reason)
	for _, sub := range s.subs {
		sub.push(c)
	}
	select { // composite alarms may follow this one (Run evaluates them)
	case s.childChanged <- struct{}{}:
	default:
	}
}

// sameEvaluation reports whether two definitions are evaluated alike: equal in every field but those only the API
// reports (description, actions, tags). Both come from records, so empty lists and maps are nil in both.
func sameEvaluation(a, b *Definition) bool {
	return reflect.DeepEqual(evaluated(*a), evaluated(*b))
}

func evaluated(d Definition) Definition {
	d.Description, d.ActionsEnabled, d.Tags = "", false, nil
	d.OKActions, d.AlarmActions, d.InsufficientDataActions = nil, nil, nil
	return d
}
