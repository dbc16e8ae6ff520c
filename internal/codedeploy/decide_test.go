package codedeploy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func TestDecideAllAtOnceSuccess(t *testing.T) {
	w := newWorld("1")
	d := run(t, newTestDeployment(t, spec{config: LambdaAllAtOnce}), w, time.Second, time.Minute, 1, &seqIDs{}, nil)
	if d.Status != StatusSucceeded || d.ErrorInformation != nil {
		t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
	}
	if want := []AliasState{alias("2")}; !reflect.DeepEqual(w.aliasHistory, want) {
		t.Fatalf("alias history %+v, want %+v", w.aliasHistory, want)
	}
	if got, want := eventStatuses(d), []EventStatus{EventSucceeded, EventSkipped, EventSucceeded, EventSkipped, EventSucceeded}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if !d.CompleteTime.Equal(t0) || !d.StartTime.Equal(t0) || d.TargetWeight != 1 || !d.WakeAt.IsZero() {
		t.Fatalf("times %v %v weight %v wake %v", d.StartTime, d.CompleteTime, d.TargetWeight, d.WakeAt)
	}
	if d.TargetStatus() != EventSucceeded || d.Overview().Succeeded != 1 {
		t.Fatalf("target status %s", d.TargetStatus())
	}
}

func TestDecideCanarySuccessWithHooks(t *testing.T) {
	w := newWorld("1")
	w.hookReply["CodeDeployHook_pre"] = HookSucceeded
	w.hookReply["CodeDeployHook_post"] = HookSucceeded
	d0 := newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, pre: "CodeDeployHook_pre", post: "CodeDeployHook_post", alarms: []string{"errors"}, events: allRollbackEvents})
	var weights []float64
	d := run(t, d0, w, 10*time.Second, time.Hour, 1, &seqIDs{}, func(now time.Time, d Deployment) {
		if len(weights) == 0 || weights[len(weights)-1] != d.TargetWeight {
			weights = append(weights, d.TargetWeight)
		}
	})
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
	}
	if want := []float64{0.1, 1}; !reflect.DeepEqual(weights, want) {
		t.Fatalf("weights %v, want %v", weights, want)
	}
	if want := []AliasState{alias("1", "2", 0.1), alias("2")}; !reflect.DeepEqual(w.aliasHistory, want) {
		t.Fatalf("alias history %+v", w.aliasHistory)
	}
	if len(w.invoked) != 2 || w.invoked[0].Event != EventBeforeAllowTraffic || w.invoked[1].Event != EventAfterAllowTraffic {
		t.Fatalf("hooks invoked %+v", w.invoked)
	}
	shift := d.Event(EventAllowTraffic)
	if got := shift.EndTime.Sub(shift.StartTime); got != 5*time.Minute {
		t.Fatalf("AllowTraffic lasted %s", got)
	}
	if got, want := eventStatuses(d), []EventStatus{EventSucceeded, EventSucceeded, EventSucceeded, EventSucceeded, EventSucceeded}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v", got)
	}
	var kinds []TimelineKind
	for _, e := range d.Timeline {
		kinds = append(kinds, e.Kind)
	}
	want := []TimelineKind{KindCreated, KindStarted, KindEvent, KindHookInvoked, KindHookSucceeded, KindStep, KindStep, KindEvent, KindHookInvoked, KindHookSucceeded, KindSucceeded}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("timeline kinds %v\nwant %v", kinds, want)
	}
	if w := d.Timeline[5].Weight; w == nil || *w != 0.1 {
		t.Fatalf("first step %+v", d.Timeline[5])
	}
}

func TestDecideLinearTimeScaled(t *testing.T) {
	// Scale 60: a configured minute lasts one second; Linear10PercentEvery1Minute reaches 100 % after 9 s.
	w := newWorld("7")
	d0 := newTestDeployment(t, spec{config: LambdaLinear10PercentEvery1Minute, current: "7", target: "8"})
	type obs struct {
		at time.Duration
		w  float64
	}
	var seen []obs
	d := run(t, d0, w, 250*time.Millisecond, time.Minute, 60, &seqIDs{}, func(now time.Time, d Deployment) {
		if len(seen) == 0 || seen[len(seen)-1].w != d.TargetWeight {
			seen = append(seen, obs{now.Sub(t0), d.TargetWeight})
		}
	})
	if d.Status != StatusSucceeded {
		t.Fatalf("status %s", d.Status)
	}
	want := []obs{{0, 0.1}, {time.Second, 0.2}, {2 * time.Second, 0.3}, {3 * time.Second, 0.4}, {4 * time.Second, 0.5},
		{5 * time.Second, 0.6}, {6 * time.Second, 0.7}, {7 * time.Second, 0.8}, {8 * time.Second, 0.9}, {9 * time.Second, 1}}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("weights over time %v\nwant %v", seen, want)
	}
	if len(w.aliasHistory) != 10 || !reflect.DeepEqual(w.aliasHistory[2], alias("7", "8", 0.3)) || !reflect.DeepEqual(w.aliasHistory[9], alias("8")) {
		t.Fatalf("alias history %+v", w.aliasHistory)
	}
	if !d.CompleteTime.Equal(t0.Add(9 * time.Second)) {
		t.Fatalf("completed at %s", d.CompleteTime.Sub(t0))
	}
}

