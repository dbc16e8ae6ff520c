package codedeploy

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

func TestNewDeployment(t *testing.T) {
	cfg, _ := PredefinedConfig(LambdaCanary10Percent5Minutes)
	good := NewDeploymentInput{
		ID: "d-ABCDEFGH1", ApplicationName: "app", DeploymentGroupName: "grp", Config: cfg,
		Revision:     Revision{RevisionType: RevisionAppSpecContent, AppSpecContent: &RawString{Content: docYAML}},
		AutoRollback: AutoRollbackConfiguration{Enabled: true, Events: []AutoRollbackEvent{RollbackOnFailure}},
		Alarms:       AlarmConfiguration{Enabled: true, Alarms: []Alarm{{"errors"}}},
		Now:          t0,
	}
	d, err := NewDeployment(good)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusCreated || d.Creator != CreatorUser || d.AppSpec != docSpec || d.DeploymentConfigName != cfg.Name || d.TrafficRouting != cfg.TrafficRouting {
		t.Fatalf("%+v", d)
	}
	if got := eventStatuses(d); !reflect.DeepEqual(got, []EventStatus{EventPending, EventPending, EventPending, EventPending, EventPending}) {
		t.Fatalf("events %v", got)
	}
	if d.Event(EventBeforeAllowTraffic).Hook != docSpec.Hooks.BeforeAllowTraffic || d.Event(EventAfterAllowTraffic).Hook != docSpec.Hooks.AfterAllowTraffic || d.Event(EventStart).Hook != "" {
		t.Fatal("hooks not attached to their events")
	}
	if len(d.Timeline) != 1 || d.Timeline[0].Kind != KindCreated || d.TargetStatus() != EventPending || d.Overview() != (Overview{Pending: 1}) {
		t.Fatalf("%+v", d.Timeline)
	}

	// The record survives a JSON round trip unchanged (the controller persists it as JSON).
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Deployment
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("round trip: %v\n%s", err, raw)
	}
	if bytes.Contains(raw, []byte("0001-01-01")) {
		t.Fatalf("zero times must be omitted: %s", raw)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*NewDeploymentInput)
		code   string
	}{
		{"bad id", func(in *NewDeploymentInput) { in.ID = "d-abc" }, ErrInvalidDeploymentID},
		{"no revision", func(in *NewDeploymentInput) { in.Revision = Revision{} }, ErrRevisionRequired},
		{"S3 revision", func(in *NewDeploymentInput) { in.Revision = Revision{RevisionType: "S3", S3Location: &S3Location{}} }, ErrInvalidRevision},
		{"server config", func(in *NewDeploymentInput) {
			in.Config = DeploymentConfig{Name: "CodeDeployDefault.OneAtATime", ComputePlatform: "Server"}
		}, ErrInvalidTrafficRoutingConfiguration},
		{"bad routing", func(in *NewDeploymentInput) { in.Config.TrafficRouting.Percentage = 0 }, ErrInvalidTrafficRoutingConfiguration},
		{"rollback without events", func(in *NewDeploymentInput) { in.AutoRollback.Events = nil }, ErrInvalidAutoRollbackConfig},
		{"unknown rollback event", func(in *NewDeploymentInput) { in.AutoRollback.Events = []AutoRollbackEvent{"ON_TUESDAY"} }, ErrInvalidAutoRollbackConfig},
		{"alarms enabled without alarms", func(in *NewDeploymentInput) { in.Alarms.Alarms = nil }, ErrInvalidAlarmConfig},
		{"duplicate alarm", func(in *NewDeploymentInput) { in.Alarms.Alarms = []Alarm{{"a"}, {"a"}} }, ErrInvalidAlarmConfig},
		{"empty alarm name", func(in *NewDeploymentInput) { in.Alarms.Alarms = []Alarm{{""}} }, ErrInvalidAlarmConfig},
		{"long alarm name", func(in *NewDeploymentInput) { in.Alarms.Alarms = []Alarm{{strings.Repeat("a", 256)}} }, ErrInvalidAlarmConfig},
		{"eleven alarms", func(in *NewDeploymentInput) {
			in.Alarms.Alarms = nil
			for i := range 11 {
				in.Alarms.Alarms = append(in.Alarms.Alarms, Alarm{string(rune('a' + i))})
			}
		}, ErrAlarmsLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			in.Alarms.Alarms = append([]Alarm(nil), good.Alarms.Alarms...)
			tc.mutate(&in)
			if _, err := NewDeployment(in); !fault.Is(err, tc.code) {
				t.Fatalf("%v, want %s", err, tc.code)
			}
		})
	}
	t.Run("ten alarms and disabled configs are fine", func(t *testing.T) {
		in := good
		in.Alarms.Alarms = nil
		for i := range 10 {
			in.Alarms.Alarms = append(in.Alarms.Alarms, Alarm{string(rune('a' + i))})
		}
		in.AutoRollback = AutoRollbackConfiguration{}
		in.Creator = CreatorCloudFormation
		d, err := NewDeployment(in)
		if err != nil || d.Creator != CreatorCloudFormation {
			t.Fatal(err)
		}
		if err := (AlarmConfiguration{Alarms: []Alarm{{"x"}}}).Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAutoRollbackCovers(t *testing.T) {
	c := AutoRollbackConfiguration{Enabled: true, Events: []AutoRollbackEvent{RollbackOnAlarm}}
	if !c.Covers(RollbackOnAlarm) || c.Covers(RollbackOnFailure) {
		t.Fatal("covers")
	}
	c.Enabled = false
	if c.Covers(RollbackOnAlarm) {
		t.Fatal("disabled covers")
	}
}

func TestDeploymentIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewDeploymentID(rand.Reader)
		if err != nil || !ValidDeploymentID(id) || seen[id] {
			t.Fatalf("%q %v", id, err)
		}
		seen[id] = true
	}
	// Deterministic: bytes ≥ 252 are skipped, the rest map onto A–Z0–9.
	src := bytes.NewReader(append([]byte{0, 25, 26, 35, 252, 255, 36, 71, 251, 1}, make([]byte, 16)...))
	id, err := NewDeploymentID(src)
	if err != nil || id != "d-AZ09A99BA" {
		t.Fatalf("%q %v", id, err)
	}
	if _, err := NewDeploymentID(iotest.ErrReader(errTest)); err == nil {
		t.Fatal("reader error ignored")
	}
	for id, ok := range map[string]bool{"d-RPCR1U3TW": true, "d-5CGUL6ETM": true, "d-rpcr1u3tw": false, "d-RPCR1U3T": false, "x-RPCR1U3TW": false, "d-RPCR1U3TWX": false, "d-RPCR-U3TW": false} {
		if ValidDeploymentID(id) != ok {
			t.Errorf("ValidDeploymentID(%q) != %v", id, ok)
		}
	}
	if err := CheckDeploymentID(""); !fault.Is(err, ErrDeploymentIDRequired) {
		t.Fatal(err)
	}
	if err := CheckDeploymentID("d-bad"); !fault.Is(err, ErrInvalidDeploymentID) {
		t.Fatal(err)
	}
	if err := CheckDeploymentID("d-RPCR1U3TW"); err != nil {
		t.Fatal(err)
	}
	h1, err1 := NewHookExecutionID(rand.Reader)
	h2, err2 := RandomIDs{Rand: rand.Reader}.HookExecutionID()
	if err1 != nil || err2 != nil || h1 == h2 || len(h1) != 43 || strings.ContainsAny(h1, "+/=\"") {
		t.Fatalf("%q %q", h1, h2)
	}
	if _, err := (RandomIDs{Rand: iotest.ErrReader(errTest)}).HookExecutionID(); err == nil {
		t.Fatal("reader error ignored")
	}
	if id, err := (RandomIDs{Rand: rand.Reader}).DeploymentID(); err != nil || !ValidDeploymentID(id) {
		t.Fatal(id, err)
	}
}

