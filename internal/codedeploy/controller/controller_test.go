package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store"
)

// world is the outside of the controller: one function with an alias, hook invocations and alarms, in memory.
type world struct {
	mu       sync.Mutex
	alias    codedeploy.AliasState
	versions map[string]bool
	history  []codedeploy.AliasState // every alias change, in order
	hooks    [][]byte
	inAlarm  map[string]bool
	notify   []func()
	// others holds the aliases of functions other than orders (on version 1 until set); history is orders' only.
	others map[string]codedeploy.AliasState
	// pause, if set, is called at the start of every call the controller makes into the world (named by the
	// method), so a test can hold a reconcile pass there or act in the middle of it.
	pause func(call string)
	// invokeErr, if set, is what every hook invocation fails with.
	invokeErr error
	// changed is closed (and replaced) whenever the controller changes the world: an alias set, a hook invoked.
	changed chan struct{}
}

// changes returns a channel that is closed at the world's next change.
func (w *world) changes() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	return w.changed
}

// touch tells those waiting for a change of the world; w.mu is held.
func (w *world) touch() {
	if w.changed != nil {
		close(w.changed)
	}
	w.changed = make(chan struct{})
}

func (w *world) gate(call string) {
	w.mu.Lock()
	pause := w.pause
	w.mu.Unlock()
	if pause != nil {
		pause(call)
	}
}

