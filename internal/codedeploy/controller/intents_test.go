package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// fakeClock is the controller's clock in the tests: Now for the passes, AfterFunc for Run's timers, which fire only
// when the test moves the clock past them.
type fakeClock struct {
	ns atomic.Int64

	mu     sync.Mutex
	timers []*fakeTimer  // armed, not yet fired or stopped
	armed  chan struct{} // closed (and replaced) whenever a timer is armed
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{armed: make(chan struct{})}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) String() string { return c.Now().Format(time.RFC3339) }

// Add moves the clock on by d and fires, each on its own goroutine, the timers that are then due.
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	now := time.Unix(0, c.ns.Add(int64(d)))
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(now) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	for _, t := range due {
		go t.f()
	}
}

// AfterFunc is time.AfterFunc on the fake clock (Options.AfterFunc).
func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	if d <= 0 {
		go f()
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.Now().Add(d), f: f}
	c.timers = append(c.timers, t)
	close(c.armed)
	c.armed = make(chan struct{})
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		n := len(c.timers)
		c.timers = slices.DeleteFunc(c.timers, func(x *fakeTimer) bool { return x == t })
		return len(c.timers) < n
	}
}

// advanceTo waits until Run has armed a timer for exactly at — so the test moves the clock only once the
// controller has asked to be woken then —, and moves the clock to at, firing it.
func (c *fakeClock) advanceTo(t *testing.T, at time.Time) {
	t.Helper()
	c.awaitArmed(t, at)
	c.Add(at.Sub(c.Now()))
}

// awaitArmed waits until a timer is armed for exactly at.
func (c *fakeClock) awaitArmed(t *testing.T, at time.Time) {
	t.Helper()
	bound := time.After(30 * time.Second) // only to fail instead of hanging
	for {
		c.mu.Lock()
		found := slices.ContainsFunc(c.timers, func(x *fakeTimer) bool { return x.at.Equal(at) })
		armed := c.armed
		c.mu.Unlock()
		if found {
			return
		}
		select {
		case <-armed:
		case <-bound:
			t.Fatalf("no timer was armed for %s (clock at %s)", at.Format(time.RFC3339), c)
		}
	}
}

func (w *world) setPause(fn func(string)) {
	w.mu.Lock()
	w.pause = fn
	w.mu.Unlock()
}

func (w *world) aliasHistory() []codedeploy.AliasState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]codedeploy.AliasState(nil), w.history...)
}

var (
	t0        = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	yes, no   = true, false
	onVersion = func(v string) codedeploy.AliasState { return codedeploy.AliasState{FunctionVersion: v} }
	canary10  = codedeploy.AliasState{FunctionVersion: "1", AdditionalVersionWeights: map[string]float64{"2": 0.1}}
)

