package codedeploy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/fault"
)

// shiftAt is an alias change seen by the simulated world: when, and the target version's weight.
type shiftAt struct {
	At     time.Duration
	Weight float64
}

// scripted is something that happens to the world at an offset from t0 (a control accepted, an alarm, a hook's
// report).
type scripted struct {
	at time.Duration
	do func(w *world)
}

func control(kind ControlKind, at time.Duration) scripted {
	return scripted{at, func(w *world) {
		w.controls = append(w.controls, TrafficControl{Kind: kind, By: "arn:aws:iam::000000000000:user/ops", RequestedAt: t0.Add(at)})
	}}
}

// runScript drives d every tick, letting each scripted happening occur at its time, and returns the final record
// with the alias changes (time, target weight) the world saw.
func runScript(t *testing.T, d Deployment, w *world, tick, limit time.Duration, script []scripted) (Deployment, []shiftAt) {
	t.Helper()
	var shifts []shiftAt
	seen := 0
	next := 0
	for now := t0; now.Sub(t0) <= limit; now = now.Add(tick) {
		for next < len(script) && !t0.Add(script[next].at).After(now) {
			script[next].do(w)
			next++
		}
		d = settle(t, d, w, now, 1, &seqIDs{})
		for ; seen < len(w.aliasHistory); seen++ {
			a := w.aliasHistory[seen]
			wt := a.AdditionalVersionWeights["2"]
			if a.FunctionVersion == "2" {
				wt = 1
			}
			shifts = append(shifts, shiftAt{now.Sub(t0), wt})
		}
		if d.Status.Terminal() && next == len(script) {
			break
		}
	}
	return d, shifts
}

func kinds(d Deployment) []TimelineKind {
	var out []TimelineKind
	for _, e := range d.Timeline {
		switch e.Kind {
		case KindPaused, KindResumed, KindPromoted, KindWaitSkipped, KindControlIgnored, KindRollback, KindStopped, KindSucceeded:
			out = append(out, e.Kind)
		}
	}
	return out
}

