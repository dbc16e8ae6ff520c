package controller

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
	"github.com/sluice-dev/sluice/internal/store/bolt"
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
	w.hooks = append(w.hooks, payload)
	w.mu.Unlock()
	w.gate("InvokeAsync") // after the hook got its payload: it may report while the invocation is held
	return nil
}
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

func setup(t *testing.T, scale float64) (*Controller, *world, context.Context) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{alias: codedeploy.AliasState{FunctionVersion: "1"}, versions: map[string]bool{"1": true, "2": true}, inAlarm: map[string]bool{}}
	c := New(Options{Store: db, Lambda: w, Hooks: w, Alarms: w, TimeScale: scale})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
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
	return c, w, ctx
}

func create(t *testing.T, c *Controller, ctx context.Context) string {
	t.Helper()
	id, err := c.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "grp",
		Revision: codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{Content: appSpec}}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitStatus(t *testing.T, c *Controller, ctx context.Context, id string, want codedeploy.Status) codedeploy.Deployment {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := c.GetDeployment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return d
		}
		if d.Status.Terminal() || time.Now().After(deadline) {
			t.Fatalf("deployment %s is %s (%+v), want %s", id, d.Status, d.ErrorInformation, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCanarySucceeds(t *testing.T) {
	c, w, ctx := setup(t, 600) // a configured minute lasts 0.1 s: the 5-minute canary takes half a second
	id := create(t, c, ctx)
	waitStatus(t, c, ctx, id, codedeploy.StatusSucceeded)
	if got := w.current(); got.FunctionVersion != "2" || len(got.AdditionalVersionWeights) != 0 {
		t.Fatalf("alias after success = %+v", got)
	}
	if len(w.history) < 2 || w.history[0].AdditionalVersionWeights["2"] != 0.1 {
		t.Fatalf("alias history %+v: the canary step at 10%% is missing", w.history)
	}
	g, _ := c.GetDeploymentGroup(ctx, "app", "grp")
	if g.LastSuccessful != id {
		t.Fatalf("group's last successful deployment = %q", g.LastSuccessful)
	}
}

func TestAlarmRollsBackWithinMilliseconds(t *testing.T) {
	c, w, ctx := setup(t, 1) // real time: the canary would hold 10% for five minutes
	id := create(t, c, ctx)
	deadline := time.Now().Add(10 * time.Second)
	for w.current().AdditionalVersionWeights["2"] != 0.1 {
		if time.Now().After(deadline) {
			t.Fatal("the canary never reached 10%")
		}
		time.Sleep(5 * time.Millisecond)
	}
	fired := time.Now()
	w.setAlarm("errors", true)
	for w.current().AdditionalVersionWeights != nil || w.current().FunctionVersion != "1" {
		if time.Since(fired) > 10*time.Second {
			t.Fatalf("alias not restored: %+v", w.current())
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("alias restored %v after the alarm", time.Since(fired))
	d := waitStatus(t, c, ctx, id, codedeploy.StatusStopped)
	if d.ErrorInformation == nil || d.ErrorInformation.Code != "ALARM_ACTIVE" || d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("stopped deployment = %+v %+v", d.ErrorInformation, d.RollbackInfo)
	}
	rb := waitStatus(t, c, ctx, d.RollbackInfo.RollbackDeploymentID, codedeploy.StatusSucceeded)
	if rb.Creator != "codeDeployRollback" {
		t.Fatalf("rollback creator = %q", rb.Creator)
	}
}

func TestHooksAreInvokedAndReported(t *testing.T) {
	c, w, ctx := setup(t, 600)
	id, err := c.CreateDeployment(ctx, codedeploy.CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "grp",
		DeploymentConfigName: codedeploy.LambdaAllAtOnce,
		Revision: codedeploy.Revision{RevisionType: "AppSpecContent", AppSpecContent: &codedeploy.RawString{
			Content: appSpec + "Hooks:\n  - BeforeAllowTraffic: CodeDeployHook_pre\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var payload struct{ DeploymentId, LifecycleEventHookExecutionId string }
	for {
		w.mu.Lock()
		n := len(w.hooks)
		if n > 0 {
			json.Unmarshal(w.hooks[0], &payload)
		}
		w.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pre-traffic hook was never invoked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if payload.DeploymentId != id || w.current().FunctionVersion != "1" {
		t.Fatalf("hook payload %+v, alias %+v (traffic must wait for the hook)", payload, w.current())
	}
	if err := c.PutLifecycleEventHookExecutionStatus(ctx, id, payload.LifecycleEventHookExecutionId, "Succeeded"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, ctx, id, codedeploy.StatusSucceeded)
	if err := c.PutLifecycleEventHookExecutionStatus(ctx, id, payload.LifecycleEventHookExecutionId, "Succeeded"); err == nil {
		t.Fatal("a second report must be refused")
	}
}