// driven returns a controller whose passes the test runs itself (ReconcileAll) on a fake clock — Run, if a test
// starts it, times its timers on the same clock —, in the in-memory world, with a pre-warm step that goes through
// the world too ("Prewarm"). The group canaries 10 % for 5 minutes, watches the alarm "errors" and rolls back on
// failure and on alarm, not on a stop request: a stop without a rollback choice does not roll back.
func driven(t *testing.T) (*Controller, *world, *fakeClock, context.Context) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{alias: onVersion("1"), versions: map[string]bool{"1": true, "2": true}, inAlarm: map[string]bool{}}
	clock := newFakeClock(t0)
	prewarm := func(context.Context, string, string, string, float64) int { w.gate("Prewarm"); return 1 }
	// Every Update closure runs twice, as an optimistic backend may run it: the controller's must not mind.
	c := New(Options{Store: storetest.RerunUpdates(db), Lambda: w, Hooks: w, Alarms: w, Prewarm: prewarm, Now: clock.Now, AfterFunc: clock.AfterFunc})
	ctx := context.Background()
	if _, err := c.CreateApplication(ctx, codedeploy.Application{Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeploymentGroup(ctx, codedeploy.DeploymentGroup{ApplicationName: "app", Name: "grp",
		ServiceRoleARN: "arn:aws:iam::000000000000:role/cd", DeploymentConfigName: codedeploy.LambdaCanary10Percent5Minutes,
		Alarms:       codedeploy.AlarmConfiguration{Enabled: true, Alarms: []codedeploy.Alarm{{Name: "errors"}}},
		AutoRollback: codedeploy.AutoRollbackConfiguration{Enabled: true, Events: []codedeploy.AutoRollbackEvent{codedeploy.RollbackOnFailure, codedeploy.RollbackOnAlarm}},
	}); err != nil {
		t.Fatal(err)
	}
	return c, w, clock, ctx
}

// createWith creates a deployment of orders:live from version 1 to 2 with a configuration ("" = the group's)
// and, if hook is set, that BeforeAllowTraffic hook.
func createWith(t *testing.T, c *Controller, ctx context.Context, config, hook string) string {
	t.Helper()
	spec := appSpec
	if hook != "" {
		spec += "Hooks:\n  - BeforeAllowTraffic: " + hook + "\n"
	}
	id, err := c.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "grp",
		DeploymentConfigName: config,
		Revision:             codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{Content: spec}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// drive runs passes, stepping the clock by step() after each, until no deployment is open.
func drive(ctx context.Context, c *Controller, clock *fakeClock, step func() time.Duration) error {
	for range 1000 {
		c.ReconcileAll(ctx)
		open, err := c.openDeployments(ctx)
		if err != nil {
			return err
		}
		if len(open) == 0 {
			return nil
		}
		clock.Add(step())
	}
	return fmt.Errorf("deployments still open after 1000 passes (clock at %s)", clock)
}

func runToEnd(t *testing.T, c *Controller, ctx context.Context, clock *fakeClock, step func() time.Duration) {
	t.Helper()
	if err := drive(ctx, c, clock, step); err != nil {
		t.Fatal(err)
	}
}

func every(d time.Duration) func() time.Duration { return func() time.Duration { return d } }

func mustGet(t *testing.T, c *Controller, ctx context.Context, id string) codedeploy.Deployment {
	t.Helper()
	d, err := c.GetDeployment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkStopped asserts that deployment id ended as a stop requested with rollback choice choice: Stopped with
// MANUAL_STOP, the stop noted once; rolled back (a rollback deployment that succeeded, the alias on version 1) if
// rollback, and no rollback deployment otherwise.
func checkStopped(t *testing.T, c *Controller, w *world, ctx context.Context, id string, choice *bool, rollback bool) codedeploy.Deployment {
	t.Helper()
	d := mustGet(t, c, ctx, id)
	if d.Status != codedeploy.StatusStopped || d.ErrorInformation == nil || d.ErrorInformation.Code != codedeploy.CodeManualStop {
		t.Fatalf("deployment %s is %s %+v after an acknowledged stop; want Stopped, MANUAL_STOP", id, d.Status, d.ErrorInformation)
	}
	if d.Stop == nil || (choice == nil) != (d.Stop.AutoRollbackEnabled == nil) || choice != nil && *choice != *d.Stop.AutoRollbackEnabled {
		t.Fatalf("recorded stop %+v, asked with rollback %v", d.Stop, choice)
	}
	notes := 0
	for _, e := range d.Timeline {
		if e.Kind == codedeploy.KindStopRequested {
			notes++
		}
	}
	if notes != 1 {
		t.Fatalf("the stop request is noted %d times in the timeline %+v", notes, d.Timeline)
	}
	rbID := ""
	if d.RollbackInfo != nil {
		rbID = d.RollbackInfo.RollbackDeploymentID
	}
	if rollback != (rbID != "") {
		t.Fatalf("rollback deployment %q, want one: %v", rbID, rollback)
	}
	if rollback {
		if rb := mustGet(t, c, ctx, rbID); rb.Status != codedeploy.StatusSucceeded {
			t.Fatalf("rollback deployment %s is %s", rbID, rb.Status)
		}
		if got := w.current(); !reflect.DeepEqual(got, onVersion("1")) {
			t.Fatalf("alias after the rollback = %+v", got)
		}
	}
	return d
}

// TestStopDuringAPassIsNeverLost holds a reconcile pass in the world — observing the alias, reading the alarms,
// pre-warming —, calls StopDeployment while it is held, lets the pass finish and runs the deployment to its end on
// the fake clock. The acknowledged stop is honoured (rolled back where asked), and the decision the held pass made
// without it never reaches the alias.
func TestStopDuringAPassIsNeverLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		held string        // the world call the pass is held in
		at   time.Duration // when that pass runs, after the canary reached 10 %; -1: the deployment's first pass
		stop *bool         // StopDeployment's autoRollbackEnabled
		// rollback: a rollback deployment is expected; alias: where the alias ends
		rollback bool
		alias    codedeploy.AliasState
	}{
		{"observing the alias as the final shift is due, with rollback", "Alias", 5 * time.Minute, &yes, true, onVersion("1")},
		{"observing the alias as the final shift is due, without rollback", "Alias", 5 * time.Minute, &no, false, canary10},
		{"reading the alarms mid-canary, as the group says (no rollback on a stop)", "InAlarm", 2 * time.Minute, nil, false, canary10},
		{"reading the alarms mid-canary, with rollback", "InAlarm", 2 * time.Minute, &yes, true, onVersion("1")},
		{"pre-warming before the first shift, with rollback", "Prewarm", -1, &yes, false, onVersion("1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w, clock, ctx := driven(t)
			id := createWith(t, c, ctx, "", "")
			if tc.at >= 0 {
				c.ReconcileAll(ctx) // starts, pre-warms, asks for 10 %
				c.ReconcileAll(ctx) // sees 10 %: waits for the interval
				if got := w.current(); !reflect.DeepEqual(got, canary10) {
					t.Fatalf("alias before the held pass = %+v, want the 10%% canary", got)
				}
				clock.Add(tc.at)
			}

			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			w.setPause(func(call string) {
				if call == tc.held {
					once.Do(func() { close(held); <-release })
				}
			})
			passed := make(chan struct{})
			go func() { c.ReconcileAll(ctx); close(passed) }()
			<-held
			status, _, err := c.StopDeployment(ctx, id, tc.stop, "")
			if err != nil || status != codedeploy.StopPending {
				t.Fatalf("StopDeployment while a pass is held = %q, %v; want Pending", status, err)
			}
			close(release)
			<-passed
			w.setPause(nil)

			runToEnd(t, c, ctx, clock, every(30*time.Second))
			checkStopped(t, c, w, ctx, id, tc.stop, tc.rollback)
			if got := w.current(); !reflect.DeepEqual(got, tc.alias) {
				t.Fatalf("alias at the end = %+v, want %+v", got, tc.alias)
			}
			for _, s := range w.aliasHistory() {
				if reflect.DeepEqual(s, onVersion("2")) {
					t.Fatalf("the alias was moved to version 2 after the stop was acknowledged: %+v", w.aliasHistory())
				}
			}
			if tc.at < 0 && len(w.aliasHistory()) != 0 {
				t.Fatalf("a deployment stopped before it started moved the alias: %+v", w.aliasHistory())
			}
		})
	}
}

// TestHookReportDuringDispatchIsKept: a hook that reports while its invocation is still being dispatched keeps
// its report (the controller adds an execution to the dispatch log only where no report is yet).
func TestHookReportDuringDispatchIsKept(t *testing.T) {
	c, w, clock, ctx := driven(t)
	id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "CodeDeployHook_pre")
	var reportErr error
	var once sync.Once
	w.setPause(func(call string) {
		if call == "InvokeAsync" {
			once.Do(func() { reportErr = report(c, w, ctx, 0, "Succeeded") })
		}
	})
	runToEnd(t, c, ctx, clock, every(time.Minute))
	if reportErr != nil {
		t.Fatal(reportErr)
	}
	if d := mustGet(t, c, ctx, id); d.Status != codedeploy.StatusSucceeded {
		t.Fatalf("deployment %s %+v; want Succeeded", d.Status, d.ErrorInformation)
	}
	if got := w.current(); !reflect.DeepEqual(got, onVersion("2")) {
		t.Fatalf("alias %+v", got)
	}
	if n := len(w.hooks); n != 1 {
		t.Fatalf("the hook was invoked %d times", n)
	}
}