func (w *world) Alias(_ context.Context, fn, alias string) (codedeploy.AliasState, bool, bool, error) {
	w.gate("Alias")
	w.mu.Lock()
	defer w.mu.Unlock()
	if fn != "orders" {
		if s, ok := w.others[fn]; ok {
			return s, false, false, nil
		}
		return codedeploy.AliasState{FunctionVersion: "1"}, false, false, nil
	}
	return w.alias, false, false, nil
}
func (w *world) VersionExists(_ context.Context, fn, v string) (bool, error) {
	w.gate("VersionExists")
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.versions[v], nil
}
func (w *world) SetAlias(_ context.Context, fn, alias string, s codedeploy.AliasState) error {
	w.gate("SetAlias")
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(s.AdditionalVersionWeights) == 0 {
		s.AdditionalVersionWeights = nil
	}
	w.touch()
	if fn != "orders" {
		if w.others == nil {
			w.others = map[string]codedeploy.AliasState{}
		}
		w.others[fn] = s
		return nil
	}
	w.alias = s
	w.history = append(w.history, s)
	return nil
}
func (w *world) InvokeAsync(_ context.Context, _, fn string, payload []byte) error {
	w.mu.Lock()
	if w.invokeErr != nil {
		err := w.invokeErr
		w.mu.Unlock()
		return err
	}
	w.hooks = append(w.hooks, payload)
	w.touch()
	w.mu.Unlock()
	w.gate("InvokeAsync") // after the hook got its payload: it may report while the invocation is held
	return nil
}
func (w *world) CheckServiceRole(context.Context, string) error { return nil }
func (w *world) InAlarm(_ context.Context, names []string) ([]string, error) {
	w.gate("InAlarm")
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, n := range names {
		if w.inAlarm[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
func (w *world) Subscribe(fn func()) func() {
	w.mu.Lock()
	w.notify = append(w.notify, fn)
	w.mu.Unlock()
	return func() {}
}
func (w *world) setAlarm(name string, on bool) {
	w.mu.Lock()
	w.inAlarm[name] = on
	fns := append([]func(){}, w.notify...)
	w.mu.Unlock()
	for _, f := range fns {
		f()
	}
}
func (w *world) current() codedeploy.AliasState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.alias
}

const appSpec = `version: 0.0
Resources:
  - orders:
      Type: AWS::Lambda::Function
      Properties:
        Name: orders
        Alias: live
        CurrentVersion: "1"
        TargetVersion: "2"
`

// running returns a controller whose Run drives deployments on a fake clock that only the test moves, in the
// in-memory world; the group canaries 10 % for 5 minutes, watches the alarm "errors" and rolls back on failure and
// on alarm.
func running(t *testing.T) (*Controller, *world, *fakeClock, context.Context) {
	t.Helper()
	c, w, clock, ctx := driven(t)
	run(t, c, ctx)
	return c, w, clock, ctx
}

// run runs c.Run until the test ends.
func run(t *testing.T, c *Controller, ctx context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func create(t *testing.T, c *Controller, ctx context.Context) string {
	t.Helper()
	return createWith(t, c, ctx, "", "")
}

// await waits until cond holds, checking it again at every change of the world and every commit to the store —
// no polling, no sleep: what the controller does next happens on its goroutines, and shows in one or the other.
func await(t *testing.T, c *Controller, w *world, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bound := time.After(30 * time.Second) // only to fail instead of hanging
	var commits <-chan store.WatchResponse
	for {
		if commits == nil { // (again, should the watch have ended)
			var err error
			if commits, err = c.o.Store.Watch(ctx, "", 0); err != nil {
				t.Fatal(err)
			}
		}
		world := w.changes()
		if cond() {
			return
		}
		select {
		case _, ok := <-commits:
			if !ok {
				commits = nil
			}
		case <-world:
		case <-bound:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// awaitStatus waits until deployment id is in status want.
func awaitStatus(t *testing.T, c *Controller, w *world, ctx context.Context, id string, want codedeploy.Status) codedeploy.Deployment {
	t.Helper()
	var d codedeploy.Deployment
	await(t, c, w, fmt.Sprintf("deployment %s to be %s", id, want), func() bool {
		d = mustGet(t, c, ctx, id)
		return d.Status == want
	})
	return d
}

// awaitAlias waits until the alias orders:live is want.
func awaitAlias(t *testing.T, c *Controller, w *world, want codedeploy.AliasState) {
	t.Helper()
	await(t, c, w, fmt.Sprintf("alias %+v", want), func() bool { return reflect.DeepEqual(w.current(), want) })
}

func TestCanarySucceeds(t *testing.T) {
	c, w, clock, ctx := running(t)
	id := create(t, c, ctx)
	awaitAlias(t, c, w, canary10)
	clock.advanceTo(t, t0.Add(5*time.Minute)) // the canary's interval ends
	awaitStatus(t, c, w, ctx, id, codedeploy.StatusSucceeded)
	if got := w.current(); !reflect.DeepEqual(got, onVersion("2")) {
		t.Fatalf("alias after success = %+v", got)
	}
	if got, want := w.aliasHistory(), []codedeploy.AliasState{canary10, onVersion("2")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alias history %+v, want %+v", got, want)
	}
	g, _ := c.GetDeploymentGroup(ctx, "app", "grp")
	if g.LastSuccessful != id {
		t.Fatalf("group's last successful deployment = %q", g.LastSuccessful)
	}
}

// TestAlarmRollsBackAtOnce: an alarm going off mid-canary restores the alias and completes the rollback while the
// clock stands still — the alarm's notification alone drives it, no timer.
func TestAlarmRollsBackAtOnce(t *testing.T) {
	c, w, _, ctx := running(t)
	id := create(t, c, ctx)
	awaitAlias(t, c, w, canary10)
	w.setAlarm("errors", true)
	awaitAlias(t, c, w, onVersion("1"))
	d := awaitStatus(t, c, w, ctx, id, codedeploy.StatusStopped)
	if d.ErrorInformation == nil || d.ErrorInformation.Code != "ALARM_ACTIVE" || d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("stopped deployment = %+v %+v", d.ErrorInformation, d.RollbackInfo)
	}
	rb := awaitStatus(t, c, w, ctx, d.RollbackInfo.RollbackDeploymentID, codedeploy.StatusSucceeded)
	if rb.Creator != "codeDeployRollback" {
		t.Fatalf("rollback creator = %q", rb.Creator)
	}
}

func TestHooksAreInvokedAndReported(t *testing.T) {
	c, w, _, ctx := running(t)
	id := createWith(t, c, ctx, codedeploy.LambdaAllAtOnce, "CodeDeployHook_pre")
	await(t, c, w, "the pre-traffic hook's invocation", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.hooks) > 0
	})
	var payload struct{ DeploymentId, LifecycleEventHookExecutionId string }
	w.mu.Lock()
	err := json.Unmarshal(w.hooks[0], &payload)
	w.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if payload.DeploymentId != id || w.current().FunctionVersion != "1" {
		t.Fatalf("hook payload %+v, alias %+v (traffic must wait for the hook)", payload, w.current())
	}
	if err := c.PutLifecycleEventHookExecutionStatus(ctx, id, payload.LifecycleEventHookExecutionId, "Succeeded"); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, c, w, ctx, id, codedeploy.StatusSucceeded)
	if err := c.PutLifecycleEventHookExecutionStatus(ctx, id, payload.LifecycleEventHookExecutionId, "Succeeded"); err == nil {
		t.Fatal("a second report must be refused")
	}
}

// Ensure a controller whose Run ended (in a cluster, its node lost the deployments leadership) drives deployments
// again when Run is called anew (the node leads again): its queue used to stay shut down, so the second term did
// nothing.
func TestRunAgainAfterLeadershipReturns(t *testing.T) {
	c, w, clock, ctx := driven(t)
	term, end := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(term); close(done) }()
	end()
	<-done

	run(t, c, ctx) // the next term
	id := create(t, c, ctx)
	awaitAlias(t, c, w, canary10)
	clock.advanceTo(t, t0.Add(5*time.Minute))
	awaitStatus(t, c, w, ctx, id, codedeploy.StatusSucceeded)
}
