package controller

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// TestRunIsWokenByAnotherProcessesWrites runs one controller and writes through a second one on the same store (as
// another server of a cluster would), or straight to the store: the running controller reacts to each write with
// the clock standing still, so through its watch of the store — no kick, no timer, no periodic scan. Where the
// write is made to a deployment under way, the other controller first brings it to the point of waiting (with
// ReconcileAll), then Run is started and its one pass over it awaited (it arms the deployment's wake-up), so that
// no pass of Run's own making is left to pick the write up by chance.
func TestRunIsWokenByAnotherProcessesWrites(t *testing.T) {
	for _, tc := range []struct {
		name         string
		config, hook string
		// waiting is true once the deployment waits (for a hook, for its interval) and its next pass has no
		// action; waitingUntil is the wake-up Run's pass then arms. Both are zero to start Run first.
		waiting      func(w *world) bool
		waitingUntil time.Time
		act          func(t *testing.T, other *Controller, w *world, ctx context.Context, id string)
		want         codedeploy.Status
		alias        codedeploy.AliasState
	}{
		{
			name: "a deployment created through the other controller starts", config: codedeploy.LambdaCanary10Percent5Minutes,
			act:  func(*testing.T, *Controller, *world, context.Context, string) {},
			want: codedeploy.StatusInProgress, alias: canary10,
		},
		{
			name: "a hook report made through the other controller lets traffic shift", config: codedeploy.LambdaAllAtOnce, hook: "CodeDeployHook_pre",
			waiting: hookInvoked, waitingUntil: t0.Add(codedeploy.DefaultHookTimeout),
			act: func(t *testing.T, other *Controller, w *world, ctx context.Context, _ string) {
				if err := report(other, w, ctx, 0, "Succeeded"); err != nil {
					t.Fatal(err)
				}
			},
			want: codedeploy.StatusSucceeded, alias: onVersion("2"),
		},
		{
			name: "a stop made through the other controller rolls back", config: codedeploy.LambdaCanary10Percent5Minutes,
			waiting: aliasIs(canary10), waitingUntil: t0.Add(5 * time.Minute),
			act: func(t *testing.T, other *Controller, _ *world, ctx context.Context, id string) {
				if status, _, err := other.StopDeployment(ctx, id, &yes, ""); err != nil || status != codedeploy.StopPending {
					t.Fatalf("StopDeployment = %q, %v", status, err)
				}
			},
			want: codedeploy.StatusStopped, alias: onVersion("1"),
		},
		{
			name: "a stop request written straight to the store stops", config: codedeploy.LambdaCanary10Percent5Minutes,
			waiting: aliasIs(canary10), waitingUntil: t0.Add(5 * time.Minute),
			act: func(t *testing.T, other *Controller, _ *world, ctx context.Context, id string) {
				err := other.o.Store.Update(ctx, func(tx store.Tx) error {
					in, err := loadIntents(tx, id)
					if err != nil {
						return err
					}
					in.Stop = &codedeploy.StopRequest{AutoRollbackEnabled: &no, RequestedAt: other.o.Now()}
					return putIntents(tx, id, in)
				})
				if err != nil {
					t.Fatal(err)
				}
			},
			want: codedeploy.StatusStopped, alias: canary10,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w, clock, ctx := driven(t)
			other := New(Options{Store: c.o.Store, Lambda: w, Hooks: w, Alarms: w, Now: clock.Now, AfterFunc: clock.AfterFunc})
			if tc.waiting == nil {
				run(t, c, ctx)
			}
			id := createWith(t, other, ctx, tc.config, tc.hook)
			if tc.waiting != nil {
				for range 10 {
					if tc.waiting(w) {
						break
					}
					other.ReconcileAll(ctx) // other's, so c's queue starts empty: Run's listing makes its only pass
				}
				if !tc.waiting(w) {
					t.Fatal("the deployment never got to wait")
				}
				run(t, c, ctx)
				clock.awaitArmed(t, tc.waitingUntil)
			}
			tc.act(t, other, w, ctx, id)
			d := awaitStatus(t, c, w, ctx, id, tc.want)
			awaitAlias(t, c, w, tc.alias)
			if tc.want == codedeploy.StatusStopped && d.RollbackInfo != nil {
				awaitStatus(t, c, w, ctx, d.RollbackInfo.RollbackDeploymentID, codedeploy.StatusSucceeded)
			}
			if now := clock.Now(); !now.Equal(t0) {
				t.Fatalf("the clock moved to %s", now)
			}
		})
	}
}