// report answers the i-th hook invocation of the world as the hook function would.
func report(c *Controller, w *world, ctx context.Context, i int, status string) error {
	w.mu.Lock()
	payload := w.hooks[i]
	w.mu.Unlock()
	var p struct{ DeploymentId, LifecycleEventHookExecutionId string }
	if err := json.Unmarshal(payload, &p); err != nil {
		return err
	}
	return c.PutLifecycleEventHookExecutionStatus(ctx, p.DeploymentId, p.LifecycleEventHookExecutionId, status)
}

// TestStopAtAnyPointOfAPass stops deployments at a random call the controller makes into the world (so in the
// middle of a random pass, anywhere between its read and its save, or while it acts), with a random rollback
// choice, configuration, hook and clock steps. Hooks report from inside their invocation. Whatever the moment, a
// stop answered Pending ends Stopped — rolled back if asked and the deployment had started — and a stop refused
// as too late finds the deployment Succeeded.
func TestStopAtAnyPointOfAPass(t *testing.T) {
	configs := []string{codedeploy.LambdaCanary10Percent5Minutes, codedeploy.LambdaLinear10PercentEvery1Minute, codedeploy.LambdaAllAtOnce}
	choices := []*bool{nil, &yes, &no}
	for seed := range uint64(48) {
		rng := rand.New(rand.NewPCG(seed, 13))
		config, choice, at := configs[rng.IntN(len(configs))], choices[rng.IntN(len(choices))], rng.IntN(48)
		hook := ""
		if rng.IntN(2) == 0 {
			hook = "CodeDeployHook_pre"
		}
		t.Run(fmt.Sprintf("%d:%s,hook=%v,rollback=%v,at=%d", seed, config, hook != "", fmtChoice(choice), at), func(t *testing.T) {
			c, w, clock, ctx := driven(t)
			id := createWith(t, c, ctx, config, hook)
			calls, asked, reported := 0, false, 0
			var status codedeploy.StopStatus
			var stopErr, reportErr error
			w.setPause(func(call string) { // runs on the test's goroutine: ReconcileAll is called from drive
				calls++
				if call == "InvokeAsync" && reportErr == nil {
					reportErr = report(c, w, ctx, reported, "Succeeded")
					reported++
				}
				if calls == at {
					asked = true
					status, _, stopErr = c.StopDeployment(ctx, id, choice, "")
				}
			})
			runToEnd(t, c, ctx, clock, func() time.Duration { return time.Duration(rng.IntN(90)) * time.Second })
			if reportErr != nil && !fault.Is(reportErr, codedeploy.ErrLifecycleEventAlreadyCompleted) {
				t.Fatalf("hook report: %v", reportErr)
			}
			checkOutcome(t, c, w, ctx, id, asked, status, stopErr, choice)
		})
	}
}

