package controller

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
)

const ops = "arn:aws:iam::000000000000:user/ops"

func mustControl(t *testing.T, c *Controller, ctx context.Context, id string, kind codedeploy.ControlKind) {
	t.Helper()
	if err := c.ControlDeployment(ctx, id, kind, ops); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
}

func timelineHas(d codedeploy.Deployment, kind codedeploy.TimelineKind, detail string) bool {
	for _, e := range d.Timeline {
		if e.Kind == kind && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// TestPauseResumeThroughThePasses: a paused canary keeps its 10 % however long the clock runs, across a restart of
// the controller (a new one on the same store), and resumed it takes the last step when the wait left at the pause
// has passed since the resume.
func TestPauseResumeThroughThePasses(t *testing.T) {
	c, w, clock, ctx := driven(t)
	id := createWith(t, c, ctx, "", "")
	c.ReconcileAll(ctx)
	c.ReconcileAll(ctx)
	if got := w.current(); !reflect.DeepEqual(got, canary10) {
		t.Fatalf("alias %+v, want the 10%% canary", got)
	}
	clock.Add(time.Minute)
	mustControl(t, c, ctx, id, codedeploy.ControlPause)
	if err := c.ControlDeployment(ctx, id, codedeploy.ControlPause, ops); !fault.Is(err, codedeploy.ErrInvalidDeploymentStatus) {
		t.Fatalf("a second pause = %v, want InvalidDeploymentStatusException", err)
	}
	if wake := c.ReconcileAll(ctx); !wake.IsZero() {
		t.Fatalf("a paused deployment asks to be woken at %s", wake)
	}
	d := mustGet(t, c, ctx, id)
	if d.Hold == nil || d.Hold.By != ops || !timelineHas(d, codedeploy.KindPaused, "paused by "+ops+": traffic held at 10% on version 2") {
		t.Fatalf("hold %+v, timeline %+v", d.Hold, d.Timeline)
	}

	clock.Add(time.Hour)
	restarted := New(c.o) // a new controller on the same store: what a restart or a new leader finds
	restarted.ReconcileAll(ctx)
	if got, d := w.current(), mustGet(t, c, ctx, id); !reflect.DeepEqual(got, canary10) || d.Status != codedeploy.StatusInProgress || d.Hold == nil {
		t.Fatalf("an hour after the pause: alias %+v, %s, hold %+v", got, d.Status, d.Hold)
	}

	mustControl(t, restarted, ctx, id, codedeploy.ControlResume)
	restarted.ReconcileAll(ctx)
	// Paused at 1 min of the 5-minute canary: 4 minutes are left, counted from the resume.
	clock.Add(4*time.Minute - time.Second)
	restarted.ReconcileAll(ctx)
	if got := w.current(); !reflect.DeepEqual(got, canary10) {
		t.Fatalf("alias %+v a second before the wait left at the pause has passed", got)
	}
	clock.Add(time.Second)
	runToEnd(t, restarted, ctx, clock, every(time.Second))
	d = mustGet(t, c, ctx, id)
	if d.Status != codedeploy.StatusSucceeded || !timelineHas(d, codedeploy.KindResumed, "resumed by "+ops+" after 1h0m0s paused") {
		t.Fatalf("status %s, timeline %+v", d.Status, d.Timeline)
	}
	if got, want := w.aliasHistory(), []codedeploy.AliasState{canary10, onVersion("2")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alias history %+v, want %+v", got, want)
	}
	if err := c.ControlDeployment(ctx, id, codedeploy.ControlPause, ops); !fault.Is(err, codedeploy.ErrDeploymentAlreadyCompleted) {
		t.Fatalf("pause of a finished deployment = %v", err)
	}
}

// TestAlarmRollbackWinsOverAControl holds a pass that has read the alarm in ALARM (so it decides the rollback),
// accepts a control while it is held, and lets it finish: the pass cannot save (the intents moved), the next pass
// decides with the control and the alarm, and the rollback wins — the alias never reaches more than the canary's
// weight, and once the rollback is saved the next control is refused.
func TestAlarmRollbackWinsOverAControl(t *testing.T) {
	for _, kind := range []codedeploy.ControlKind{codedeploy.ControlPromote, codedeploy.ControlSkipWait, codedeploy.ControlPause} {
		t.Run(string(kind), func(t *testing.T) {
			c, w, clock, ctx := driven(t)
			id := createWith(t, c, ctx, "", "")
			c.ReconcileAll(ctx)
			c.ReconcileAll(ctx)
			clock.Add(time.Minute)
			w.inAlarm["errors"] = true

			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			w.setPause(func(call string) {
				if call == "InAlarm" {
					once.Do(func() { close(held); <-release })
				}
			})
			passed := make(chan struct{})
			go func() { c.ReconcileAll(ctx); close(passed) }()
			<-held
			mustControl(t, c, ctx, id, kind)
			close(release)
			<-passed
			w.setPause(nil)
			if d := mustGet(t, c, ctx, id); d.Status != codedeploy.StatusInProgress {
				t.Fatalf("the held pass saved a decision made without the control: %s", d.Status)
			}

			runToEnd(t, c, ctx, clock, every(time.Second))
			d := mustGet(t, c, ctx, id)
			if d.Status != codedeploy.StatusStopped || d.ErrorInformation.Code != codedeploy.CodeAlarmActive || d.RollbackInfo == nil {
				t.Fatalf("status %s %+v %+v, want Stopped by the alarm and rolled back", d.Status, d.ErrorInformation, d.RollbackInfo)
			}
			if d.ControlsApplied != 1 || d.Hold != nil {
				t.Fatalf("controls applied %d, hold %+v", d.ControlsApplied, d.Hold)
			}
			for _, s := range w.aliasHistory() {
				if reflect.DeepEqual(s, onVersion("2")) {
					t.Fatalf("the alias reached version 2: %+v", w.aliasHistory())
				}
			}
			if got := w.current(); !reflect.DeepEqual(got, onVersion("1")) {
				t.Fatalf("alias %+v after the rollback", got)
			}
			if err := c.ControlDeployment(ctx, id, codedeploy.ControlResume, ops); !fault.Is(err, codedeploy.ErrDeploymentAlreadyCompleted) {
				t.Fatalf("a control after the rollback = %v, want DeploymentAlreadyCompletedException", err)
			}
		})
	}
}

// TestControlsWakeRun: under Run, a control alone (no timer, the clock standing still) moves the deployment: the
// store's watch of the intents queues it.
func TestControlsWakeRun(t *testing.T) {
	c, w, _, ctx := running(t)
	id := create(t, c, ctx)
	awaitAlias(t, c, w, canary10)
	mustControl(t, c, ctx, id, codedeploy.ControlSkipWait)
	awaitAlias(t, c, w, onVersion("2"))
	d := awaitStatus(t, c, w, ctx, id, codedeploy.StatusSucceeded)
	if !timelineHas(d, codedeploy.KindWaitSkipped, "wait skipped by "+ops+": version 2 to 100% now") {
		t.Fatalf("timeline %+v", d.Timeline)
	}
}