func TestDecidePreHookFailureLeavesAliasUntouched(t *testing.T) {
	w := newWorld("1")
	w.hookReply["pre"] = HookFailed
	d := run(t, newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, pre: "pre", post: "post", events: allRollbackEvents}), w, time.Second, time.Minute, 1, &seqIDs{}, nil)
	if d.Status != StatusFailed || d.ErrorInformation.Code != CodeHookExecutionFailure || d.ErrorInformation.Message != msgHookFailed {
		t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
	}
	if len(w.aliasHistory) != 0 || !reflect.DeepEqual(w.alias, alias("1")) {
		t.Fatalf("alias was touched: %+v", w.aliasHistory)
	}
	if got, want := eventStatuses(d), []EventStatus{EventSucceeded, EventFailed, EventSkipped, EventSkipped, EventSkipped}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v", got)
	}
	if diag := d.Event(EventBeforeAllowTraffic).Diagnostics; diag == nil || diag.ErrorCode != "ScriptFailed" || diag.ScriptName != "pre" {
		t.Fatalf("diagnostics %+v", diag)
	}
	// DEPLOYMENT_FAILURE is covered: a rollback deployment is recorded; it has nothing to move.
	rbs := runRollbacks(t, w, &seqIDs{})
	if len(rbs) != 1 || rbs[0].Status != StatusSucceeded || len(w.aliasHistory) != 0 {
		t.Fatalf("rollback %+v, alias history %+v", rbs, w.aliasHistory)
	}
	if len(w.invoked) != 1 {
		t.Fatalf("post hook must not run: %+v", w.invoked)
	}
}

func TestDecidePostHookFailureRollsBack(t *testing.T) {
	w := newWorld("1")
	w.hookReply["post"] = HookFailed
	d := run(t, newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, post: "post", events: []AutoRollbackEvent{RollbackOnFailure}}), w, 30*time.Second, time.Hour, 1, &seqIDs{}, nil)
	if d.Status != StatusFailed || d.ErrorInformation.Code != CodeHookExecutionFailure {
		t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
	}
	if want := []AliasState{alias("1", "2", 0.1), alias("2"), alias("1")}; !reflect.DeepEqual(w.aliasHistory, want) {
		t.Fatalf("alias history %+v", w.aliasHistory)
	}
	if d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentID != "d-RB0000001" ||
		d.RollbackInfo.RollbackMessage != "Deployment d-ABCDEFGH1 failed. Automatic rollback is triggered with a DeploymentId d-RB0000001." {
		t.Fatalf("rollback info %+v", d.RollbackInfo)
	}
	rbs := runRollbacks(t, w, &seqIDs{})
	if len(rbs) != 1 {
		t.Fatalf("rollbacks %d", len(rbs))
	}
	rb := rbs[0]
	if rb.Status != StatusSucceeded || rb.Creator != CreatorCodeDeployRollback || rb.DeploymentConfigName != LambdaAllAtOnce ||
		rb.RollbackInfo.RollbackTriggeringDeploymentID != d.ID ||
		rb.RollbackInfo.RollbackMessage != "Deployment d-RB0000001 is triggered to roll back deployment d-ABCDEFGH1." {
		t.Fatalf("rollback deployment %+v", rb)
	}
	if rb.AppSpec.Resource.TargetVersion != "1" || rb.AppSpec.Resource.CurrentVersion != "2" || rb.AppSpec.Hooks != (AppSpecHooks{}) {
		t.Fatalf("rollback appspec %+v", rb.AppSpec)
	}
	if spec, err := ParseRevision(rb.Revision); err != nil || spec != rb.AppSpec {
		t.Fatalf("rollback revision does not parse back: %v %+v", err, spec)
	}
	if got, ok := RollbackOf(d); !ok || !reflect.DeepEqual(got, w.rollbacks[0]) {
		t.Fatalf("RollbackOf differs from the emitted record")
	}
	if !reflect.DeepEqual(w.alias, alias("1")) || len(w.aliasHistory) != 3 {
		t.Fatalf("alias %+v history %+v", w.alias, w.aliasHistory)
	}
}

func TestDecideHookTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{{"default one hour", 0, time.Hour}, {"configured", 10 * time.Minute, 10 * time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1") // the hook never reports
			d := newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, pre: "pre"})
			ids := &seqIDs{}
			var failedAt time.Time
			for now := t0; now.Sub(t0) <= 2*time.Hour && !d.Status.Terminal(); now = now.Add(time.Minute) {
				o := w.observe(now, 60) // the schedule's scale does not apply to hooks
				o.HookTimeout = tc.timeout
				next, acts, err := Decide(d, o, ids)
				if err != nil {
					t.Fatal(err)
				}
				w.apply(t, acts)
				d, failedAt = next, now
				if now.Equal(t0) && !d.WakeAt.Equal(t0.Add(tc.want)) {
					t.Fatalf("wake after invoke %v", d.WakeAt)
				}
			}
			if d.Status != StatusFailed || d.ErrorInformation.Code != CodeTimeout || failedAt.Sub(t0) != tc.want {
				t.Fatalf("status %s %+v at %s", d.Status, d.ErrorInformation, failedAt.Sub(t0))
			}
			if diag := d.Event(EventBeforeAllowTraffic).Diagnostics; diag == nil || diag.ErrorCode != "ScriptTimedOut" {
				t.Fatalf("diagnostics %+v", diag)
			}
			if len(w.invoked) != 1 || len(w.aliasHistory) != 0 {
				t.Fatalf("invoked %d alias %+v", len(w.invoked), w.aliasHistory)
			}
		})
	}
}

