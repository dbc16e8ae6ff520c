package controller

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/reconcile"
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
	// CheckServiceRole returns InvalidRoleException unless CodeDeploy may assume serviceRole (it exists and its
	// trust policy lets codedeploy.amazonaws.com in); groups are refused such a role when created or updated.
	CheckServiceRole(ctx context.Context, serviceRole string) error
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
	// Now is the controller's clock (default time.Now).
	Now func() time.Time
	// AfterFunc calls f on its own goroutine once d has passed on the clock Now reads, and returns a function that
	// cancels the call (default: time.AfterFunc's Stop). Run's timers — deployments' wake-ups, retries, the
	// blast-radius recounts, the resync — all go through it, so a test with a fake Now steps Run with it too.
	AfterFunc reconcile.AfterFunc
	IDs       codedeploy.IDSource
	Logger    *slog.Logger
}

// Workers is how many deployments the controller's Run works on at once.
const Workers = 4

// Controller is the deployment controller.
type Controller struct {
	o     Options
	queue *reconcile.Queue[task]
	log   *slog.Logger

	// mu guards what Run keeps in memory; it is never held across I/O.
	mu     sync.Mutex
	timers map[task]*timer // a deployment's next pass, or its next blast-radius recount
	// open is the set of open deployments as of the last watch event Run applied (for alarm notifications).
	open map[string]bool
	// blockedBy maps a Queued deployment to the deployment it waits for: the removal of the blocker's open key
	// queues it.
	blockedBy map[string]string
}

// task is a unit of Run's work: a pass over a deployment, or a recount of a finished deployment's blast radius.
type task struct {
	id     string
	settle bool
}

// timer is one armed AfterFunc; its identity tells a firing timer whether it is still the one in the map.
type timer struct{ stop func() bool }

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
	if o.AfterFunc == nil {
		o.AfterFunc = reconcile.RealAfterFunc
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Controller{o: o, queue: reconcile.NewQueue[task](), timers: map[task]*timer{}, open: map[string]bool{},
		blockedBy: map[string]string{}, log: o.Logger.With("component", "deploy")}
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
		wake, err := c.reconcile(ctx, d.ID)
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
// API callers keep apart from it, and the hook dispatch log with the reports; for a deployment that has not
// started, also the open deployments created before it, oldest first (one of them may block it).
type snapshot struct {
	d       codedeploy.Deployment
	intents intents
	hooks   map[string]codedeploy.HookResult
	ahead   []codedeploy.Deployment
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
		if err := tx.Scan(prefix, "", func(k string, v []byte) (bool, error) {
			var r codedeploy.HookResult
			err := jsonUnmarshal(v, &r)
			s.hooks[k[len(prefix):]] = r
			return err == nil, err
		}); err != nil {
			return err
		}
		// Only a deployment that has not started can be blocked (Observe.BlockedBy), so only its pass reads the
		// other open deployments: a running deployment's pass costs the same however many others are open.
		if s.d.Status != codedeploy.StatusCreated && s.d.Status != codedeploy.StatusQueued {
			return nil
		}
		s.ahead = nil // a re-run View starts over
		return tx.Scan(prefixOpen, "", func(k string, _ []byte) (bool, error) {
			var other codedeploy.Deployment
			if err := store.GetJSON(tx, depKey(k[len(prefixOpen):]), &other); err != nil {
				return false, err
			}
			if other.ID != id && other.CreateTime.Before(s.d.CreateTime) {
				s.ahead = append(s.ahead, other)
			}
			return true, nil
		})
	})
	sort.Slice(s.ahead, func(i, j int) bool { return s.ahead[i].CreateTime.Before(s.ahead[j].CreateTime) })
	return s, err
}

// errConflict reports that a deployment's record or intents changed while a pass was deciding it.
var errConflict = errors.New("the deployment changed while it was being decided")

// reconcile reads one deployment, observes the world for it, asks Decide, saves the decision if nothing changed
// in the store meanwhile, then acts on it. A decision made from a stale read is dropped, its actions not
// performed, and the deployment requeued: the next pass decides again from what is stored now.
func (c *Controller) reconcile(ctx context.Context, id string) (time.Time, error) {
	snap, err := c.read(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil // no such deployment (an id from a stray key): nothing to do
	}
	if err != nil {
		return time.Time{}, err
	}
	d := snap.d
	if d.Status.Terminal() {
		return time.Time{}, nil // finished meanwhile
	}
	o, err := c.observe(ctx, snap)
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
	// Problems with hook runs are the world's news, not Decide's: put them on the record as they came.
	for _, p := range snap.intents.HookProblems {
		next.NoteHookProblem(c.o.Now(), p.Execution, p.Detail)
	}
	var rollbacks []codedeploy.Deployment
	for _, a := range actions {
		if a.Type == codedeploy.ActionStartRollback && a.Rollback != nil {
			rollbacks = append(rollbacks, *a.Rollback)
		}
	}
	if err := c.save(ctx, snap, next, rollbacks); errors.Is(err, errConflict) {
		c.log.Debug("deployment changed while it was being decided; deciding again", "deployment", d.ID)
		c.queuePass(d.ID)
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	if next.Status == codedeploy.StatusQueued && o.BlockedBy != "" {
		c.waitFor(ctx, d.ID, o.BlockedBy)
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
				// The problem before the status: once the status is in, the next pass may end the deployment,
				// and a finished deployment takes no more notes.
				c.noteHookProblem(ctx, d.ID, h.ExecutionID, fmt.Sprintf("hook %s invocation failed: %v — the hook fails at once", h.FunctionName, err))
				if err := c.PutLifecycleEventHookExecutionStatus(ctx, d.ID, h.ExecutionID, "Failed"); err != nil {
					return time.Time{}, err
				}
				continue
			}
			if err != nil {
				c.log.Warn("invoke hook", "deployment", d.ID, "hook", h.FunctionName, "err", err)
				c.noteHookProblem(ctx, d.ID, h.ExecutionID, fmt.Sprintf("hook %s invocation failed: %v — %s", h.FunctionName, err, waitingUntil(next, h.ExecutionID, c.o.HookTimeout)))
				return c.o.Now().Add(retryAfter), nil // not recorded as dispatched: the next pass invokes it again
			}
			if err := c.noteDispatched(ctx, d.ID, h.ExecutionID); err != nil {
				return time.Time{}, err
			}
		case codedeploy.ActionStartRollback:
			if a.Rollback != nil {
				c.queuePass(a.Rollback.ID)
			}
		}
	}
	if len(actions) > 0 {
		c.queuePass(d.ID) // act on the new state at once (the next step may already be due)
	}
	return next.WakeAt, nil
}