func hookInvoked(w *world) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.hooks) > 0
}

func aliasIs(want codedeploy.AliasState) func(*world) bool {
	return func(w *world) bool { return reflect.DeepEqual(w.current(), want) }
}

// TestQueuedDeploymentStartsWhenTheOneAheadEnds: a deployment Queued behind another of its group starts as soon
// as the other one ends — woken by the removal of the other's open key, with the clock standing still.
func TestQueuedDeploymentStartsWhenTheOneAheadEnds(t *testing.T) {
	c, w, clock, ctx := running(t)
	first := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "CodeDeployHook_pre")
	await(t, c, w, "the first deployment's hook", func() bool { return hookInvoked(w) })
	clock.Add(time.Second) // created after the first (no timer is due yet: nothing else moves)
	back := strings.NewReplacer(`CurrentVersion: "1"`, `CurrentVersion: "2"`, `TargetVersion: "2"`, `TargetVersion: "1"`).Replace(appSpec)
	second, err := c.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "grp",
		DeploymentConfigName: codedeploy.LambdaAllAtOnce,
		Revision:             codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{Content: back}}})
	if err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, c, w, ctx, second, codedeploy.StatusQueued)
	if err := report(c, w, ctx, 0, "Succeeded"); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, c, w, ctx, first, codedeploy.StatusSucceeded)
	awaitStatus(t, c, w, ctx, second, codedeploy.StatusSucceeded)
	if got, want := w.aliasHistory(), []codedeploy.AliasState{onVersion("2"), onVersion("1")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alias history %+v, want %+v", got, want)
	}
	if now := clock.Now(); !now.Equal(t0.Add(time.Second)) {
		t.Fatalf("the clock moved to %s", now)
	}
}