func TestTrafficControlsMoveTheSchedule(t *testing.T) {
	const never = HookResult("")
	cases := []struct {
		name   string
		spec   spec
		pre    HookResult // what the pre-traffic hook reports when invoked
		script []scripted
		status Status
		shifts []shiftAt
		kinds  []TimelineKind
		check  func(t *testing.T, d Deployment, w *world)
	}{{
		name: "pause holds the weight; resume counts the step's remaining wait from the resume",
		spec: spec{config: LambdaLinear10PercentEvery1Minute},
		script: []scripted{
			control(ControlPause, 30*time.Second),
			control(ControlResume, 5*time.Minute),
		},
		status: StatusSucceeded,
		// 10 % at 0; paused at 30 s with 30 s of the first minute left; resumed at 5 min → 20 % at 5 min 30 s.
		shifts: func() []shiftAt {
			out := []shiftAt{{0, 0.1}}
			for k := 1; k < 10; k++ {
				out = append(out, shiftAt{5*time.Minute + 30*time.Second + time.Duration(k-1)*time.Minute, PercentWeight(min(100, (k+1)*10))})
			}
			return out
		}(),
		kinds: []TimelineKind{KindPaused, KindResumed, KindSucceeded},
	}, {
		name:   "skip takes the next step at once",
		spec:   spec{config: LambdaCanary10Percent5Minutes},
		script: []scripted{control(ControlSkipWait, 20*time.Second)},
		status: StatusSucceeded,
		shifts: []shiftAt{{0, 0.1}, {20 * time.Second, 1}},
		kinds:  []TimelineKind{KindWaitSkipped, KindSucceeded},
	}, {
		name: "skip while paused moves the held step; the wait of the new step starts at the resume",
		spec: spec{config: LambdaLinear10PercentEvery1Minute},
		script: []scripted{
			control(ControlPause, 10*time.Second),
			control(ControlSkipWait, 20*time.Second),
			control(ControlResume, 2*time.Minute),
			control(ControlPromote, 3*time.Minute+30*time.Second),
		},
		status: StatusSucceeded,
		shifts: []shiftAt{{0, 0.1}, {20 * time.Second, 0.2}, {3 * time.Minute, 0.3}, {3*time.Minute + 30*time.Second, 1}},
		kinds:  []TimelineKind{KindPaused, KindWaitSkipped, KindResumed, KindPromoted, KindSucceeded},
	}, {
		name:   "promote goes to 100 % and the post-traffic hook still runs",
		spec:   spec{config: LambdaCanary10Percent5Minutes, post: "CodeDeployHook_post"},
		script: []scripted{control(ControlPromote, 10*time.Second)},
		status: StatusSucceeded,
		shifts: []shiftAt{{0, 0.1}, {10 * time.Second, 1}},
		kinds:  []TimelineKind{KindPromoted, KindSucceeded},
		check: func(t *testing.T, d Deployment, w *world) {
			if len(w.invoked) != 1 || w.invoked[0].Event != EventAfterAllowTraffic {
				t.Fatalf("hooks invoked %+v, want the post-traffic hook", w.invoked)
			}
		},
	}, {
		name: "promote while the pre-traffic hook runs waits for it, then shifts everything at once",
		spec: spec{config: LambdaCanary10Percent5Minutes, pre: "CodeDeployHook_pre"},
		pre:  never,
		script: []scripted{
			control(ControlPromote, 5*time.Second),
			{30 * time.Second, func(w *world) { w.reportAll(HookSucceeded) }},
		},
		status: StatusSucceeded,
		shifts: []shiftAt{{30 * time.Second, 1}},
		kinds:  []TimelineKind{KindPromoted, KindSucceeded},
	}, {
		name: "a pause during the pre-traffic hook lets the hook finish and shifts nothing until the resume",
		spec: spec{config: LambdaCanary10Percent5Minutes, pre: "CodeDeployHook_pre"},
		pre:  never,
		script: []scripted{
			control(ControlPause, 5*time.Second),
			{time.Minute, func(w *world) { w.reportAll(HookSucceeded) }},
			control(ControlResume, 2*time.Minute),
		},
		status: StatusSucceeded,
		shifts: []shiftAt{{2 * time.Minute, 0.1}, {7 * time.Minute, 1}},
		kinds:  []TimelineKind{KindPaused, KindResumed, KindSucceeded},
		check: func(t *testing.T, d Deployment, w *world) {
			if ev := d.Event(EventBeforeAllowTraffic); ev.Status != EventSucceeded || !ev.EndTime.Equal(t0.Add(time.Minute)) {
				t.Fatalf("pre-traffic hook %+v, want succeeded at 1 min", ev)
			}
		},
	}, {
		name: "an alarm still rolls back a paused deployment",
		spec: spec{config: LambdaLinear10PercentEvery1Minute, alarms: []string{"errors"}, events: allRollbackEvents},
		script: []scripted{
			control(ControlPause, 30*time.Second),
			{2 * time.Minute, func(w *world) { w.alarms = []string{"errors"} }},
		},
		status: StatusStopped,
		shifts: []shiftAt{{0, 0.1}, {2 * time.Minute, 0}},
		kinds:  []TimelineKind{KindPaused, KindStopped, KindRollback},
		check: func(t *testing.T, d Deployment, w *world) {
			if codeOf(d) != CodeAlarmActive || d.Hold != nil || len(w.rollbacks) != 1 || d.StatusMessages() != nil {
				t.Fatalf("code %s hold %+v rollbacks %d messages %q", codeOf(d), d.Hold, len(w.rollbacks), d.StatusMessages())
			}
		},
	}, {
		name: "a stop ends a paused deployment",
		spec: spec{config: LambdaCanary10Percent5Minutes},
		script: []scripted{
			control(ControlPause, 30*time.Second),
			{time.Minute, func(w *world) { w.stop = &StopRequest{RequestedAt: t0.Add(time.Minute)} }},
		},
		status: StatusStopped,
		shifts: []shiftAt{{0, 0.1}},
		kinds:  []TimelineKind{KindPaused, KindStopped},
	}, {
		name: "controls that no longer fit when applied are noted as ignored",
		spec: spec{config: LambdaCanary10Percent5Minutes},
		script: []scripted{
			control(ControlResume, 10*time.Second), // accepted against a pause nobody made: CheckControl refuses it; Decide must not trust it
			control(ControlSkipWait, 20*time.Second),
			control(ControlSkipWait, 20*time.Second), // applied in the same pass, after the first reached the last step
		},
		status: StatusSucceeded,
		shifts: []shiftAt{{0, 0.1}, {20 * time.Second, 1}},
		kinds:  []TimelineKind{KindControlIgnored, KindWaitSkipped, KindControlIgnored, KindSucceeded},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld("1")
			w.hookReply["CodeDeployHook_post"] = HookSucceeded
			if tc.spec.pre != "" {
				w.hookReply[tc.spec.pre] = tc.pre
			}
			d, shifts := runScript(t, newTestDeployment(t, tc.spec), w, time.Second, 20*time.Minute, tc.script)
			if d.Status != tc.status {
				t.Fatalf("status %s %+v, want %s", d.Status, d.ErrorInformation, tc.status)
			}
			if !reflect.DeepEqual(shifts, tc.shifts) {
				t.Fatalf("alias shifts\n got %v\nwant %v", shifts, tc.shifts)
			}
			if got := kinds(d); !reflect.DeepEqual(got, tc.kinds) {
				t.Fatalf("timeline kinds %v, want %v", got, tc.kinds)
			}
			for _, e := range d.Timeline {
				if e.Kind == KindPaused || e.Kind == KindResumed || e.Kind == KindPromoted || e.Kind == KindWaitSkipped {
					if !strings.Contains(e.Detail, "arn:aws:iam::000000000000:user/ops") {
						t.Fatalf("timeline entry %q does not say who", e.Detail)
					}
				}
			}
			for i := 1; i < len(d.Timeline); i++ {
				if d.Timeline[i].Time.Before(d.Timeline[i-1].Time) {
					t.Fatalf("timeline out of order at %d: %+v", i, d.Timeline)
				}
			}
			if tc.check != nil {
				tc.check(t, d, w)
			}
		})
	}
}

