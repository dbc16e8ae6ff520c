package codedeploy

import (
	"fmt"
	"slices"
	"time"
)

// TimelineKind classifies a timeline entry.
type TimelineKind string

// Timeline entry kinds.
const (
	KindCreated       TimelineKind = "created"
	KindQueued        TimelineKind = "queued"
	KindStarted       TimelineKind = "started"
	KindEvent         TimelineKind = "event" // a lifecycle event started, succeeded, failed or was skipped
	KindHookInvoked   TimelineKind = "hookInvoked"
	KindHookSucceeded TimelineKind = "hookSucceeded"
	KindHookFailed    TimelineKind = "hookFailed"
	KindHookTimedOut  TimelineKind = "hookTimedOut"
	// KindHookProblem: something the hook's status alone would not tell went wrong with its run — its invocation
	// failed or was refused, or its status report was denied.
	KindHookProblem   TimelineKind = "hookProblem"
	KindStep          TimelineKind = "step" // the alias is asked to give the target version Weight
	KindAlarm         TimelineKind = "alarm"
	KindStopRequested TimelineKind = "stopRequested"
	KindDrift         TimelineKind = "aliasDrift"
	KindRollback      TimelineKind = "rollback"
	KindSucceeded     TimelineKind = "succeeded"
	KindFailed        TimelineKind = "failed"
	KindStopped       TimelineKind = "stopped"
	KindPrewarmed     TimelineKind = "prewarmed" // the controller started environments of the target ahead of traffic
	// The traffic controls (control.go): who paused, resumed, promoted or skipped a wait, and a control that no
	// longer applied when Decide came to it.
	KindPaused         TimelineKind = "paused"
	KindResumed        TimelineKind = "resumed"
	KindPromoted       TimelineKind = "promoted"
	KindWaitSkipped    TimelineKind = "waitSkipped"
	KindControlIgnored TimelineKind = "controlIgnored"
)

// NotePrewarmed records that the controller pre-warmed n environments of the target version.
func (d *Deployment) NotePrewarmed(now time.Time, n int) {
	d.Prewarmed = true
	d.note(now, KindPrewarmed, "started %d environment(s) of version %s ahead of the first traffic shift", n, d.AppSpec.Resource.TargetVersion)
}

// NoteHookProblem records, once, a problem with the run of the hook execution: on its lifecycle event
// (HookProblems) and in the timeline. It reports whether it recorded anything: a problem already recorded, or one
// about an execution that is not the current invocation of one of the deployment's events, is dropped.
func (d *Deployment) NoteHookProblem(now time.Time, execution, detail string) bool {
	for i := range d.Events {
		ev := &d.Events[i]
		if execution == "" || ev.HookExecutionID != execution {
			continue
		}
		if slices.Contains(ev.HookProblems, detail) {
			return false
		}
		ev.HookProblems = append(ev.HookProblems, detail)
		d.note(now, KindHookProblem, "%s", detail)
		return true
	}
	return false
}

// TimelineEntry is one line of a deployment's history. Decide appends an entry only when something changes, so
// calling it repeatedly with the same observation adds nothing.
type TimelineEntry struct {
	Time   time.Time    `json:"time"`
	Kind   TimelineKind `json:"kind"`
	Detail string       `json:"detail,omitempty"`
	// Weight is the target version's weight for KindStep entries.
	Weight *float64 `json:"weight,omitempty"`
}

func (d *Deployment) note(now time.Time, kind TimelineKind, format string, args ...any) {
	d.Timeline = append(d.Timeline, TimelineEntry{Time: now, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

func (d *Deployment) noteStep(now time.Time, w float64, detail string) {
	d.Timeline = append(d.Timeline, TimelineEntry{Time: now, Kind: KindStep, Detail: detail, Weight: &w})
}
