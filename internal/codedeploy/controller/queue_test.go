package controller

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/codedeploy"
)

func TestKeyQueueDeduplicatesAndHoldsAKeyForOneWorker(t *testing.T) {
	q := newKeyQueue[string]()
	q.Add("a")
	q.Add("b")
	q.Add("a")
	if n := q.Len(); n != 2 {
		t.Fatalf("queued %d keys, want 2 (a added twice is queued once)", n)
	}
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("first key = %q, want a", k)
	}
	q.Add("a") // while a worker holds it: queued again only once Done
	if k, _ := q.Get(); k != "b" {
		t.Fatalf("second key = %q, want b (a is being processed)", k)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("%d keys handed out while a is processed", n)
	}
	q.Done("a")
	if k, _ := q.Get(); k != "a" {
		t.Fatalf("key after Done = %q, want a again", k)
	}
	q.ShutDown()
	if _, ok := q.Get(); ok {
		t.Fatal("Get after ShutDown")
	}
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