func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		err  *fault.Error
		code string
		msg  string
	}{
		{ApplicationDoesNotExist("app"), "ApplicationDoesNotExistException", "No application found for name: app"},
		{DeploymentGroupDoesNotExist("grp"), "DeploymentGroupDoesNotExistException", "No Deployment Group found for name: grp"},
		{DeploymentConfigDoesNotExist("c"), "DeploymentConfigDoesNotExistException", "No deployment configuration found for name: c"},
		{DeploymentDoesNotExist("d-RPCR1U3TW"), "DeploymentDoesNotExistException", "The deployment d-RPCR1U3TW could not be found."},
	} {
		if tc.err.Code != tc.code || tc.err.Message != tc.msg {
			t.Errorf("%+v", tc.err)
		}
	}
}

func TestTargetStatusOfStoppedDeployment(t *testing.T) {
	d := newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes})
	w := newWorld("1")
	d = run(t, d, w, time.Minute, 2*time.Minute, 1, &seqIDs{}, nil)
	d, _, _, _ = RequestStop(d, nil, t0.Add(2*time.Minute))
	d = settle(t, d, w, t0.Add(2*time.Minute), 1, &seqIDs{})
	if d.TargetStatus() != EventFailed || d.Overview() != (Overview{Failed: 1}) {
		t.Fatalf("%s", d.TargetStatus())
	}
}