func TestDecideAlarms(t *testing.T) {
	for _, tc := range []struct {
		name       string
		spec       spec
		alarmAt    time.Duration
		alarms     []string
		pollFail   bool
		wantStatus Status
		wantCode   ErrorCode
		wantMsg    string
		wantAlias  AliasState
		rollback   bool
		events     []EventStatus
	}{
		{
			name: "alarm already in ALARM at start", spec: spec{config: LambdaCanary10Percent5Minutes, alarms: []string{"errors", "latency"}, events: allRollbackEvents},
			alarms: []string{"latency", "unrelated"}, wantStatus: StatusStopped, wantCode: CodeAlarmActive,
			wantMsg:   "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <latency>",
			wantAlias: alias("1"), events: []EventStatus{EventSkipped, EventSkipped, EventSkipped, EventSkipped, EventSkipped},
		},
		{
			name: "alarm mid-canary rolls back", spec: spec{config: LambdaCanary10Percent5Minutes, alarms: []string{"errors", "latency"}, events: allRollbackEvents},
			alarmAt: 2 * time.Minute, alarms: []string{"latency", "errors"}, wantStatus: StatusStopped, wantCode: CodeAlarmActive,
			wantMsg:   "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <errors> <latency>",
			wantAlias: alias("1"), rollback: true, events: []EventStatus{EventSucceeded, EventSkipped, EventFailed, EventSkipped, EventSkipped},
		},
		{
			name: "alarm mid-canary without rollback leaves the split", spec: spec{config: LambdaCanary10Percent5Minutes, alarms: []string{"errors"}, events: []AutoRollbackEvent{RollbackOnFailure}},
			alarmAt: 2 * time.Minute, alarms: []string{"errors"}, wantStatus: StatusStopped, wantCode: CodeAlarmActive,
			wantAlias: alias("1", "2", 0.1), events: []EventStatus{EventSucceeded, EventSkipped, EventFailed, EventSkipped, EventSkipped},
		},
		{
			name: "alarm while the post hook runs", spec: spec{config: LambdaCanary10Percent5Minutes, post: "slow", alarms: []string{"errors"}, events: allRollbackEvents},
			alarmAt: 10 * time.Minute, alarms: []string{"errors"}, wantStatus: StatusStopped, wantCode: CodeAlarmActive,
			wantAlias: alias("1"), rollback: true, events: []EventStatus{EventSucceeded, EventSkipped, EventSucceeded, EventFailed, EventSkipped},
		},
		{
			name: "alarms disabled are ignored", spec: spec{config: LambdaCanary10Percent5Minutes},
			alarms: []string{"errors"}, wantStatus: StatusSucceeded, wantAlias: alias("2"),
			events: []EventStatus{EventSucceeded, EventSkipped, EventSucceeded, EventSkipped, EventSucceeded},
		},
		{
			name: "poll failure stops", spec: spec{config: LambdaCanary10Percent5Minutes, alarms: []string{"errors"}, events: allRollbackEvents},
			alarmAt: time.Minute, pollFail: true, wantStatus: StatusStopped, wantCode: CodeAlarmActive, wantMsg: msgAlarmPoll,
			wantAlias: alias("1"), rollback: true, events: []EventStatus{EventSucceeded, EventSkipped, EventFailed, EventSkipped, EventSkipped},
		},
		{
			name: "poll failure ignored", spec: spec{config: LambdaCanary10Percent5Minutes, alarms: []string{"errors"}, ignore: true},
			alarmAt: time.Minute, pollFail: true, wantStatus: StatusSucceeded, wantAlias: alias("2"),
			events: []EventStatus{EventSucceeded, EventSkipped, EventSucceeded, EventSkipped, EventSucceeded},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1")
			if tc.alarmAt == 0 {
				w.alarms, w.pollFail = tc.alarms, tc.pollFail
			}
			d := run(t, newTestDeployment(t, tc.spec), w, 30*time.Second, time.Hour, 1, &seqIDs{}, func(now time.Time, d Deployment) {
				if now.Sub(t0) >= tc.alarmAt-30*time.Second {
					w.alarms, w.pollFail = tc.alarms, tc.pollFail
				}
			})
			if d.Status != tc.wantStatus {
				t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
			}
			if tc.wantCode != "" && d.ErrorInformation.Code != tc.wantCode {
				t.Fatalf("error %+v", d.ErrorInformation)
			}
			if tc.wantMsg != "" && d.ErrorInformation.Message != tc.wantMsg {
				t.Fatalf("message %q", d.ErrorInformation.Message)
			}
			if got := eventStatuses(d); !reflect.DeepEqual(got, tc.events) {
				t.Fatalf("events %v, want %v", got, tc.events)
			}
			if tc.rollback != (len(w.rollbacks) == 1) {
				t.Fatalf("rollbacks %d", len(w.rollbacks))
			}
			runRollbacks(t, w, &seqIDs{})
			if !reflect.DeepEqual(w.alias, tc.wantAlias) {
				t.Fatalf("alias %+v, want %+v", w.alias, tc.wantAlias)
			}
		})
	}
}

func TestDecideAlarmAtStartRecordsWhyNoRollback(t *testing.T) {
	w := newWorld("1")
	w.alarms = []string{"errors"}
	d := run(t, newTestDeployment(t, spec{config: LambdaAllAtOnce, alarms: []string{"errors"}, events: allRollbackEvents}), w, time.Second, time.Minute, 1, &seqIDs{}, nil)
	if d.Status != StatusStopped || d.RollbackInfo == nil || d.RollbackInfo.RollbackDeploymentID != "" || !strings.Contains(d.RollbackInfo.RollbackMessage, "not triggered") {
		t.Fatalf("%s %+v", d.Status, d.RollbackInfo)
	}
	if len(w.rollbacks) != 0 || len(w.aliasHistory) != 0 {
		t.Fatal("nothing may move")
	}
}

