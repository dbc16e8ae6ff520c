package controller

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// Lambda is what the controller needs from the Lambda control plane.
type Lambda interface {
	// Alias returns an alias's routing; functionMissing / aliasMissing report what does not exist.
	Alias(ctx context.Context, function, alias string) (state codedeploy.AliasState, functionMissing, aliasMissing bool, err error)
	VersionExists(ctx context.Context, function, version string) (bool, error)
	SetAlias(ctx context.Context, function, alias string, state codedeploy.AliasState) error
}

// Hooks invokes hook functions asynchronously, as the deployment group's service role.
type Hooks interface {
	// InvokeAsync returns an error wrapping ErrHookNotAuthorized when serviceRole may not invoke function.
	InvokeAsync(ctx context.Context, serviceRole, function string, payload []byte) error
}

// ErrHookNotAuthorized reports that a deployment group's service role may not invoke a hook function: the hook
// fails at once, as CodeDeploy's does.
var ErrHookNotAuthorized = errors.New("the deployment group's service role is not authorized to invoke the hook")

// Alarms reports alarm states and changes.
type Alarms interface {
	InAlarm(ctx context.Context, names []string) ([]string, error)
	Subscribe(fn func()) (cancel func())
}

// Exposure reports how many invocations (and errors) a version served through an alias since a time: the
// deployment's blast radius (from the AWS/Lambda metrics).
// until zero means now.
type Exposure func(ctx context.Context, function, alias, version string, since, until time.Time) (invocations, errors int64, err error)

// Prewarm starts environments of the target version ahead of a traffic shift that will give it weight (current is
// the version serving the alias now) and returns, once they are ready, how many it started.
type Prewarm func(ctx context.Context, function, current, target string, weight float64) int

// Options configures a Controller.
type Options struct {
	Store  store.Store
	Lambda Lambda
	Hooks  Hooks
	Alarms Alarms
	// Exposure, if set, fills in each deployment's blast radius.
	Exposure Exposure
	// Prewarm, if set, is called once per deployment when it starts, before any traffic moves.
	Prewarm Prewarm
	// TimeScale makes a configured minute last 60/TimeScale seconds (default 1: real time).
	TimeScale float64
	// HookTimeout bounds how long a hook may take to report (default 1 hour).
	HookTimeout time.Duration
	Region      string
	AccountID   string
	Now         func() time.Time
	IDs         codedeploy.IDSource
	Logger      *slog.Logger
}

// Workers is how many deployments the controller's Run works on at once.
const Workers = 4

// Controller is the deployment controller.
type Controller struct {
	o     Options
	wake  chan struct{} // asks Run to queue every open deployment now
	queue *keyQueue[string]
	log   *slog.Logger

	mu     sync.Mutex             // guards timers only; never held across I/O
	timers map[string]*time.Timer // a deployment's next wake-up, which queues it
}

// New returns a controller; call Run to drive deployments.
func New(o Options) *Controller {
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	if o.HookTimeout == 0 {
		o.HookTimeout = codedeploy.DefaultHookTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IDs == nil {
		o.IDs = codedeploy.RandomIDs{Rand: rand.Reader}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Controller{o: o, wake: make(chan struct{}, 1), queue: newKeyQueue[string](),
		timers: map[string]*time.Timer{}, log: o.Logger.With("component", "deploy")}
}

// kick asks Run to queue every open deployment.
func (c *Controller) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run drives open deployments until ctx ends: Workers goroutines take deployment ids from the queue, each id held
// by one worker at a time, so one deployment's slow pass (a pre-warm, a hook invocation) never delays another's.
// Ids are queued by an alarm change (every open deployment, from the alarm's notification), by kicks (API calls),
// by a deployment's own wake-up timer, by a pass that acted or lost its compare-and-swap, and at least once a
// second for every open deployment.
func (c *Controller) Run(ctx context.Context) {
	var workers sync.WaitGroup
	defer func() {
		c.queue.ShutDown()
		workers.Wait()
		c.mu.Lock()
		for id, t := range c.timers {
			t.Stop()
			delete(c.timers, id)
		}
		c.mu.Unlock()
	}()
	for range Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				id, ok := c.queue.Get()
				if !ok {
					return
				}
				c.pass(ctx, id)
				c.queue.Done(id)
			}
		}()
	}
	if c.o.Alarms != nil {
		// Queued from the alarm's own notification goroutine, not through the loop below, which may be busy
		// recounting a blast radius.
		cancel := c.o.Alarms.Subscribe(func() { c.queueOpen(ctx) })
		defer cancel()
	}
	for {
		c.queueOpen(ctx)
		c.settleBlastRadius(ctx)
		timer := time.NewTimer(time.Second) // a safety net: every open deployment is looked at at least once a second
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-c.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// queueOpen queues every open deployment.
func (c *Controller) queueOpen(ctx context.Context) {
	open, err := c.openDeployments(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("list open deployments", "err", err)
		}
		return
	}
	for _, d := range open {
		c.queue.Add(d.ID)
	}
}

