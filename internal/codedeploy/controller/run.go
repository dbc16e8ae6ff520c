package controller

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/reconcile"
	"github.com/sluice-dev/sluice/internal/store"
)

const (
	// retryAfter is how long a pass that failed (a call into the world, a hook invocation, the store) waits before
	// it is tried again, and how long Run waits before listing again after the store refused a listing or a watch.
	retryAfter = time.Second
	// resyncEvery is how often Run lists every open deployment again and passes over each, as a backstop only: the
	// watch wakes a deployment for every change to its keys, a deployment's timer for its schedule. What neither
	// shows is the world outside the controller's keys — an alias moved by hand (drift), a version deleted, an
	// alarm notification another process's evaluator sent — and those are noticed at the latest this long after.
	resyncEvery = 30 * time.Second
)

// Run drives deployments until ctx ends. Workers goroutines take tasks from the queue — a pass over a deployment,
// or a recount of a finished one's blast radius —, each deployment held by one worker at a time, so one
// deployment's slow pass (a pre-warm, a hook invocation) never delays another's. Tasks are queued by
//
//   - the store's watch of cd/, whoever committed the change (this process or another sharing the store): a new
//     open key (a deployment created, or a rollback started), an intent (a stop, a hook report), a hook report in
//     the dispatch log, a new settle key; the removal of an open key wakes the deployments Queued behind it;
//   - a deployment's own wake-up timer, set from the WakeAt its last pass decided, or retryAfter after a failure;
//   - a pass that acted, started a rollback or lost its compare-and-swap;
//   - an alarm changing state (every open deployment);
//   - a listing of every open and settling deployment: when Run starts, when the watch fell behind the store's
//     history (ErrCompacted, ErrLagged) and every resyncEvery as a backstop.
func (c *Controller) Run(ctx context.Context) {
	c.queue.Reopen() // Run may run again after it returned: a node leads again
	stopWorkers := reconcile.Workers(Workers, c.queue, func(t task) {
		if t.settle {
			if c.settle(ctx, t.id) {
				c.after(t, blastRadiusRecount)
			}
		} else {
			c.pass(ctx, t.id)
		}
	})
	defer func() {
		stopWorkers()
		c.mu.Lock()
		for k, t := range c.timers {
			t.stop()
			delete(c.timers, k)
		}
		c.mu.Unlock()
	}()
	if c.o.Alarms != nil {
		// Queued from the alarm's own notification goroutine, from the set of open deployments the watch keeps:
		// no store read stands between an alarm and the rollbacks it calls for.
		cancel := c.o.Alarms.Subscribe(c.queueOpen)
		defer cancel()
	}
	// Listing the open and settling deployments queues them all; the watch of cd/ queues what each commit changed.
	reconcile.Follower{Store: c.o.Store, Prefix: prefixRoot, List: c.relist, Apply: c.apply,
		ResyncEvery: resyncEvery, RetryAfter: retryAfter, AfterFunc: c.o.AfterFunc, Logger: c.log}.Run(ctx)
}

// queuePass queues a pass over deployment id.
func (c *Controller) queuePass(id string) { c.queue.Add(task{id: id}) }

// queueOpen queues a pass over every open deployment Run knows of.
func (c *Controller) queueOpen() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.open))
	for id := range c.open {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.queuePass(id)
	}
}

// pass reconciles one deployment (a worker's unit of work) and sets its wake-up timer.
func (c *Controller) pass(ctx context.Context, id string) {
	wake, err := c.reconcile(ctx, id)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		c.log.Error("reconcile deployment", "deployment", id, "err", err)
		wake = c.o.Now().Add(retryAfter)
	}
	if !wake.IsZero() {
		c.after(task{id: id}, max(wake.Sub(c.o.Now()), 0))
	}
}

// after queues t once d has passed on the controller's clock, replacing the timer t had.
func (c *Controller) after(t task, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.timers[t]; old != nil {
		old.stop()
	}
	tm := &timer{}
	tm.stop = c.o.AfterFunc(d, func() {
		c.mu.Lock()
		if c.timers[t] == tm {
			delete(c.timers, t)
		}
		c.mu.Unlock()
		c.queue.Add(t)
	})
	c.timers[t] = tm
}