func TestDecideStop(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name      string
		flag      *bool
		events    []AutoRollbackEvent
		wantAlias AliasState
		rollback  bool
	}{
		{"request says rollback", &yes, nil, alias("1"), true},
		{"request says no rollback", &no, allRollbackEvents, alias("1", "2", 0.1), false},
		{"group config decides: on request", nil, []AutoRollbackEvent{RollbackOnStopRequested}, alias("1"), true},
		{"group config decides: not on request", nil, []AutoRollbackEvent{RollbackOnFailure, RollbackOnAlarm}, alias("1", "2", 0.1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1")
			d := newTestDeployment(t, spec{config: LambdaCanary10Percent10Minutes, events: tc.events})
			d = run(t, d, w, time.Minute, 3*time.Minute, 1, &seqIDs{}, nil)
			if d.Status != StatusInProgress || d.TargetWeight != 0.1 {
				t.Fatalf("not mid-canary: %s %v", d.Status, d.TargetWeight)
			}
			d, st, msg, err := RequestStop(d, tc.flag, t0.Add(3*time.Minute))
			if err != nil || st != StopPending || msg == "" {
				t.Fatalf("RequestStop %v %s", err, st)
			}
			if _, st2, _, err := RequestStop(d, nil, t0.Add(3*time.Minute)); err != nil || st2 != StopPending {
				t.Fatalf("second RequestStop %v", err)
			}
			d = settle(t, d, w, t0.Add(4*time.Minute), 1, &seqIDs{})
			if d.Status != StatusStopped || d.ErrorInformation.Code != CodeManualStop {
				t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
			}
			if tc.rollback != (len(w.rollbacks) == 1) {
				t.Fatalf("rollbacks %d", len(w.rollbacks))
			}
			runRollbacks(t, w, &seqIDs{})
			if !reflect.DeepEqual(w.alias, tc.wantAlias) {
				t.Fatalf("alias %+v, want %+v", w.alias, tc.wantAlias)
			}
			if _, _, _, err := RequestStop(d, nil, t0.Add(5*time.Minute)); !fault.Is(err, ErrDeploymentAlreadyCompleted) {
				t.Fatalf("stop after completion: %v", err)
			}
		})
	}
}

func TestDecideStopThroughObservation(t *testing.T) {
	w := newWorld("1")
	yes := true
	d := newTestDeployment(t, spec{config: LambdaCanary10Percent10Minutes})
	d = run(t, d, w, time.Minute, 2*time.Minute, 1, &seqIDs{}, nil)
	w.stop = &StopRequest{AutoRollbackEnabled: &yes}
	d = settle(t, d, w, t0.Add(3*time.Minute), 1, &seqIDs{})
	if d.Status != StatusStopped || d.Stop == nil || d.RollbackInfo == nil || len(w.rollbacks) != 1 {
		t.Fatalf("%s %+v", d.Status, d.Stop)
	}
	if !d.Stop.RequestedAt.Equal(t0.Add(3 * time.Minute)) {
		t.Fatalf("stop time %v", d.Stop.RequestedAt)
	}
}

func TestDecideStopBeforeStart(t *testing.T) {
	w := newWorld("1")
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce, events: allRollbackEvents})
	d, _, _, err := RequestStop(d, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	d = settle(t, d, w, t0, 1, &seqIDs{})
	if d.Status != StatusStopped || d.ErrorInformation.Code != CodeManualStop || len(w.rollbacks) != 0 || !d.StartTime.IsZero() {
		t.Fatalf("%s %+v", d.Status, d.ErrorInformation)
	}
	if d.TargetStatus() != EventSkipped {
		t.Fatalf("target %s", d.TargetStatus())
	}
}

func TestDecideStartValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   spec
		world  func(*world)
		code   ErrorCode
		msg    string
		status Status
	}{
		{"alias on another version", spec{config: LambdaCanary10Percent5Minutes}, func(w *world) { w.alias = alias("3") },
			CodeInvalidLambdaConfiguration, "The deployment failed because the AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration. The Lambda function alias version does not match the current version in AppSpec file.", StatusFailed},
		{"alias already split", spec{config: LambdaCanary10Percent5Minutes}, func(w *world) { w.alias = alias("1", "3", 0.2) },
			CodeInvalidLambdaConfiguration, "", StatusFailed},
		{"zero weight is not a split", spec{config: LambdaAllAtOnce}, func(w *world) { w.alias = alias("1", "3", 0.0) },
			"", "", StatusSucceeded},
		{"leading zeros are the same version", spec{config: LambdaAllAtOnce, current: "01"}, func(w *world) { w.alias = alias("001") },
			"", "", StatusSucceeded},
		{"target equals current for canary", spec{config: LambdaCanary10Percent5Minutes, target: "1"}, nil,
			CodeInvalidLambdaConfiguration, msgAppSpecInvalid, StatusFailed},
		{"target equals current for linear", spec{config: LambdaLinear10PercentEvery1Minute, target: "1"}, nil,
			CodeInvalidLambdaConfiguration, msgAppSpecInvalid, StatusFailed},
		{"target equals current for all-at-once", spec{config: LambdaAllAtOnce, target: "1"}, nil, "", "", StatusSucceeded},
		{"target version missing", spec{config: LambdaAllAtOnce}, func(w *world) { w.targetMissing = true },
			CodeInvalidLambdaConfiguration, "", StatusFailed},
		{"alias missing", spec{config: LambdaAllAtOnce}, func(w *world) { w.aliasMissing = true },
			CodeInvalidLambdaConfiguration, "", StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1")
			if tc.world != nil {
				tc.world(w)
			}
			before := w.alias
			tc.spec.events = allRollbackEvents
			d := run(t, newTestDeployment(t, tc.spec), w, time.Second, time.Minute, 1, &seqIDs{}, nil)
			if d.Status != tc.status {
				t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
			}
			if tc.code == "" {
				return
			}
			if d.ErrorInformation.Code != tc.code || (tc.msg != "" && d.ErrorInformation.Message != tc.msg) {
				t.Fatalf("error %+v", d.ErrorInformation)
			}
			if len(w.rollbacks) != 0 || !reflect.DeepEqual(w.alias, before) {
				t.Fatal("a deployment failing validation must not touch the alias nor roll back")
			}
			if got := eventStatuses(d); got[0] != EventFailed || got[4] != EventSkipped {
				t.Fatalf("events %v", got)
			}
		})
	}
	t.Run("function missing", func(t *testing.T) {
		d := newTestDeployment(t, spec{config: LambdaAllAtOnce})
		o := newWorld("1").observe(t0, 1)
		o.FunctionMissing = true
		d, acts, err := Decide(d, o, &seqIDs{})
		if err != nil || len(acts) != 0 || d.ErrorInformation.Code != CodeInvalidLambdaFunction {
			t.Fatalf("%v %+v %+v", err, acts, d.ErrorInformation)
		}
	})
}

func TestDecideAliasDrift(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  spec
		at    time.Duration
		drift AliasState
		event EventName
	}{
		{"mid-canary", spec{config: LambdaCanary10Percent10Minutes}, 3 * time.Minute, alias("3"), EventAllowTraffic},
		{"weight changed by hand", spec{config: LambdaLinear10PercentEvery10Minutes}, 15 * time.Minute, alias("1", "2", 0.55), EventAllowTraffic},
		{"while the pre hook runs", spec{config: LambdaCanary10Percent10Minutes, pre: "slow"}, time.Minute, alias("1", "2", 0.5), EventBeforeAllowTraffic},
		{"while the post hook runs", spec{config: LambdaAllAtOnce, post: "slow"}, time.Minute, alias("1"), EventAfterAllowTraffic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1")
			d := run(t, newTestDeployment(t, tc.spec), w, 30*time.Second, time.Hour, 1, &seqIDs{}, func(now time.Time, d Deployment) {
				if now.Sub(t0) == tc.at-30*time.Second {
					w.alias = tc.drift
				}
			})
			if d.Status != StatusFailed || d.ErrorInformation.Code != CodeInvalidLambdaConfiguration || !strings.Contains(d.ErrorInformation.Message, "changed outside of the deployment") {
				t.Fatalf("status %s %+v", d.Status, d.ErrorInformation)
			}
			if d.Event(tc.event).Status != EventFailed {
				t.Fatalf("events %v", eventStatuses(d))
			}
			if len(w.rollbacks) != 0 || !reflect.DeepEqual(w.alias, tc.drift) {
				t.Fatalf("a drifted alias is left to whoever changed it: %+v", w.alias)
			}
			if d.Timeline[len(d.Timeline)-2].Kind != KindDrift {
				t.Fatalf("timeline %+v", d.Timeline[len(d.Timeline)-2:])
			}
		})
	}
}

func TestDecideAliasDeletedMidDeployment(t *testing.T) {
	w := newWorld("1")
	d := run(t, newTestDeployment(t, spec{config: LambdaCanary10Percent10Minutes, events: allRollbackEvents}), w, time.Minute, 2*time.Minute, 1, &seqIDs{}, nil)
	w.aliasMissing = true
	d = settle(t, d, w, t0.Add(3*time.Minute), 1, &seqIDs{})
	if d.Status != StatusFailed || d.ErrorInformation.Code != CodeInvalidLambdaConfiguration || !strings.Contains(d.ErrorInformation.Message, "no longer exists") || len(w.rollbacks) != 0 {
		t.Fatalf("%s %+v", d.Status, d.ErrorInformation)
	}
}

func TestDecideToleratesEarlierScheduleStates(t *testing.T) {
	// A lost alias update (crash between persisting and applying) or a clock that stepped back shows the alias at
	// another state of the schedule: that is not drift, Decide re-issues the update.
	w := newWorld("1")
	d := newTestDeployment(t, spec{config: LambdaLinear10PercentEvery1Minute})
	d = run(t, d, w, time.Minute, 3*time.Minute, 1, &seqIDs{}, nil) // 40 % now
	for _, st := range []AliasState{alias("1"), alias("1", "2", 0.2), alias("1", "2", 0.9), alias("2")} {
		w.alias = st
		o := w.observe(t0.Add(3*time.Minute), 1)
		next, acts, err := Decide(d, o, &seqIDs{})
		if err != nil || next.Status != StatusInProgress || len(acts) != 1 || !reflect.DeepEqual(acts[0].SetAlias.AliasState, alias("1", "2", 0.4)) {
			t.Fatalf("from %+v: %v %s %+v", st, err, next.Status, acts)
		}
		if len(next.Timeline) != len(d.Timeline) {
			t.Fatalf("re-issuing a step must not add timeline entries")
		}
	}
}