// pass reconciles one open deployment (a worker's unit of work) and sets its wake-up timer.
func (c *Controller) pass(ctx context.Context, id string) {
	open, err := c.openDeployments(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("list open deployments", "err", err)
		}
		return
	}
	if !slices.ContainsFunc(open, func(d codedeploy.Deployment) bool { return d.ID == id }) {
		return // finished meanwhile
	}
	wake, err := c.reconcile(ctx, id, open)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("reconcile deployment", "deployment", id, "err", err)
		}
		return // the once-a-second safety net retries
	}
	if !wake.IsZero() {
		c.wakeAt(id, wake)
	}
}

// wakeAt queues deployment id at the controller's time at, replacing its previous wake-up.
func (c *Controller) wakeAt(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timers[id]; t != nil {
		t.Stop()
	}
	c.timers[id] = time.AfterFunc(max(at.Sub(c.o.Now()), 0), func() {
		c.mu.Lock()
		delete(c.timers, id)
		c.mu.Unlock()
		c.queue.Add(id)
	})
}

// ReconcileAll reconciles every open deployment once (oldest first), on the caller's goroutine, and returns the
// earliest wake-up asked for. Tests drive the controller with it instead of Run; it must not run alongside Run or
// another ReconcileAll.
func (c *Controller) ReconcileAll(ctx context.Context) time.Time {
	open, err := c.openDeployments(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("list open deployments", "err", err)
		}
		return time.Time{}
	}
	c.settleBlastRadius(ctx)
	var next time.Time
	for _, d := range open {
		wake, err := c.reconcile(ctx, d.ID, open)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("reconcile deployment", "deployment", d.ID, "err", err)
			}
			continue
		}
		if !wake.IsZero() && (next.IsZero() || wake.Before(next)) {
			next = wake
		}
	}
	return next
}

func (c *Controller) openDeployments(ctx context.Context) ([]codedeploy.Deployment, error) {
	var out []codedeploy.Deployment
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefixOpen, "", func(k string, _ []byte) (bool, error) {
			var d codedeploy.Deployment
			if err := store.GetJSON(tx, depKey(k[len(prefixOpen):]), &d); err != nil {
				return false, err
			}
			out = append(out, d)
			return true, nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreateTime.Before(out[j].CreateTime) })
	return out, err
}

// snapshot is one deployment as a pass read it, from one consistent view of the store: the record, the intents
// API callers keep apart from it, and the hook dispatch log with the reports.
type snapshot struct {
	d       codedeploy.Deployment
	intents intents
	hooks   map[string]codedeploy.HookResult
}

func (c *Controller) read(ctx context.Context, id string) (snapshot, error) {
	s := snapshot{hooks: map[string]codedeploy.HookResult{}}
	err := c.o.Store.View(ctx, func(tx store.Tx) error {
		if err := store.GetJSON(tx, depKey(id), &s.d); err != nil {
			return err
		}
		var err error
		if s.intents, err = loadIntents(tx, id); err != nil {
			return err
		}
		prefix := hookPrefix(id)
		return tx.Scan(prefix, "", func(k string, v []byte) (bool, error) {
			var r codedeploy.HookResult
			err := jsonUnmarshal(v, &r)
			s.hooks[k[len(prefix):]] = r
			return err == nil, err
		})
	})
	return s, err
}

// errConflict reports that a deployment's record or intents changed while a pass was deciding it.
var errConflict = errors.New("the deployment changed while it was being decided")