// TestStopRacingPasses runs passes on one goroutine (stepping the fake clock) and StopDeployment on another once
// the passes have made a random number of calls into the world, with no coordination between the two but the
// store: the passes go on while the stop is being made.
func TestStopRacingPasses(t *testing.T) {
	for seed := range uint64(16) {
		rng := rand.New(rand.NewPCG(seed, 17))
		choice, after := []*bool{nil, &yes, &no}[rng.IntN(3)], int64(1+rng.IntN(120))
		t.Run(fmt.Sprintf("%d:rollback=%v,after=%d", seed, fmtChoice(choice), after), func(t *testing.T) {
			c, w, clock, ctx := driven(t)
			var calls atomic.Int64
			reached := make(chan struct{})
			w.setPause(func(string) {
				if calls.Add(1) == after {
					close(reached)
				}
				runtime.Gosched()
			})
			id := createWith(t, c, ctx, codedeploy.LambdaLinear10PercentEvery1Minute, "")
			done := make(chan error, 1)
			go func() { done <- drive(ctx, c, clock, every(20*time.Second)) }()
			var driveErr error
			over := false
			select {
			case <-reached:
			case driveErr = <-done: // over before that many calls: the stop comes too late
				over = true
			}
			status, _, stopErr := c.StopDeployment(ctx, id, choice, "")
			if !over {
				driveErr = <-done
			}
			if driveErr != nil {
				t.Fatal(driveErr)
			}
			checkOutcome(t, c, w, ctx, id, true, status, stopErr, choice)
		})
	}
}

func fmtChoice(b *bool) string {
	if b == nil {
		return "group"
	}
	return fmt.Sprint(*b)
}

// checkOutcome asserts the end of a deployment that may have been asked to stop: a Pending answer means it
// stopped as asked, a DeploymentAlreadyCompletedException (or no request) that it succeeded.
func checkOutcome(t *testing.T, c *Controller, w *world, ctx context.Context, id string, asked bool, status codedeploy.StopStatus, stopErr error, choice *bool) {
	t.Helper()
	d := mustGet(t, c, ctx, id)
	t.Logf("stop asked: %v, answered %q %v; deployment %s", asked, status, stopErr, d.Status)
	switch {
	case asked && stopErr == nil:
		if status != codedeploy.StopPending {
			t.Fatalf("StopDeployment answered %q", status)
		}
		started := d.Events[0].Status == codedeploy.EventSucceeded
		checkStopped(t, c, w, ctx, id, choice, choice != nil && *choice && started)
		if !started && len(w.aliasHistory()) != 0 {
			t.Fatalf("a deployment stopped before it started moved the alias: %+v", w.aliasHistory())
		}
	case asked && !fault.Is(stopErr, codedeploy.ErrDeploymentAlreadyCompleted):
		t.Fatalf("StopDeployment: %v", stopErr)
	default:
		if d.Status != codedeploy.StatusSucceeded {
			t.Fatalf("deployment %s %+v (stop asked: %v, %v); want Succeeded", d.Status, d.ErrorInformation, asked, stopErr)
		}
		if got := w.current(); !reflect.DeepEqual(got, onVersion("2")) {
			t.Fatalf("alias after success = %+v", got)
		}
	}
	if open, err := c.openDeployments(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open deployments at the end: %d, %v", len(open), err)
	}
}