func TestDecideQueued(t *testing.T) {
	w := newWorld("1")
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce})
	o := w.observe(t0, 1)
	o.BlockedBy = "d-OTHER0001"
	d1, acts, err := Decide(d, o, &seqIDs{})
	if err != nil || len(acts) != 0 || d1.Status != StatusQueued || !d1.WakeAt.IsZero() {
		t.Fatalf("%v %s %+v", err, d1.Status, acts)
	}
	d2, _, _ := Decide(d1, o, &seqIDs{})
	if !reflect.DeepEqual(d1, d2) {
		t.Fatal("queued deployment changed with the same observation")
	}
	d3 := settle(t, d2, w, t0.Add(time.Minute), 1, &seqIDs{})
	if d3.Status != StatusSucceeded || d3.TargetStatus() != EventSucceeded {
		t.Fatalf("status %s", d3.Status)
	}
}

func TestDecideHookResultsThroughReportHookStatus(t *testing.T) {
	// A controller that records results with ReportHookStatus and passes no Hooks map.
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce, pre: "pre", post: "post"})
	ids := &seqIDs{}
	o := Observe{Now: t0, Alias: alias("1")}
	d, acts, err := Decide(d, o, ids)
	if err != nil || len(acts) != 1 || acts[0].Type != ActionInvokeHook {
		t.Fatalf("%v %+v", err, acts)
	}
	exec := acts[0].InvokeHook.ExecutionID
	if d2, acts2, _ := Decide(d, o, ids); len(acts2) != 0 || !reflect.DeepEqual(d, d2) {
		t.Fatal("a nil Hooks map must not re-invoke")
	}
	if _, err := ReportHookStatus(d, exec, "InProgress", t0); !fault.Is(err, ErrInvalidHookExecutionStatus) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := ReportHookStatus(d, "nope", "Succeeded", t0); !fault.Is(err, ErrInvalidHookExecutionID) {
		t.Fatalf("bad id: %v", err)
	}
	d, err = ReportHookStatus(d, exec, "Succeeded", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReportHookStatus(d, exec, "Failed", t0.Add(time.Second)); !fault.Is(err, ErrLifecycleEventAlreadyCompleted) {
		t.Fatalf("second report: %v", err)
	}
	o.Now = t0.Add(2 * time.Second)
	d, acts, err = Decide(d, o, ids)
	if err != nil || len(acts) != 1 || acts[0].Type != ActionSetAlias {
		t.Fatalf("%v %+v", err, acts)
	}
	o.Alias = acts[0].SetAlias.AliasState
	d, acts, err = Decide(d, o, ids)
	if err != nil || len(acts) != 1 || acts[0].InvokeHook.Event != EventAfterAllowTraffic {
		t.Fatalf("%v %+v", err, acts)
	}
	post := acts[0].InvokeHook.ExecutionID
	d, err = ReportHookStatus(d, post, "Failed", t0.Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	d, acts, err = Decide(d, o, ids)
	if err != nil || len(acts) != 0 || d.Status != StatusFailed {
		t.Fatalf("%v %+v %s", err, acts, d.Status)
	}
	if _, err := ReportHookStatus(d, post, "Succeeded", t0.Add(4*time.Second)); !fault.Is(err, ErrLifecycleEventAlreadyCompleted) {
		t.Fatalf("report after failure: %v", err)
	}
}

func TestDecideReinvokesLostHookDispatch(t *testing.T) {
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce, pre: "pre"})
	ids := &seqIDs{}
	o := Observe{Now: t0, Alias: alias("1"), Hooks: map[string]HookResult{}}
	d, acts, _ := Decide(d, o, ids)
	if len(acts) != 1 {
		t.Fatalf("%+v", acts)
	}
	exec := acts[0].InvokeHook.ExecutionID
	// The controller crashed before invoking: its dispatch log does not list the execution.
	o.Now = t0.Add(time.Minute)
	d2, acts, _ := Decide(d, o, ids)
	if len(acts) != 1 || acts[0].InvokeHook.ExecutionID != exec {
		t.Fatalf("want the same execution re-invoked, got %+v", acts)
	}
	o.Hooks[exec] = HookPending
	if _, acts, _ := Decide(d2, o, ids); len(acts) != 0 {
		t.Fatalf("dispatched hook re-invoked: %+v", acts)
	}
}

func TestDecideTerminalAndCorrupt(t *testing.T) {
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce})
	d.Status = StatusSucceeded
	if d2, acts, err := Decide(d, Observe{Now: t0}, &seqIDs{}); err != nil || acts != nil || !reflect.DeepEqual(d, d2) {
		t.Fatal("terminal deployment must not change")
	}
	d.Status = "Baking"
	if _, _, err := Decide(d, Observe{Now: t0}, &seqIDs{}); err == nil {
		t.Fatal("unknown status accepted")
	}
	d.Events = d.Events[:3]
	d.Status = StatusInProgress
	if _, _, err := Decide(d, Observe{Now: t0}, &seqIDs{}); err == nil {
		t.Fatal("corrupt record accepted")
	}
}

type failingIDs struct{}

func (failingIDs) DeploymentID() (string, error)    { return "", errTest }
func (failingIDs) HookExecutionID() (string, error) { return "", errTest }

var errTest = fault.New("Test", "boom")