// reconcile reads one deployment, observes the world for it, asks Decide, saves the decision if nothing changed
// in the store meanwhile, then acts on it. A decision made from a stale read is dropped, its actions not
// performed, and the deployment requeued: the next pass decides again from what is stored now.
func (c *Controller) reconcile(ctx context.Context, id string, open []codedeploy.Deployment) (time.Time, error) {
	snap, err := c.read(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	d := snap.d
	o, err := c.observe(ctx, snap, open)
	if err != nil {
		return time.Time{}, err
	}
	next, actions, err := codedeploy.Decide(d, o, c.o.IDs)
	if err != nil {
		return time.Time{}, err
	}
	if c.o.Prewarm != nil && !next.Prewarmed && next.Status == codedeploy.StatusInProgress && !next.IsRollback() {
		weight := 1.0
		if steps := next.TrafficRouting.Steps(); len(steps) > 0 {
			weight = steps[0].Weight()
		}
		spec := next.AppSpec.Resource
		// Before the actions run: the first shift reaches the alias only once the target's environments are ready.
		next.NotePrewarmed(c.o.Now(), c.o.Prewarm(ctx, spec.Name, spec.CurrentVersion, spec.TargetVersion, weight))
	}
	if c.o.Exposure != nil && !next.StartTime.IsZero() && !next.IsRollback() {
		spec := next.AppSpec.Resource
		if inv, errs, err := c.o.Exposure(ctx, spec.Name, spec.Alias, spec.TargetVersion, next.StartTime, time.Time{}); err == nil {
			next.BlastRadius = codedeploy.BlastRadius{TargetInvocations: inv, TargetErrors: errs}
		}
	}
	var rollbacks []codedeploy.Deployment
	for _, a := range actions {
		if a.Type == codedeploy.ActionStartRollback && a.Rollback != nil {
			rollbacks = append(rollbacks, *a.Rollback)
		}
	}
	if err := c.save(ctx, snap, next, rollbacks); errors.Is(err, errConflict) {
		c.log.Debug("deployment changed while it was being decided; deciding again", "deployment", d.ID)
		c.queue.Add(d.ID)
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	for _, a := range actions {
		switch a.Type {
		case codedeploy.ActionSetAlias:
			s := a.SetAlias
			if err := c.o.Lambda.SetAlias(ctx, s.FunctionName, s.AliasName, s.AliasState); err != nil {
				return time.Time{}, err // the next pass observes the alias and asks again
			}
		case codedeploy.ActionInvokeHook:
			h := a.InvokeHook
			role := ""
			if g, err := c.GetDeploymentGroup(ctx, d.ApplicationName, d.DeploymentGroupName); err == nil {
				role = g.ServiceRoleARN
			}
			err := c.o.Hooks.InvokeAsync(ctx, role, h.FunctionName, h.Payload())
			if errors.Is(err, ErrHookNotAuthorized) {
				c.log.Warn("hook not authorized", "deployment", d.ID, "hook", h.FunctionName, "role", role, "err", err)
				if err := c.PutLifecycleEventHookExecutionStatus(ctx, d.ID, h.ExecutionID, "Failed"); err != nil {
					return time.Time{}, err
				}
				continue
			}
			if err != nil {
				c.log.Warn("invoke hook", "deployment", d.ID, "hook", h.FunctionName, "err", err)
				return time.Time{}, nil // not recorded as dispatched: the next pass invokes it again
			}
			if err := c.noteDispatched(ctx, d.ID, h.ExecutionID); err != nil {
				return time.Time{}, err
			}
		case codedeploy.ActionStartRollback:
			if a.Rollback != nil {
				c.queue.Add(a.Rollback.ID)
			}
		}
	}
	if len(actions) > 0 {
		c.queue.Add(d.ID) // act on the new state at once (the next step may already be due)
	}
	return next.WakeAt, nil
}

// noteDispatched adds a hook execution to the dispatch log, unless its report got there first (a hook can answer
// before the invocation returns).
func (c *Controller) noteDispatched(ctx context.Context, id, execution string) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		if ok, err := store.Exists(tx, hookKey(id, execution)); err != nil || ok {
			return err
		}
		return store.PutJSON(tx, hookKey(id, execution), codedeploy.HookPending)
	})
}

// observe reads the world outside the store for a deployment and completes the observation with what the pass
// read from the store (hook reports, a stop request, the deployments ahead of it).
func (c *Controller) observe(ctx context.Context, snap snapshot, open []codedeploy.Deployment) (codedeploy.Observe, error) {
	d := snap.d
	o := codedeploy.Observe{Now: c.o.Now(), TimeScale: c.o.TimeScale, HookTimeout: c.o.HookTimeout,
		Hooks: snap.hooks, StopRequested: snap.intents.Stop}
	spec := d.AppSpec.Resource
	var err error
	o.Alias, o.FunctionMissing, o.AliasMissing, err = c.o.Lambda.Alias(ctx, spec.Name, spec.Alias)
	if err != nil {
		return o, err
	}
	if !o.FunctionMissing {
		exists, err := c.o.Lambda.VersionExists(ctx, spec.Name, spec.TargetVersion)
		if err != nil {
			return o, err
		}
		o.TargetVersionMissing = !exists
	}
	if d.Alarms.Active() && c.o.Alarms != nil {
		if o.AlarmsInAlarm, err = c.o.Alarms.InAlarm(ctx, d.Alarms.Names()); err != nil {
			o.AlarmPollFailed = true
		}
	}
	// One deployment at a time per group and per alias: a later one waits, Queued.
	for _, other := range open {
		if other.ID == d.ID || !other.CreateTime.Before(d.CreateTime) {
			continue
		}
		sameGroup := other.ApplicationName == d.ApplicationName && other.DeploymentGroupName == d.DeploymentGroupName
		sameAlias := other.AppSpec.Resource.Name == spec.Name && other.AppSpec.Resource.Alias == spec.Alias
		if (sameGroup && !d.IsRollback() && !other.IsRollback()) || (sameAlias && !d.IsRollback()) {
			o.BlockedBy = other.ID
			break
		}
	}
	return o, nil
}