// reportAll reports result for every dispatched hook execution that has not reported.
func (w *world) reportAll(result HookResult) {
	for id, r := range w.hooks {
		if r == HookPending {
			w.hooks[id] = result
		}
	}
}

func TestPausedDeploymentSaysSo(t *testing.T) {
	w := newWorld("1")
	d, _ := runScript(t, newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes}), w, time.Second, time.Minute,
		[]scripted{control(ControlPause, 30*time.Second)})
	if d.Status != StatusInProgress || d.Hold == nil || !d.WakeAt.IsZero() || d.TargetWeight != 0.1 {
		t.Fatalf("status %s hold %+v wake %v weight %v", d.Status, d.Hold, d.WakeAt, d.TargetWeight)
	}
	msgs := d.StatusMessages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "Paused by arn:aws:iam::000000000000:user/ops") || !strings.Contains(msgs[0], "holds 10% of its traffic on version 2") {
		t.Fatalf("status messages %q", msgs)
	}
	// Decided again and again while paused, it changes nothing (settle checks the fixed point at every tick).
	before := len(w.aliasHistory)
	again, _ := runScript(t, d, w, time.Minute, 30*time.Minute, nil)
	if again.Status != StatusInProgress || len(w.aliasHistory) != before {
		t.Fatalf("a paused deployment moved: %s %v", again.Status, w.aliasHistory[before:])
	}
}