func TestDecideIDFailureDecidesNothing(t *testing.T) {
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce, pre: "pre"})
	d2, acts, err := Decide(d, Observe{Now: t0, Alias: alias("1")}, failingIDs{})
	if err == nil || acts != nil || !reflect.DeepEqual(d, d2) {
		t.Fatalf("%v %+v", err, acts)
	}
}

// TestDecideRestartSafety replays each scenario, and after every single Decide call "crashes": the controller
// restarts from the persisted (JSON round-tripped) record, with that call's actions either lost or applied. The
// outcome must be the one of the uninterrupted run.
func TestDecideRestartSafety(t *testing.T) {
	type outcome struct {
		Status    Status
		Code      ErrorCode
		Alias     AliasState
		Rollbacks int
		Events    []EventStatus
	}
	scenarios := []struct {
		name  string
		spec  spec
		setup func(w *world)
		event func(now time.Time, w *world)
	}{
		{"canary with hooks", spec{config: LambdaCanary10Percent5Minutes, pre: "pre", post: "post"}, func(w *world) {
			w.hookReply["pre"], w.hookReply["post"] = HookSucceeded, HookSucceeded
		}, nil},
		{"linear", spec{config: LambdaLinear10PercentEvery1Minute}, nil, nil},
		{"post hook failure with rollback", spec{config: LambdaCanary10Percent5Minutes, post: "post", events: allRollbackEvents}, func(w *world) {
			w.hookReply["post"] = HookFailed
		}, nil},
		{"alarm mid-canary with rollback", spec{config: LambdaCanary10Percent10Minutes, alarms: []string{"errors"}, events: allRollbackEvents}, nil,
			func(now time.Time, w *world) {
				if now.Sub(t0) >= 4*time.Minute {
					w.alarms = []string{"errors"}
				}
			}},
	}
	const tick = 30 * time.Second
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// drive runs the deployment and its rollbacks; crashAt >= 0 crashes after that many Decide calls.
			drive := func(crashAt int, applyLost bool) (outcome, int) {
				w := newWorld("1")
				if sc.setup != nil {
					sc.setup(w)
				}
				d := newTestDeployment(t, sc.spec)
				ids := &seqIDs{}
				calls := 0
				for now := t0; now.Sub(t0) <= time.Hour && !d.Status.Terminal(); now = now.Add(tick) {
					if sc.event != nil {
						sc.event(now, w)
					}
					for range 20 {
						next, acts, err := Decide(d, w.observe(now, 1), ids)
						if err != nil {
							t.Fatal(err)
						}
						calls++
						if calls == crashAt {
							raw, err := json.Marshal(next)
							if err != nil {
								t.Fatal(err)
							}
							var restored Deployment
							if err := json.Unmarshal(raw, &restored); err != nil {
								t.Fatal(err)
							}
							next = restored
							if !applyLost {
								// Only the store write (the rollback record) shares the record's transaction.
								var kept []Action
								for _, a := range acts {
									if a.Type == ActionStartRollback {
										kept = append(kept, a)
									}
								}
								acts = kept
							}
						}
						w.apply(t, acts)
						d = next
						if len(acts) == 0 {
							break
						}
					}
				}
				runRollbacks(t, w, &seqIDs{})
				return outcome{d.Status, codeOf(d), w.alias, len(w.rollbacks), eventStatuses(d)}, calls
			}
			want, calls := drive(-1, false)
			if calls < 10 {
				t.Fatalf("only %d calls", calls)
			}
			for crash := 1; crash <= calls; crash++ {
				for _, applied := range []bool{true, false} {
					if got, _ := drive(crash, applied); !reflect.DeepEqual(got, want) {
						t.Fatalf("crash after call %d (actions applied: %v): %+v, want %+v", crash, applied, got, want)
					}
				}
			}
		})
	}
}

func codeOf(d Deployment) ErrorCode {
	if d.ErrorInformation == nil {
		return ""
	}
	return d.ErrorInformation.Code
}

func TestDecideRollbackFromSplitAlias(t *testing.T) {
	w := newWorld("1")
	w.alias = alias("1", "2", 0.3)
	d := newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, events: allRollbackEvents})
	rb := newRollback(d, "d-RB0000009", t0)
	rb = run(t, rb, w, time.Second, time.Minute, 1, &seqIDs{}, nil)
	if rb.Status != StatusSucceeded || !reflect.DeepEqual(w.alias, alias("1")) {
		t.Fatalf("%s %+v", rb.Status, w.alias)
	}
	if got, want := eventStatuses(rb), []EventStatus{EventSucceeded, EventSkipped, EventSucceeded, EventSkipped, EventSucceeded}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v", got)
	}
	// A rollback deployment ignores alarms (its alarm configuration is disabled) and never rolls back itself.
	if rb.Alarms.Active() || rb.AutoRollback.Enabled {
		t.Fatal("rollback deployments carry no alarms and no auto-rollback")
	}
}

func TestDecideDoesNotMutateInput(t *testing.T) {
	w := newWorld("1")
	w.hookReply["post"] = HookFailed
	d := newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes, post: "post", events: allRollbackEvents})
	d = run(t, d, w, time.Minute, 4*time.Minute, 1, &seqIDs{}, nil)
	before, _ := json.Marshal(d)
	_, _, _ = Decide(d, w.observe(t0.Add(10*time.Minute), 1), &seqIDs{})
	after, _ := json.Marshal(d)
	if string(before) != string(after) {
		t.Fatal("Decide mutated its input")
	}
}