// save persists a decided record, the rollback deployments it started, and the open index, in one transaction —
// if the record and the deployment's intents are still as the pass read them (from); otherwise it writes nothing
// and returns errConflict.
func (c *Controller) save(ctx context.Context, from snapshot, d codedeploy.Deployment, rollbacks []codedeploy.Deployment) error {
	return c.o.Store.Update(ctx, func(tx store.Tx) error {
		var cur codedeploy.Deployment
		if err := store.GetJSON(tx, depKey(d.ID), &cur); err != nil {
			return err
		}
		in, err := loadIntents(tx, d.ID)
		if err != nil {
			return err
		}
		if cur.StoreRevision != from.d.StoreRevision || in.Seq != from.intents.Seq {
			return errConflict
		}
		d.StoreRevision = cur.StoreRevision + 1
		if err := c.put(tx, d); err != nil {
			return err
		}
		for _, r := range rollbacks {
			if ok, err := store.Exists(tx, depKey(r.ID)); err != nil || ok {
				return errors.Join(err, fmt.Errorf("rollback deployment %s exists already", r.ID))
			}
			r.StoreRevision = 1
			if err := c.put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// put writes a deployment record with its open or settle index and, when it succeeded, its group's outcome.
func (c *Controller) put(tx store.Tx, d codedeploy.Deployment) error {
	if err := store.PutJSON(tx, depKey(d.ID), d); err != nil {
		return err
	}
	if !d.Status.Terminal() {
		return tx.Put(openKey(d.ID), []byte{})
	}
	if err := tx.Delete(openKey(d.ID)); err != nil {
		return err
	}
	if c.o.Exposure != nil && !d.IsRollback() && !d.StartTime.IsZero() {
		if err := tx.Put(settleKey(d.ID), []byte{}); err != nil {
			return err
		}
	}
	return c.noteOutcome(tx, d)
}

// blastRadiusSettle is how long after a deployment ends its blast radius is still recounted: invocations that were
// running when it stopped, or were routed just before the alias changed, are recorded when they finish.
const blastRadiusSettle = 10 * time.Second

// settleBlastRadius recounts the blast radius of recently finished deployments, then lets them go.
func (c *Controller) settleBlastRadius(ctx context.Context) {
	var ids []string
	if err := c.o.Store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(prefixSettle, "", func(k string, _ []byte) (bool, error) {
			ids = append(ids, k[len(prefixSettle):])
			return true, nil
		})
	}); err != nil {
		return
	}
	for _, id := range ids {
		var d codedeploy.Deployment
		if err := c.o.Store.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, depKey(id), &d) }); err != nil {
			continue
		}
		spec := d.AppSpec.Resource
		// Up to the end for a success (afterwards all traffic is the target's by design); a second past it for a
		// stop or failure, for invocations routed before the alias flip landed.
		until := d.CompleteTime
		if d.Status != codedeploy.StatusSucceeded {
			until = until.Add(time.Second)
		}
		inv, errs, countErr := c.o.Exposure(ctx, spec.Name, spec.Alias, spec.TargetVersion, d.StartTime, until)
		done := c.o.Now().Sub(d.CompleteTime) > blastRadiusSettle
		c.o.Store.Update(ctx, func(tx store.Tx) error {
			var cur codedeploy.Deployment
			if err := store.GetJSON(tx, depKey(id), &cur); err != nil || cur.StoreRevision != d.StoreRevision {
				return err // changed since it was read: recounted on the next pass
			}
			if countErr == nil {
				cur.BlastRadius = codedeploy.BlastRadius{TargetInvocations: inv, TargetErrors: errs}
				cur.StoreRevision++
				if err := store.PutJSON(tx, depKey(id), cur); err != nil {
					return err
				}
			}
			if done {
				return tx.Delete(settleKey(id))
			}
			return nil
		})
	}
}

// noteOutcome records a finished deployment on its group.
func (c *Controller) noteOutcome(tx store.Tx, d codedeploy.Deployment) error {
	if d.Status != codedeploy.StatusSucceeded {
		return nil
	}
	var g codedeploy.DeploymentGroup
	key := groupKey(d.ApplicationName, d.DeploymentGroupName)
	if err := store.GetJSON(tx, key, &g); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	g.LastSuccessful = d.ID
	return store.PutJSON(tx, key, g)
}
