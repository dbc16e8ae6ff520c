package codedeploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// seqIDs is a deterministic IDSource.
type seqIDs struct{ deployments, hooks int }

func (s *seqIDs) DeploymentID() (string, error) {
	s.deployments++
	return fmt.Sprintf("d-RB%07d", s.deployments), nil
}

func (s *seqIDs) HookExecutionID() (string, error) {
	s.hooks++
	return fmt.Sprintf("hook-%d", s.hooks), nil
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// world is a simulated Lambda alias, hook runner, alarm set and deployment store.
type world struct {
	alias         AliasState
	aliasMissing  bool
	targetMissing bool
	// hooks maps dispatched executions to their reports.
	hooks map[string]HookResult
	// hookReply decides what a hook function reports when invoked ("" = never reports).
	hookReply map[string]HookResult
	alarms    []string
	pollFail  bool
	stop      *StopRequest
	controls  []TrafficControl // accepted traffic controls, oldest first

	aliasHistory []AliasState   // every alias state set, in order
	invoked      []InvokeHook   // every hook invocation, in order
	rollbacks    []Deployment   // rollback records created
	stored       map[string]int // StartRollback count per id
}

func newWorld(version string) *world {
	return &world{
		alias:     AliasState{FunctionVersion: version},
		hooks:     map[string]HookResult{},
		hookReply: map[string]HookResult{},
		stored:    map[string]int{},
	}
}

func (w *world) observe(now time.Time, scale float64) Observe {
	hooks := make(map[string]HookResult, len(w.hooks))
	for k, v := range w.hooks {
		hooks[k] = v
	}
	alias := AliasState{FunctionVersion: w.alias.FunctionVersion}
	if len(w.alias.AdditionalVersionWeights) > 0 {
		alias.AdditionalVersionWeights = map[string]float64{}
		for k, v := range w.alias.AdditionalVersionWeights {
			alias.AdditionalVersionWeights[k] = v
		}
	}
	return Observe{
		Now: now, TimeScale: scale, Alias: alias,
		AliasMissing: w.aliasMissing, TargetVersionMissing: w.targetMissing,
		AlarmsInAlarm: append([]string(nil), w.alarms...), AlarmPollFailed: w.pollFail,
		Hooks: hooks, StopRequested: w.stop, Controls: append([]TrafficControl(nil), w.controls...),
	}
}

// apply performs actions: the alias update, the (asynchronous) hook invocation, the rollback record's storage.
func (w *world) apply(t *testing.T, actions []Action) {
	t.Helper()
	for _, a := range actions {
		switch a.Type {
		case ActionSetAlias:
			st := a.SetAlias.AliasState
			if st.FunctionVersion == "" || st.FunctionVersion == "$LATEST" {
				t.Fatalf("alias set to unpublished version: %+v", st)
			}
			for v, wt := range st.AdditionalVersionWeights {
				if wt <= 0 || wt >= 1 || v == st.FunctionVersion {
					t.Fatalf("invalid routing %+v", st)
				}
			}
			w.alias = st
			w.aliasHistory = append(w.aliasHistory, st)
		case ActionInvokeHook:
			h := *a.InvokeHook
			var p struct{ DeploymentId, LifecycleEventHookExecutionId string }
			if err := json.Unmarshal(h.Payload(), &p); err != nil || p.DeploymentId != h.DeploymentID || p.LifecycleEventHookExecutionId != h.ExecutionID {
				t.Fatalf("bad payload %s", h.Payload())
			}
			w.invoked = append(w.invoked, h)
			w.hooks[h.ExecutionID] = w.hookReply[h.FunctionName]
		case ActionStartRollback:
			w.stored[a.Rollback.ID]++
			if w.stored[a.Rollback.ID] == 1 {
				w.rollbacks = append(w.rollbacks, *a.Rollback)
			}
		default:
			t.Fatalf("unknown action %+v", a)
		}
	}
}

// settle calls Decide at one instant until it asks for nothing more, applying the actions each time. It checks
// that no action is ever asked for twice and that the fixed point is stable (Decide there returns the same record
// and no action).
func settle(t *testing.T, d Deployment, w *world, now time.Time, scale float64, ids IDSource) Deployment {
	t.Helper()
	seen := map[string]bool{}
	for range 20 {
		o := w.observe(now, scale)
		next, actions, err := Decide(d, o, ids)
		if err != nil {
			t.Fatalf("Decide at %s: %v", now.Sub(t0), err)
		}
		if len(actions) == 0 {
			again, more, err := Decide(next, w.observe(now, scale), ids)
			if err != nil || len(more) > 0 || !reflect.DeepEqual(again, next) {
				t.Fatalf("not idempotent at %s: %v %+v", now.Sub(t0), err, more)
			}
			return next
		}
		for _, a := range actions {
			key := actionKey(a)
			if seen[key] {
				t.Fatalf("duplicate action at %s: %s", now.Sub(t0), key)
			}
			seen[key] = true
		}
		w.apply(t, actions)
		d = next
	}
	t.Fatalf("Decide did not settle at %s", now.Sub(t0))
	return d
}

func actionKey(a Action) string {
	switch a.Type {
	case ActionSetAlias:
		return fmt.Sprintf("alias %s %v", a.SetAlias.FunctionVersion, a.SetAlias.AdditionalVersionWeights)
	case ActionInvokeHook:
		return "hook " + a.InvokeHook.ExecutionID
	case ActionStartRollback:
		return "rollback " + a.Rollback.ID
	}
	return string(a.Type)
}

// run drives d from start every tick until it is terminal (or until the limit), returning the final record.
func run(t *testing.T, d Deployment, w *world, tick time.Duration, limit time.Duration, scale float64, ids IDSource, each func(now time.Time, d Deployment)) Deployment {
	t.Helper()
	for now := t0; now.Sub(t0) <= limit; now = now.Add(tick) {
		d = settle(t, d, w, now, scale, ids)
		if each != nil {
			each(now, d)
		}
		if d.Status.Terminal() {
			return d
		}
	}
	return d
}

// runRollbacks drives every rollback record the world holds to completion.
func runRollbacks(t *testing.T, w *world, ids IDSource) []Deployment {
	t.Helper()
	var out []Deployment
	for _, r := range w.rollbacks {
		out = append(out, run(t, r, w, time.Second, time.Minute, 1, ids, nil))
	}
	return out
}

type spec struct {
	config  string
	current string
	target  string
	pre     string
	post    string
	alarms  []string
	ignore  bool
	events  []AutoRollbackEvent
}

func newTestDeployment(t *testing.T, s spec) Deployment {
	t.Helper()
	if s.current == "" {
		s.current = "1"
	}
	if s.target == "" {
		s.target = "2"
	}
	content := fmt.Sprintf("version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: orders\n        Alias: live\n        CurrentVersion: %q\n        TargetVersion: %q\n", s.current, s.target)
	if s.pre != "" || s.post != "" {
		content += "Hooks:\n"
		if s.pre != "" {
			content += "  - BeforeAllowTraffic: " + s.pre + "\n"
		}
		if s.post != "" {
			content += "  - AfterAllowTraffic: " + s.post + "\n"
		}
	}
	cfg, err := ResolveConfig(s.config, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := NewDeploymentInput{
		ID: "d-ABCDEFGH1", ApplicationName: "app", DeploymentGroupName: "group", Config: cfg,
		Revision: Revision{RevisionType: RevisionAppSpecContent, AppSpecContent: &RawString{Content: content}},
		Now:      t0,
	}
	if len(s.events) > 0 {
		in.AutoRollback = AutoRollbackConfiguration{Enabled: true, Events: s.events}
	}
	if len(s.alarms) > 0 {
		in.Alarms = AlarmConfiguration{Enabled: true, IgnorePollAlarmFailure: s.ignore}
		for _, a := range s.alarms {
			in.Alarms.Alarms = append(in.Alarms.Alarms, Alarm{Name: a})
		}
	}
	d, err := NewDeployment(in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var allRollbackEvents = []AutoRollbackEvent{RollbackOnFailure, RollbackOnAlarm, RollbackOnStopRequested}

func eventStatuses(d Deployment) []EventStatus {
	out := make([]EventStatus, len(d.Events))
	for i, e := range d.Events {
		out[i] = e.Status
	}
	return out
}

func alias(v string, weights ...any) AliasState {
	a := AliasState{FunctionVersion: v}
	for i := 0; i+1 < len(weights); i += 2 {
		if a.AdditionalVersionWeights == nil {
			a.AdditionalVersionWeights = map[string]float64{}
		}
		a.AdditionalVersionWeights[weights[i].(string)] = weights[i+1].(float64)
	}
	return a
}