func TestHookInvocationPayload(t *testing.T) {
	h := InvokeHook{FunctionName: "f", DeploymentID: "d-ABCDEFGH1", ExecutionID: "x/y"}
	if got, want := string(h.Payload()), `{"DeploymentId":"d-ABCDEFGH1","LifecycleEventHookExecutionId":"x/y"}`; got != want {
		t.Fatalf("payload %s", got)
	}
}

// TestStopKeptApartFromTheRecord follows a controller that keeps StopDeployment requests apart from the record
// (NewStopRequest) and hands them to Decide in Observe.StopRequested.
func TestStopKeptApartFromTheRecord(t *testing.T) {
	w := newWorld("1")
	d := newTestDeployment(t, spec{config: LambdaCanary10Percent10Minutes})
	d = run(t, d, w, time.Minute, 2*time.Minute, 1, &seqIDs{}, nil)
	flag := true
	req, st, msg, err := NewStopRequest(d, nil, &flag, "arn:aws:iam::000000000000:user/ops", t0.Add(2*time.Minute+time.Second))
	if err != nil || st != StopPending || msg == "" || req == nil || req.AutoRollbackEnabled == nil || !*req.AutoRollbackEnabled {
		t.Fatalf("NewStopRequest = %+v %q %q %v", req, st, msg, err)
	}
	flag = false
	if !*req.AutoRollbackEnabled {
		t.Fatal("the request aliases the caller's flag")
	}
	if again, st, _, err := NewStopRequest(d, req, nil, "", t0.Add(3*time.Minute)); again != nil || st != StopPending || err != nil {
		t.Fatalf("a second request while one is pending = %+v %q %v; want nothing new, Pending", again, st, err)
	}
	if len(d.Timeline) == 0 || d.Stop != nil {
		t.Fatal("NewStopRequest must leave the record alone")
	}

	w.stop = req
	now := t0.Add(3 * time.Minute)
	d = settle(t, d, w, now, 1, &seqIDs{})
	if d.Status != StatusStopped || d.Stop == nil || !d.Stop.RequestedAt.Equal(req.RequestedAt) || len(w.rollbacks) != 1 {
		t.Fatalf("%s %+v, %d rollbacks", d.Status, d.Stop, len(w.rollbacks))
	}
	for _, e := range d.Timeline {
		if e.Kind == KindStopRequested && (!e.Time.Equal(req.RequestedAt) || e.Detail != "stop requested by arn:aws:iam::000000000000:user/ops with rollback") {
			t.Fatalf("stop noted at %v (%q), requested at %v", e.Time, e.Detail, req.RequestedAt)
		}
	}
	// Recorded in the record, it counts as pending for the next caller too; completed, it refuses.
	if _, _, _, err := NewStopRequest(d, nil, nil, "", now); !fault.Is(err, ErrDeploymentAlreadyCompleted) {
		t.Fatalf("stop after completion: %v", err)
	}
	running := newTestDeployment(t, spec{config: LambdaCanary10Percent10Minutes})
	running.Stop = &StopRequest{RequestedAt: t0}
	if again, st, _, err := NewStopRequest(running, nil, &flag, "", now); again != nil || st != StopPending || err != nil {
		t.Fatalf("request over a recorded stop = %+v %q %v", again, st, err)
	}
}

// TestCheckHookReport follows a controller that keeps hook reports apart from the record (the dispatch log passed
// as Observe.Hooks): a report already kept there counts even before Decide copied it into the record.
func TestCheckHookReport(t *testing.T) {
	d := newTestDeployment(t, spec{config: LambdaAllAtOnce, pre: "pre"})
	o := Observe{Now: t0, Alias: alias("1"), Hooks: map[string]HookResult{}}
	d, acts, err := Decide(d, o, &seqIDs{})
	if err != nil || len(acts) != 1 {
		t.Fatalf("%v %+v", err, acts)
	}
	exec := acts[0].InvokeHook.ExecutionID
	for _, tc := range []struct {
		exec, status string
		recorded     HookResult
		want         string
	}{
		{exec, "Succeeded", HookPending, ""},
		{exec, "Failed", HookPending, ""},
		{exec, "InProgress", HookPending, ErrInvalidHookExecutionStatus},
		{"nope", "Succeeded", HookPending, ErrInvalidHookExecutionID},
		{"", "Succeeded", HookPending, ErrInvalidHookExecutionID},
		{exec, "Succeeded", HookFailed, ErrLifecycleEventAlreadyCompleted},
	} {
		got, err := CheckHookReport(d, tc.exec, tc.status, tc.recorded)
		switch {
		case tc.want == "" && (err != nil || got != HookResult(tc.status)):
			t.Errorf("CheckHookReport(%q, %q, %q) = %q, %v", tc.exec, tc.status, tc.recorded, got, err)
		case tc.want != "" && !fault.Is(err, tc.want):
			t.Errorf("CheckHookReport(%q, %q, %q): %v, want %s", tc.exec, tc.status, tc.recorded, err, tc.want)
		}
	}
	o.Hooks[exec] = HookSucceeded
	o.Now = t0.Add(time.Second)
	d, _, err = Decide(d, o, &seqIDs{})
	if err != nil || d.Event(EventBeforeAllowTraffic).Status != EventSucceeded {
		t.Fatalf("%v %+v", err, d.Event(EventBeforeAllowTraffic))
	}
	if _, err := CheckHookReport(d, exec, "Succeeded", HookSucceeded); !fault.Is(err, ErrLifecycleEventAlreadyCompleted) {
		t.Fatalf("report after the event completed: %v", err)
	}
}