// noteHookProblem records a problem with a hook's run for the next pass (NoteHookProblem); failing to is only
// logged: the hook's status, or its timeout, still decides the deployment.
func (c *Controller) noteHookProblem(ctx context.Context, id, execution, detail string) {
	if err := c.NoteHookProblem(ctx, id, execution, detail); err != nil {
		c.log.Warn("record hook problem", "deployment", id, "execution", execution, "err", err)
	}
}

// waitingUntil says how long the deployment keeps waiting for a hook execution's status: CodeDeploy's semantics
// stay — a hook whose invocation failed may still report — so the event fails only at its timeout.
func waitingUntil(d codedeploy.Deployment, execution string, timeout time.Duration) string {
	for _, ev := range d.Events {
		if ev.HookExecutionID == execution && !ev.StartTime.IsZero() {
			return "waiting for its status until " + ev.StartTime.Add(timeout).UTC().Format(time.RFC3339)
		}
	}
	return "waiting for its status until the hook timeout"
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
func (c *Controller) observe(ctx context.Context, snap snapshot) (codedeploy.Observe, error) {
	d := snap.d
	o := codedeploy.Observe{Now: c.o.Now(), TimeScale: c.o.TimeScale, HookTimeout: c.o.HookTimeout,
		Hooks: snap.hooks, StopRequested: snap.intents.Stop, Controls: snap.intents.Controls}
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
	for _, other := range snap.ahead {
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
		// Put only when missing: Run's watch takes a put of an open key for a new deployment and passes over it,
		// so re-putting it on every save would have every pass wake the next.
		if ok, err := store.Exists(tx, openKey(d.ID)); err != nil || ok {
			return err
		}
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

// blastRadiusRecount is how often Run recounts a finished deployment's blast radius while it settles.
const blastRadiusRecount = time.Second

// settleBlastRadius recounts the blast radius of every recently finished deployment once (ReconcileAll's way; Run
// recounts each on its own timer).
func (c *Controller) settleBlastRadius(ctx context.Context) {
	var ids []string
	if err := c.o.Store.View(ctx, func(tx store.Tx) error {
		ids = nil
		return tx.Scan(prefixSettle, "", func(k string, _ []byte) (bool, error) {
			ids = append(ids, k[len(prefixSettle):])
			return true, nil
		})
	}); err != nil {
		return
	}
	for _, id := range ids {
		c.settle(ctx, id)
	}
}

// settle recounts the blast radius of one finished deployment, and lets it go (removes its settle key) once
// blastRadiusSettle has passed since it ended. again reports whether it is still settling.
func (c *Controller) settle(ctx context.Context, id string) (again bool) {
	var d codedeploy.Deployment
	if err := c.o.Store.View(ctx, func(tx store.Tx) error { return store.GetJSON(tx, depKey(id), &d) }); err != nil {
		return !errors.Is(err, store.ErrNotFound)
	}
	var inv, errs int64
	countErr := errors.New("no blast-radius source")
	if c.o.Exposure != nil {
		spec := d.AppSpec.Resource
		// Up to the end for a success (afterwards all traffic is the target's by design); a second past it for a
		// stop or failure, for invocations routed before the alias flip landed.
		until := d.CompleteTime
		if d.Status != codedeploy.StatusSucceeded {
			until = until.Add(time.Second)
		}
		inv, errs, countErr = c.o.Exposure(ctx, spec.Name, spec.Alias, spec.TargetVersion, d.StartTime, until)
	}
	done := c.o.Now().Sub(d.CompleteTime) > blastRadiusSettle || c.o.Exposure == nil
	var released bool
	err := c.o.Store.Update(ctx, func(tx store.Tx) error {
		released = false
		var cur codedeploy.Deployment
		if err := store.GetJSON(tx, depKey(id), &cur); err != nil || cur.StoreRevision != d.StoreRevision {
			return err // changed since it was read: recounted next time
		}
		if countErr == nil {
			cur.BlastRadius = codedeploy.BlastRadius{TargetInvocations: inv, TargetErrors: errs}
			cur.StoreRevision++
			if err := store.PutJSON(tx, depKey(id), cur); err != nil {
				return err
			}
		}
		if done {
			released = true
			return tx.Delete(settleKey(id))
		}
		return nil
	})
	return err != nil || !released
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