func TestCheckControl(t *testing.T) {
	canary := func(mut func(d *Deployment)) Deployment {
		d := newTestDeployment(t, spec{config: LambdaLinear10PercentEvery1Minute})
		d.Status = StatusInProgress
		d.Events[0].Status = EventSucceeded
		d.Events[1].Status = EventSkipped
		d.Events[2].Status = EventInProgress
		d.TargetWeight = 0.1
		if mut != nil {
			mut(&d)
		}
		return d
	}
	ctl := func(kinds ...ControlKind) []TrafficControl {
		out := make([]TrafficControl, len(kinds))
		for i, k := range kinds {
			out[i] = TrafficControl{Kind: k, RequestedAt: t0}
		}
		return out
	}
	many := make([]TrafficControl, MaxTrafficControls)
	for i := range many {
		many[i] = TrafficControl{Kind: []ControlKind{ControlPause, ControlResume}[i%2]}
	}
	cases := []struct {
		name string
		d    Deployment
		all  []TrafficControl
		kind ControlKind
		code string // "" means accepted
		msg  string
	}{
		{"pause a shifting deployment", canary(nil), nil, ControlPause, "", ""},
		{"pause a deployment not started yet", newTestDeployment(t, spec{config: LambdaCanary10Percent5Minutes}), nil, ControlPause, "", ""},
		{"pause twice", canary(nil), ctl(ControlPause), ControlPause, ErrInvalidDeploymentStatus, "is already paused"},
		{"pause a paused record", canary(func(d *Deployment) { d.Hold = &Hold{Since: t0} }), nil, ControlPause, ErrInvalidDeploymentStatus, "is already paused"},
		{"pause after resume", canary(nil), ctl(ControlPause, ControlResume), ControlPause, "", ""},
		{"pause once all traffic moved", canary(func(d *Deployment) { d.Events[2].Status = EventSucceeded; d.Events[3].Status = EventInProgress }),
			nil, ControlPause, ErrInvalidDeploymentStatus, "already shifted all traffic to version 2"},
		{"pause while promoted", canary(nil), ctl(ControlPromote), ControlPause, ErrInvalidDeploymentStatus, "is being promoted"},
		{"resume what is not paused", canary(nil), nil, ControlResume, ErrInvalidDeploymentStatus, "is not paused"},
		{"resume a pending pause", canary(nil), ctl(ControlPause), ControlResume, "", ""},
		{"resume after an applied pause", canary(func(d *Deployment) { d.Hold = &Hold{Since: t0}; d.ControlsApplied = 1 }), ctl(ControlPause), ControlResume, "", ""},
		{"promote unpauses", canary(nil), ctl(ControlPause, ControlPromote), ControlResume, ErrInvalidDeploymentStatus, "is not paused"},
		{"promote", canary(nil), nil, ControlPromote, "", ""},
		{"promote twice", canary(nil), ctl(ControlPromote), ControlPromote, ErrInvalidDeploymentStatus, "already being promoted"},
		{"promote before the pre-traffic hook ends", canary(func(d *Deployment) {
			d.Events[1].Status = EventInProgress
			d.Events[2].Status = EventPending
			d.TargetWeight = 0
		}),
			nil, ControlPromote, "", ""},
		{"skip", canary(nil), nil, ControlSkipWait, "", ""},
		{"skip to the last step", canary(func(d *Deployment) { d.TargetWeight = 0.9 }), nil, ControlSkipWait, "", ""},
		{"skip past the last step", canary(func(d *Deployment) { d.TargetWeight = 0.9 }), ctl(ControlSkipWait), ControlSkipWait, ErrInvalidDeploymentStatus, "at its last traffic step (100% on version 2)"},
		{"skip at 100 %", canary(func(d *Deployment) { d.TargetWeight = 1 }), nil, ControlSkipWait, ErrInvalidDeploymentStatus, "at its last traffic step"},
		{"skip before traffic moves", canary(func(d *Deployment) {
			d.Events[1].Status = EventInProgress
			d.Events[2].Status = EventPending
			d.TargetWeight = 0
		}),
			nil, ControlSkipWait, ErrInvalidDeploymentStatus, "its BeforeAllowTraffic lifecycle event has not finished"},
		{"skip while promoted", canary(nil), ctl(ControlPromote), ControlSkipWait, ErrInvalidDeploymentStatus, "is being promoted"},
		{"completed", canary(func(d *Deployment) { d.Status = StatusSucceeded }), nil, ControlResume, ErrDeploymentAlreadyCompleted, "Deployment d-ABCDEFGH1 has already completed."},
		{"stopped by an alarm", canary(func(d *Deployment) { d.Status = StatusStopped }), ctl(ControlPause), ControlResume, ErrDeploymentAlreadyCompleted, "has already completed"},
		{"a rollback deployment", canary(func(d *Deployment) { d.Creator = CreatorCodeDeployRollback }), nil, ControlPause, ErrUnsupportedActionForType, "is a rollback deployment"},
		{"too many", canary(nil), many, ControlPause, ErrTrafficControlLimitExceeded, fmt.Sprintf("maximum of %d", MaxTrafficControls)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckControl(tc.d, tc.all, tc.kind)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			f, ok := fault.As(err)
			if !ok || f.Code != tc.code || !strings.Contains(f.Message, tc.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}