// TestBlastRadiusSettlesOnItsOwnTimer: once a deployment ends, Run recounts its blast radius every
// blastRadiusRecount on the clock — not on every wake-up of the controller — and stops blastRadiusSettle after
// the end, keeping the last count.
func TestBlastRadiusSettlesOnItsOwnTimer(t *testing.T) {
	c, w, clock, ctx := driven(t)
	var mu sync.Mutex
	var recounts int64 // Exposure calls for a finished deployment (until set); each returns their number
	c.o.Exposure = func(_ context.Context, _, _, _ string, _, until time.Time) (int64, int64, error) {
		if until.IsZero() {
			return 0, 0, nil // a pass over the running deployment
		}
		mu.Lock()
		defer mu.Unlock()
		recounts++
		return recounts, 0, nil
	}
	run(t, c, ctx)
	id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "")
	awaitStatus(t, c, w, ctx, id, codedeploy.StatusSucceeded)
	settling := func() bool {
		var ok bool
		if err := c.o.Store.View(ctx, func(tx store.Tx) error {
			var err error
			ok, err = store.Exists(tx, settleKey(id))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Recounted at once, then every second up to and including the first past blastRadiusSettle.
	want := int64(1)
	for at := blastRadiusRecount; at <= blastRadiusSettle+blastRadiusRecount; at += blastRadiusRecount {
		await(t, c, w, "a recount", func() bool { mu.Lock(); defer mu.Unlock(); return recounts == want })
		clock.advanceTo(t, t0.Add(at))
		want++
	}
	await(t, c, w, "the blast radius settled", func() bool { return !settling() })
	mu.Lock()
	got := recounts
	mu.Unlock()
	if got != want {
		t.Fatalf("%d recounts, want %d", got, want)
	}
	if d := mustGet(t, c, ctx, id); d.BlastRadius.TargetInvocations != want {
		t.Fatalf("blast radius %+v, want the last count, %d", d.BlastRadius, want)
	}
}

// laggingStore hands out, as its first watch, one that has already fallen behind (ErrLagged), the way a backend
// ends the watch of a reader that could not keep up; lagged is closed once it has.
type laggingStore struct {
	store.Store
	handedOut atomic.Bool
	lagged    chan struct{}
}

func (s *laggingStore) Watch(ctx context.Context, prefix string, from int64) (<-chan store.WatchResponse, error) {
	if s.handedOut.CompareAndSwap(false, true) {
		ch := make(chan store.WatchResponse, 1)
		ch <- store.WatchResponse{Err: store.ErrLagged}
		close(ch)
		close(s.lagged)
		return ch, nil
	}
	return s.Store.Watch(ctx, prefix, from)
}

// TestRunListsAgainAfterItsWatchFellBehind: when Run's watch ends with ErrLagged, Run lists the deployments again
// and watches anew, so a deployment created afterwards (through another controller) still starts at once.
func TestRunListsAgainAfterItsWatchFellBehind(t *testing.T) {
	other, w, clock, ctx := driven(t)
	lagging := &laggingStore{Store: other.o.Store, lagged: make(chan struct{})}
	c := New(Options{Store: lagging, Lambda: w, Hooks: w, Alarms: w, Now: clock.Now, AfterFunc: clock.AfterFunc})
	run(t, c, ctx)
	select {
	case <-lagging.lagged:
	case <-time.After(30 * time.Second): // only to fail instead of hanging
		t.Fatal("Run never watched the store")
	}
	id := createWith(t, other, ctx, codedeploy.LambdaCanary10Percent5Minutes, "")
	awaitStatus(t, other, w, ctx, id, codedeploy.StatusInProgress)
	awaitAlias(t, other, w, canary10)
}

// TestAlarmRollbackIsNotDelayedByAnotherDeploymentsPass holds one deployment's pre-warm in the world and fires
// another deployment's alarm: the second is rolled back while the first is still held.
func TestAlarmRollbackIsNotDelayedByAnotherDeploymentsPass(t *testing.T) {
	c, w, _, ctx := driven(t)
	if _, err := c.CreateDeploymentGroup(ctx, codedeploy.DeploymentGroup{ApplicationName: "app", Name: "payments",
		ServiceRoleARN: "arn:aws:iam::000000000000:role/cd", DeploymentConfigName: codedeploy.LambdaCanary10Percent5Minutes,
		Alarms:       codedeploy.AlarmConfiguration{Enabled: true, Alarms: []codedeploy.Alarm{{Name: "payments-errors"}}},
		AutoRollback: codedeploy.AutoRollbackConfiguration{Enabled: true, Events: []codedeploy.AutoRollbackEvent{codedeploy.RollbackOnAlarm}},
	}); err != nil {
		t.Fatal(err)
	}
	payments, err := c.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "payments",
		Revision: codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{
			Content: strings.ReplaceAll(appSpec, "orders", "payments")}}})
	if err != nil {
		t.Fatal(err)
	}
	c.ReconcileAll(ctx) // starts, pre-warms, asks for 10 %
	c.ReconcileAll(ctx) // sees 10 %: waits for the interval
	paymentsAlias := func() codedeploy.AliasState {
		s, _, _, _ := w.Alias(ctx, "payments", "live")
		return s
	}
	if got := paymentsAlias(); !reflect.DeepEqual(got, canary10) {
		t.Fatalf("payments alias = %+v, want the 10%% canary", got)
	}

	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.setPause(func(call string) {
		if call == "Prewarm" { // only orders pre-warms from here on
			once.Do(func() { close(held); <-release })
		}
	})
	orders := createWith(t, c, ctx, "", "")
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(runCtx); close(done) }()
	released := false
	defer func() {
		if !released {
			close(release)
		}
		cancel()
		<-done
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second): // only to fail instead of hanging
		t.Fatal("orders never pre-warmed")
	}

	w.setAlarm("payments-errors", true)
	await(t, c, w, "payments rolled back while orders' pre-warm is held", func() bool {
		return reflect.DeepEqual(paymentsAlias(), onVersion("1")) && mustGet(t, c, ctx, payments).Status == codedeploy.StatusStopped
	})
	if d := mustGet(t, c, ctx, orders); d.Status.Terminal() || w.current().FunctionVersion != "1" || len(w.current().AdditionalVersionWeights) != 0 {
		t.Fatalf("orders moved while its pre-warm was held: %s, alias %+v", d.Status, w.current())
	}
	released = true
	close(release)
}