// cancelTimer stops t's timer, if it has one.
func (c *Controller) cancelTimer(t task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tm := c.timers[t]; tm != nil {
		tm.stop()
		delete(c.timers, t)
	}
}

// waitFor notes that deployment id is Queued behind blocker, so that the removal of the blocker's open key queues
// it. The blocker may have finished after the pass read it, its removal already applied by the watch before the
// note was made: it is looked up once more, now that a later removal cannot be missed.
func (c *Controller) waitFor(ctx context.Context, id, blocker string) {
	c.mu.Lock()
	c.blockedBy[id] = blocker
	c.mu.Unlock()
	var open bool
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		var err error
		open, err = store.Exists(tx, openKey(blocker))
		return err
	})
	if err == nil && open {
		return
	}
	c.mu.Lock()
	delete(c.blockedBy, id)
	c.mu.Unlock()
	c.queuePass(id)
}

// relist reads which deployments are open and which are settling, and the revision they were read at; it resets
// the open set to them and queues them all.
func (c *Controller) relist(ctx context.Context) (int64, error) {
	var rev int64
	var open, settling []string
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		rev, open, settling = tx.Revision(), nil, nil
		if err := tx.Scan(prefixOpen, "", func(k string, _ []byte) (bool, error) {
			open = append(open, k[len(prefixOpen):])
			return true, nil
		}); err != nil {
			return err
		}
		return tx.Scan(prefixSettle, "", func(k string, _ []byte) (bool, error) {
			settling = append(settling, k[len(prefixSettle):])
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.open = make(map[string]bool, len(open))
	for _, id := range open {
		c.open[id] = true
	}
	for id := range c.blockedBy { // every open deployment is queued below, the blocked ones with the rest
		delete(c.blockedBy, id)
	}
	c.mu.Unlock()
	for _, id := range open {
		c.queuePass(id)
	}
	for _, id := range settling {
		c.queue.Add(task{id: id, settle: true})
	}
	return rev, nil
}

// apply queues what one changed key calls for. A record (cd/dep/) wakes nothing: only passes and CreateDeployment
// write one, CreateDeployment's comes with a new open key, and were a pass's save to wake its deployment, two
// controllers sharing the store would wake each other for ever. Applications, groups and configurations wake
// nothing either: a deployment copies what it needs when it is created.
func (c *Controller) apply(ev store.Event) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(ev.Key, prefixRoot), "/")
	id, _, _ := strings.Cut(rest, "/")
	if id == "" {
		return
	}
	put := ev.Type == store.EventPut
	switch kind + "/" {
	case prefixOpen[len(prefixRoot):]:
		c.mu.Lock()
		var waiting []string
		if put {
			c.open[id] = true
		} else {
			delete(c.open, id)
			delete(c.blockedBy, id)
			for w, b := range c.blockedBy {
				if b == id {
					waiting = append(waiting, w)
					delete(c.blockedBy, w)
				}
			}
		}
		c.mu.Unlock()
		if put {
			c.queuePass(id) // a new deployment (open keys are put once, see put)
		} else {
			c.cancelTimer(task{id: id}) // finished: its wake-up is moot
		}
		for _, w := range waiting {
			c.queuePass(w)
		}
	case prefixIntent[len(prefixRoot):]:
		if put {
			c.queuePass(id) // a stop request, or the count of a hook report
		}
	case prefixHook[len(prefixRoot):]:
		// A report, not the controller's own note of a dispatch (pending), which needs no pass.
		var r codedeploy.HookResult
		if put && json.Unmarshal(ev.Value, &r) == nil && r != codedeploy.HookPending {
			c.queuePass(id)
		}
	case prefixSettle[len(prefixRoot):]:
		if put {
			c.queue.Add(task{id: id, settle: true})
		} else {
			c.cancelTimer(task{id: id, settle: true})
		}
	}
}
